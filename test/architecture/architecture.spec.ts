import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/**
 * The shape of src/, checked on every `npm test` (issue 13): no import cycle between modules,
 * only repositories reach the ORM, no global module but the configuration, no oversized file
 * without a reason. Reads the source as text and the TypeScript import graph; runs in well under a
 * second.
 */
const SRC = resolve(__dirname, '..', '..', 'src');
/** Longer files say why in their first comment, with this phrase. */
const LONG_FILE_MARK = 'Longer than 400 lines because';
const MAX_LINES = 400;

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const FILES = sourceFiles();
const rel = (file: string) => relative(SRC, file).split(sep).join('/');

/**
 * A file's module: the nearest folder (up to src/) holding a `*.module.ts` — a Nest module and its
 * files — else its top-level folder (`common`, `http`); files directly in src/ are the application
 * itself ("(root)"), which may import anything and which nothing imports.
 */
function moduleOf(file: string): string {
  for (let dir = dirname(file); dir.startsWith(SRC) && dir !== SRC; dir = dirname(dir)) {
    if (readdirSync(dir).some((name) => name.endsWith('.module.ts'))) return rel(dir);
  }
  const [top, ...rest] = rel(file).split('/');
  return rest.length ? top : '(root)';
}

/** Imports that exist at run time (a type-only import is not a dependency between modules). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const targets: string[] = [];
  for (const statement of source.statements) {
    const isImport = ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly;
    const isExport = ts.isExportDeclaration(statement) && !statement.isTypeOnly;
    if (!isImport && !isExport) continue;
    const specifier = (statement as ts.ImportDeclaration | ts.ExportDeclaration).moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const target = resolve(dirname(file), specifier.text);
    const found = [`${target}.ts`, join(target, 'index.ts')].find((candidate) => existsSync(candidate));
    if (found) targets.push(found);
  }
  return targets;
}

/** module → module → the file-level imports behind the edge. */
function moduleGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of FILES) {
    const from = moduleOf(file);
    const edges = graph.get(from) ?? new Map<string, string[]>();
    graph.set(from, edges);
    for (const target of runtimeImports(file)) {
      const to = moduleOf(target);
      if (to !== from) edges.set(to, [...(edges.get(to) ?? []), `${rel(file)} → ${rel(target)}`]);
    }
  }
  return graph;
}

/** Strongly connected components of more than one module (Tarjan): every import cycle. */
function cycles(graph: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('architecture of src/', () => {
  it('has no import cycle between modules', () => {
    const graph = moduleGraph();
    const described = cycles(graph).map((component) =>
      component.flatMap((from) => component.filter((to) => graph.get(from)?.has(to)).map((to) => `${from} → ${to}: ${graph.get(from)!.get(to)!.join(', ')}`)),
    );
    expect(described).toEqual([]);
  });

  it('nothing imports the application root', () => {
    const importers = FILES.filter((file) => moduleOf(file) !== '(root)' && runtimeImports(file).some((target) => moduleOf(target) === '(root)'));
    expect(importers.map(rel)).toEqual([]);
  });

  it('only repositories reach the ORM: no EntityManager elsewhere', () => {
    const outside = FILES.filter((file) => /\bEntityManager\b/.test(readFileSync(file, 'utf8')) && !/(^|\/)[\w-]+\.repository\.ts$|^database\/repository\.ts$/.test(rel(file)));
    expect(outside.map(rel)).toEqual([]);
  });

  it('no module is global but the configuration', () => {
    const global = FILES.filter((file) => /@Global\(\)|\bglobal:\s*true\b/.test(readFileSync(file, 'utf8')));
    expect(global.map(rel)).toEqual(['config/config.module.ts']);
  });

  it(`no file is longer than ${MAX_LINES} lines without saying why in its header`, () => {
    const long = FILES.filter((file) => {
      const text = readFileSync(file, 'utf8');
      return text.split('\n').length > MAX_LINES && !text.slice(0, 2000).includes(LONG_FILE_MARK);
    });
    expect(long.map(rel)).toEqual([]);
  });
});
