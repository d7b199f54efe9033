import { readFileSync } from 'node:fs';
import { parse, YAMLError } from 'yaml';
import { checkCostType, checkJob, checkPhase, superSelectProblem } from '../../spectrum/client/spectrum-limits';

/**
 * Job / phase / cost type overrides from the MAPPING_FILE (format: config/mapping.example.yaml).
 * Keys and values are kept exactly as written: the file is read with YAML's failsafe schema, so
 * `011000` stays `"011000"` and never becomes the number 11000.
 */
export interface MappingOverrides {
  /** Procore project id → Spectrum job. */
  jobs: ReadonlyMap<string, string>;
  /** Procore cost code full code (`01-100`) → Spectrum phase, company-wide. */
  phases: ReadonlyMap<string, string>;
  /** Procore category (line item type) name → Spectrum cost type. */
  costTypes: ReadonlyMap<string, string>;
  /** Procore project id → its own full code → phase overrides (win over `phases`). */
  projectPhases: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export const EMPTY_MAPPING: MappingOverrides = {
  jobs: new Map(),
  phases: new Map(),
  costTypes: new Map(),
  projectPhases: new Map(),
};

/** The mapping file cannot be used; the message names the file and every problem. */
export class MappingFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`MAPPING_FILE ${source} cannot be used:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'MappingFileError';
  }
}

const SECTIONS = ['jobs', 'phases', 'costTypes', 'projects'] as const;
const PROJECT_ID = /^[1-9]\d{0,17}$/;

/** Reads and validates the mapping file; no path means no overrides. Throws MappingFileError. */
export function loadMappingFile(path: string | undefined): MappingOverrides {
  return path ? readMappingFile(path).mapping : EMPTY_MAPPING;
}

/** The file's text and the mapping it holds. Throws MappingFileError naming every problem. */
export function readMappingFile(path: string): { text: string; mapping: MappingOverrides } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MappingFileError(path, [code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? (error as Error).message})`]);
  }
  return { text, mapping: parseMapping(text, path) };
}

/** Parses and validates mapping YAML; `source` names it in errors. */
export function parseMapping(text: string, source = '(text)'): MappingOverrides {
  let document: unknown;
  try {
    // Maps keep the file's order (plain objects would put numeric keys first).
    document = parse(text, { schema: 'failsafe', uniqueKeys: true, prettyErrors: true, mapAsMap: true });
  } catch (error) {
    const message = error instanceof YAMLError ? error.message.split('\n')[0] : (error as Error).message;
    throw new MappingFileError(source, [`it is not valid YAML: ${message}`]);
  }
  if (document === null || document === undefined) return EMPTY_MAPPING;

  const problems: string[] = [];
  if (!isMap(document)) {
    throw new MappingFileError(source, ['the file must be a YAML mapping with the sections jobs, phases, costTypes and projects']);
  }
  for (const key of document.keys()) {
    if (!(SECTIONS as readonly string[]).includes(key)) {
      problems.push(`unknown section "${key}" (the sections are ${SECTIONS.join(', ')})`);
    }
  }

  const jobs = readSection(document.get('jobs'), 'jobs', 'a Procore project id → Spectrum job', problems, (key, value, at) => {
    if (!PROJECT_ID.test(key)) problems.push(`${at}: "${key}" is not a Procore project id (a whole number)`);
    const issue = checkJob(value) ?? superSelectProblem(value);
    if (issue) problems.push(`${at}: ${issue}`);
  });
  const phaseCheck = (key: string, value: string, at: string) => {
    if (!key.trim()) problems.push(`${at}: the cost code is empty`);
    const issue = checkPhase(value);
    if (issue) problems.push(`${at}: ${issue}`);
  };
  const phases = readSection(document.get('phases'), 'phases', 'a Procore cost code → Spectrum phase', problems, phaseCheck);
  const costTypes = readSection(document.get('costTypes'), 'costTypes', 'a Procore category name → Spectrum cost type', problems, (key, value, at) => {
    if (!key.trim()) problems.push(`${at}: the category name is empty`);
    const issue = checkCostType(value);
    if (issue) problems.push(`${at}: ${issue}`);
  });

  const projectPhases = new Map<string, ReadonlyMap<string, string>>();
  const projects = document.get('projects');
  if (projects !== undefined && projects !== '') {
    if (!isMap(projects)) {
      problems.push('projects must be a mapping of Procore project id → { phases: … }');
    } else {
      for (const [projectId, entry] of projects) {
        const at = `projects.${quote(projectId)}`;
        if (!PROJECT_ID.test(projectId)) problems.push(`${at}: "${projectId}" is not a Procore project id (a whole number)`);
        if (!isMap(entry)) {
          problems.push(`${at} must be a mapping with a phases section`);
          continue;
        }
        for (const key of entry.keys()) {
          if (key !== 'phases') problems.push(`${at}: unknown section "${key}" (a project has only phases)`);
        }
        projectPhases.set(projectId, readSection(entry.get('phases'), `${at}.phases`, 'a Procore cost code → Spectrum phase', problems, phaseCheck));
      }
    }
  }

  if (problems.length) throw new MappingFileError(source, problems);
  return { jobs, phases, costTypes, projectPhases };
}

function readSection(
  value: unknown,
  name: string,
  meaning: string,
  problems: string[],
  check: (key: string, value: string, at: string) => void,
): Map<string, string> {
  const entries = new Map<string, string>();
  // An empty section (`phases:`) reads as empty text.
  if (value === undefined || value === '') return entries;
  if (!isMap(value)) {
    problems.push(`${name} must be a mapping of ${meaning}`);
    return entries;
  }
  for (const [rawKey, raw] of value) {
    const key = typeof rawKey === 'string' ? rawKey : JSON.stringify(rawKey);
    const at = `${name}.${quote(key)}`;
    if (typeof raw !== 'string') {
      problems.push(`${at} must be a single value, not a ${Array.isArray(raw) ? 'list' : 'mapping'}`);
      continue;
    }
    const text = raw.trim();
    if (text === '' || text === '~') {
      problems.push(`${at} has no value`);
      continue;
    }
    check(key.trim(), text, at);
    entries.set(key.trim(), text);
  }
  return entries;
}

/** With the failsafe schema and `mapAsMap`, every key is text. */
function isMap(value: unknown): value is Map<string, unknown> {
  return value instanceof Map;
}

function quote(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
}
