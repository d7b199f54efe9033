import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');

/** Node.js flags of an API process, as docker-compose.yml's api service runs it (checked by test/packaging). */
export const API_NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * Compiles the connector exactly as `npm run build` does (tsconfig.build.json, then the assets
 * nest-cli.json lists) into `outDir`, and returns the path of its `main.js`. A private build rather
 * than `dist/`: another suite running `npm run build` at the same time (the demo's test does) would
 * delete `dist/` under processes started from it.
 */
export function buildConnector(outDir: string): { main: string; cli: string } {
  mkdirSync(outDir, { recursive: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const pattern of nestAssets()) copyMatching(pattern, outDir);
  const main = join(outDir, 'main.js');
  if (!existsSync(main)) throw new Error(`the build wrote no ${main}`);
  return { main, cli: join(outDir, 'cli.js') };
}

/** The `include` globs of nest-cli.json's assets (relative to src/). */
function nestAssets(): string[] {
  const config = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
    compilerOptions?: { assets?: Array<string | { include: string }> };
  };
  return (config.compilerOptions?.assets ?? []).map((asset) => (typeof asset === 'string' ? asset : asset.include));
}

/** Copies the files under src/ matching a glob of `*` and `**` segments, keeping their paths. */
function copyMatching(pattern: string, outDir: string): void {
  const source = join(ROOT, 'src');
  const matcher = globToRegExp(pattern);
  for (const file of walk(source)) {
    const path = relative(source, file).split(sep).join('/');
    if (!matcher.test(path)) continue;
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    cpSync(file, join(outDir, path));
  }
}

export function globToRegExp(glob: string): RegExp {
  let pattern = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      pattern += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') pattern += '[^/]*';
    else pattern += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`);
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}
