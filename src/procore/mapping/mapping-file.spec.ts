import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_MAPPING, loadMappingFile, MappingFileError, parseMapping } from './mapping-file';

function problemsOf(text: string): string[] {
  try {
    parseMapping(text, 'mapping.yaml');
  } catch (error) {
    if (error instanceof MappingFileError) return error.problems;
    throw error;
  }
  return [];
}

describe('mapping file', () => {
  it('reads config/mapping.example.yaml exactly as written', () => {
    const mapping = parseMapping(readFileSync(join(__dirname, '../../../config/mapping.example.yaml'), 'utf8'));
    expect(mapping.jobs.get('1001')).toBe('26-101');
    expect(mapping.phases.get('01-100')).toBe('011000');
    expect(mapping.costTypes.get('Materials')).toBe('M');
    expect(mapping.projectPhases.get('1001')?.get('09-900')).toBe('099000');
  });

  it('keeps leading zeros of unquoted values (failsafe schema)', () => {
    const mapping = parseMapping('phases:\n  01-100: 011000\njobs:\n  1001: 0042\n');
    expect(mapping.phases.get('01-100')).toBe('011000');
    expect(mapping.jobs.get('1001')).toBe('0042');
  });

  it('no path, an empty file or only comments mean no overrides', () => {
    expect(loadMappingFile(undefined)).toBe(EMPTY_MAPPING);
    expect(parseMapping('')).toBe(EMPTY_MAPPING);
    expect(parseMapping('# nothing yet\n')).toBe(EMPTY_MAPPING);
    expect(parseMapping('jobs:\nphases:\n').jobs.size).toBe(0);
  });

  it('names every problem at once', () => {
    const problems = problemsOf(
      [
        'phase:',
        '  01-100: "01100"',
        'jobs:',
        '  abc: "26-101"',
        '  "1002": "ABCDEFGHIJK"',
        'phases:',
        '  01-200: "01-200"',
        '  01-300: "0123456789012345678901"',
        '  01-400:',
        'costTypes:',
        '  Labor: LAB1',
        '  Material: [M]',
        'projects:',
        '  "1001":',
        '    phase:',
        '      09-900: "099000"',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'unknown section "phase" (the sections are jobs, phases, costTypes, projects)',
      'jobs.abc: "abc" is not a Procore project id (a whole number)',
      `jobs."1002": job "ABCDEFGHIJK" is longer than Spectrum's 10 characters`,
      'phases."01-200": phase "01-200" contains a dash, which Spectrum phases cannot have',
      `phases."01-300": phase "0123456789012345678901" is longer than Spectrum's 20 characters`,
      'phases."01-400" has no value',
      `costTypes.Labor: cost type "LAB1" is longer than Spectrum's 3 characters`,
      'costTypes.Material must be a single value, not a list',
      'projects."1001": unknown section "phase" (a project has only phases)',
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(problemsOf('jobs:\n  "1001": [26\n')[0]).toMatch(/^it is not valid YAML: .*line \d+/);
    expect(problemsOf('costTypes:\n  Labor: L\n  Labor: M\n')[0]).toMatch(/Map keys must be unique at line 3/);
    expect(problemsOf('- a\n- b\n')).toEqual(['the file must be a YAML mapping with the sections jobs, phases, costTypes and projects']);
  });

  it('names the file in the error message; a missing file is an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mapping-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'jobs:\n  "1001": "TOO-LONG-JOB"\n');
    expect(() => loadMappingFile(path)).toThrow(`MAPPING_FILE ${path} cannot be used:\n  - jobs."1001": job "TOO-LONG-JOB" is longer than Spectrum's 10 characters`);
    expect(() => loadMappingFile(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml cannot be used:\n {2}- the file does not exist/);
  });
});
