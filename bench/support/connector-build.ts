import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Compiles src/ as `npm run build` does (templates, WSDLs, console views and assets included) into a
 * temporary directory, so a benchmark measures the connector as production runs it: plain node on
 * compiled JavaScript, without ts-node's compiler in memory. Resolve packages with
 * `NODE_PATH=<repository>/node_modules` when running it.
 */
export function buildConnector(): string {
  const dir = mkdtempSync(join(tmpdir(), 'connector-bench-'));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dir], { cwd: ROOT, stdio: 'inherit' });
  cpSync(join(ROOT, 'src', 'notifications', 'templates'), join(dir, 'notifications', 'templates'), { recursive: true });
  cpSync(join(ROOT, 'src', 'spectrum', 'client', 'wsdl'), join(dir, 'spectrum', 'client', 'wsdl'), { recursive: true });
  // The console's pages and assets (nest-cli.json copies them in `npm run build`).
  cpSync(join(ROOT, 'src', 'console', 'views'), join(dir, 'console', 'views'), { recursive: true });
  cpSync(join(ROOT, 'src', 'console', 'assets'), join(dir, 'console', 'assets'), { recursive: true });
  return dir;
}

/** The repository's node_modules, for NODE_PATH. */
export const REPOSITORY_NODE_MODULES = join(ROOT, 'node_modules');
