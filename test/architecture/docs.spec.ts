import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { arrowsOf, stateDiagram } from './state-diagram';

/**
 * The documentation in docs/ stays true to the code: the state diagram of docs/architecture.md is
 * the transitions table, every file and class the docs name exists, the README links the docs, and
 * no comment in src/ or test/ points to a document outside the repository.
 */
const ROOT = resolve(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DOCS = ['docs/architecture.md', 'docs/procore.md', 'docs/spectrum.md', 'docs/spectrum-reads.md'];

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path);
    return [path];
  });
}

const CODE_FILES = [...filesUnder('src'), ...filesUnder('test'), ...filesUnder('bench')].filter((file) => /\.(ts|js|hbs|md)$/.test(file));
const SOURCE_TEXT = CODE_FILES.filter((file) => file.endsWith('.ts')).map(read).join('\n');
const BASENAMES = new Set(CODE_FILES.map((file) => basename(file)));

/** `code` spans of a Markdown text (fenced blocks left out). */
function codeSpans(markdown: string): string[] {
  const withoutFences = markdown.replace(/```[\s\S]*?```/g, '');
  return [...withoutFences.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]);
}

describe('docs/architecture.md', () => {
  const text = read('docs/architecture.md');

  it('draws the state machine exactly as the transitions table declares it (print it: npx ts-node --transpile-only test/architecture/state-diagram.ts)', () => {
    const block = /```mermaid\n([\s\S]*?)\n```/.exec(text);
    expect(block).not.toBeNull();
    const drawn = arrowsOf(block![1]);
    const declared = arrowsOf(stateDiagram());
    expect({ missingFromDiagram: declared.filter((a) => !drawn.includes(a)), notInTable: drawn.filter((a) => !declared.includes(a)) }).toEqual({
      missingFromDiagram: [],
      notInTable: [],
    });
    expect(block![1]).toBe(stateDiagram());
  });

  it('names only classes, functions and constants that exist in the code', () => {
    const identifiers = codeSpans(text)
      .map((span) => span.replace(/\(.*$/, ''))
      .filter((span) => /^[A-Za-z_][\w.]*$/.test(span))
      .flatMap((span) => span.split('.'))
      .filter((name) => /[A-Z]/.test(name) && /[a-z]/.test(name) && name.length > 2);
    const missing = [...new Set(identifiers)].filter((name) => !new RegExp(`\\b${name}\\b`).test(SOURCE_TEXT));
    expect(missing).toEqual([]);
  });
});

describe.each(DOCS)('%s', (doc) => {
  const spans = codeSpans(read(doc));

  it('names only files and folders that exist', () => {
    // URL paths (`/api/docs/openapi.json`) are routes, not files.
    const paths = spans.filter((span) => !span.startsWith('/') && /^[\w./-]+$/.test(span) && (/\/$/.test(span) || /\.(ts|md|hbs|json|yaml|example|wsdl)$/.test(span)));
    const missing = paths.filter((path) => {
      const clean = path.replace(/^\.\.\//, '');
      if (!clean.includes('/')) return !BASENAMES.has(clean) && !existsSync(join(ROOT, clean));
      // A path may be written from the repository's root, from src/, or inside a module's folder.
      if ([ROOT, join(ROOT, 'src'), join(ROOT, 'docs')].some((base) => existsSync(join(base, clean)))) return false;
      return !CODE_FILES.some((file) => file.includes(`/${clean}`));
    });
    expect(missing).toEqual([]);
  });

  it('links only to documents that exist', () => {
    const links = [...read(doc).matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((match) => match[1]).filter((link) => !/^https?:/.test(link));
    expect(links.filter((link) => !existsSync(resolve(ROOT, 'docs', link)))).toEqual([]);
  });
});

describe('README', () => {
  it('links the architecture, Procore and Spectrum pages', () => {
    const readme = read('README.md');
    for (const doc of ['docs/architecture.md', 'docs/procore.md', 'docs/spectrum.md']) expect(readme).toContain(`](${doc})`);
  });
});

describe('comments', () => {
  it('point to nothing outside the repository (the facts, or docs/*.md)', () => {
    // Spelled in pieces so this file does not name them itself.
    const outside = new RegExp(['PRODUCT', 'DECISIONS', 'procore-api', 'spectrum-sde', 'STYLE'].map((name) => `\\b${name}\\.md\\b`).concat([['shared', 'spec'].join('/')]).join('|'));
    const offenders = [...CODE_FILES, ...DOCS, 'README.md', 'SECURITY.md']
      .filter((file) => !file.startsWith('test/fixtures/'))
      .flatMap((file) =>
        read(file)
          .split('\n')
          .map((line, index) => ({ where: `${file}:${index + 1}`, line }))
          .filter(({ line }) => outside.test(line)),
      )
      .map(({ where, line }) => `${where}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });
});
