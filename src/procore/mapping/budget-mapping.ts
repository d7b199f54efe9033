/*
 * Longer than 400 lines because reading Procore's shapes (readBudget) and applying the mapping
 * (mapReadBudget) are one pipeline over the same types, in small functions; the mapping file and
 * its store are apart (mapping-file.ts, mapping-store.ts).
 */
import { createHash } from 'node:crypto';
import type { BudgetSnapshot, SnapshotLine } from '../../budgets/budget-snapshot';
import type { NewSpectrumRow } from '../../budgets/submission-row.entity';
import { Cents, MoneyFormatError, formatMoney, parseMoney } from '../../common/money';
import type { ProcoreCostCode, ProcoreDetailRow, ProcoreLineItemType, ProcoreProject } from '../client/procore.types';
import { MappingOverrides } from './mapping-file';
import { checkCostType, checkJob, checkPhase, cutDescription, fitsSpectrumAmount, SPECTRUM_LIMITS, superSelectProblem } from '../../spectrum/client/spectrum-limits';

/** numeric(18,2) holds less than 10^16; beyond it an amount cannot even be stored. */
const STORABLE_CENTS = 10n ** 18n;
/** The largest amount numeric(18,2) holds, for messages. */
const STORABLE_LIMIT = '9999999999999999.99';
/** The view column the revised estimate is read from unless PROCORE_REVISED_COLUMN names another. */
export const DEFAULT_REVISED_COLUMN = 'Revised Budget';
/**
 * A detail row's own fields (the published example and the reference schema): every other key of
 * a row is one of the view's columns, keyed by its display name.
 */
const DETAIL_ROW_FIELDS = new Set([
  'id', 'budget_row_id', 'biller_id', 'root_cost_code_id', 'cost_code_level_1_id', 'cost_code_level_2_id', 'cost_code_level_3_id',
  'cost_code_level_4_id', 'cost_code_level_5_id', 'cost_code_level_1', 'cost_code_level_2', 'cost_code_level_3', 'cost_code_level_4',
  'cost_code_level_5', 'cost_code_id', 'category_id', 'biller', 'biller_type', 'root_cost_code', 'cost_code', 'category',
  'cost_code_origin_id', 'project_id', 'project', 'company_id', 'company', 'budget_modifications', 'original_budget_amount',
  'deletable', 'wbs_code_id', 'budget_forecast', 'currency_configuration', 'unbudgeted_reason', 'biller_origin_id',
]);
/** How many lines a row's problem message names before "and N more". */
const LINES_NAMED = 10;

/** What Procore said about one budget: the input of the mapping. */
export interface BudgetSource {
  project: Pick<ProcoreProject, 'id' | 'name' | 'project_number' | 'origin_id'>;
  /** The view's detail rows (one per budget line), in Procore's order. */
  lines: ProcoreDetailRow[];
  /** The company's categories. */
  lineItemTypes: ProcoreLineItemType[];
  /** The project's cost codes; only needed when a detail row does not carry a readable code. */
  costCodes?: ProcoreCostCode[];
  /** The budget view the lines come from (for messages); `name` null when not read. */
  view?: { id: number; name: string | null };
  /** Display name of the view column holding the revised budget (PROCORE_REVISED_COLUMN), matched
   * by {@link normaliseColumnName}. Default {@link DEFAULT_REVISED_COLUMN}. */
  revisedColumn?: string;
}

/** The mapping's output is what a submission stores (src/budgets/budget-snapshot.ts). */
export type MappedLine = SnapshotLine;
export type MappedRow = NewSpectrumRow;
export type MappedBudget = BudgetSnapshot;

/** `"Revised Budget"`, `"revised_budget"`, `"REVISED-BUDGET"` → `revised_budget`: lower case, every
 * run of characters other than letters and digits one `_`, none at the ends. */
export function normaliseColumnName(name: string): string {
  return name
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join('_');
}

/** The key of `row` whose normalised form is `wanted`'s, if any. */
export function findColumn(row: Record<string, unknown>, wanted: string): string | undefined {
  const target = normaliseColumnName(wanted);
  return Object.keys(row).find((key) => normaliseColumnName(key) === target);
}

/** The view columns a detail row carries (its keys that are not Procore's own row fields). */
export function viewColumnsOf(row: Record<string, unknown>): string[] {
  return Object.keys(row).filter((key) => !DETAIL_ROW_FIELDS.has(key));
}

/** Procore data the connector cannot take in at all (as opposed to a flagged line). */
export class BudgetDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetDataError';
  }
}

/**
 * One budget line as read from Procore: every input of the mapping, nothing of the mapping file.
 * The snapshot stores all of it (submission_line, submission), so a remap works from the snapshot
 * alone (docs/architecture.md, "Remap").
 */
export interface ReadLine {
  procoreLineId: string;
  costCodeId: string | null;
  /** The cost code's full code, e.g. `01-100`; null when the line has none. */
  fullCode: string | null;
  /** As the snapshot keeps it: the cost code's name cut to Spectrum's description length. */
  description: string;
  costCodeOriginId: string | null;
  categoryId: string | null;
  /** The line's category (line item type) name; empty when it has none. */
  category: string;
  /** The category as the company's list has it; null when the line has no known category. */
  categoryType: { name: string; code: string | null; originId: string | null } | null;
  originalBudget: Cents;
  budgetChanges: Cents;
  revisedEstimate: Cents;
  /** Why its amounts cannot be read (they are 0.00 then, and the line maps to no row). */
  amountProblem: string | null;
  notes: string[];
}

/** A budget as read from Procore, before any mapping. */
export interface ReadBudget {
  project: { id: string; name: string; originId: string | null; projectNumber: string | null };
  lines: ReadLine[];
  /** See MappedBudget.fingerprint. */
  fingerprint: string;
}

/**
 * Maps a Procore budget to Spectrum rows (docs/procore.md, "Mapping to Spectrum"): each key from the
 * first source that has it; lines on one job / phase / cost type summed into a row; Spectrum's
 * limits checked on rows. Pure: the same source and overrides always give the same result.
 */
export function mapBudget(source: BudgetSource, overrides: MappingOverrides): MappedBudget {
  return mapReadBudget(readBudget(source), overrides);
}

/** Reads a Procore budget's lines: codes, categories and amounts, exact to the cent; the fingerprint. */
export function readBudget(source: BudgetSource): ReadBudget {
  const projectId = String(source.project.id);
  const revisedKey = revisedColumnOf(source);
  const types = new Map(source.lineItemTypes.map((type) => [type.id, type]));
  const costCodes = new Map((source.costCodes ?? []).map((code) => [code.id, code]));
  const fingerprint = createHash('sha256');
  // Everything Procore-side the mapping reads (not the mapping file): fixing in Procore what a
  // flag message asked for (a project number, a category code, …) must count as a change.
  fingerprint.update(fingerprintLine(['project', projectId, source.project.origin_id, source.project.project_number]));

  const lines = source.lines.map((detail): ReadLine => {
    const code = costCodeOf(detail, costCodes);
    const type = detail.category_id !== null ? types.get(detail.category_id) : undefined;
    const category = (detail.category ?? type?.name ?? '').trim();
    const notes: string[] = [];
    const read = lineAmounts(detail, revisedKey, notes);
    const amounts = 'problem' in read ? { originalBudget: 0n, budgetChanges: 0n, revisedEstimate: 0n } : read;
    fingerprint.update(
      fingerprintLine([
        detail.id,
        detail.cost_code_id,
        code.fullCode,
        code.originId,
        code.name,
        detail.category_id,
        category,
        type?.name,
        type?.code,
        type?.origin_id,
        amounts.originalBudget,
        amounts.revisedEstimate,
      ]),
    );
    return {
      procoreLineId: String(detail.id),
      costCodeId: detail.cost_code_id === null ? null : String(detail.cost_code_id),
      fullCode: code.fullCode,
      description: cutDescription(code.name),
      costCodeOriginId: code.originId,
      categoryId: detail.category_id === null ? null : String(detail.category_id),
      category,
      categoryType: type ? { name: type.name ?? '', code: type.code ?? null, originId: type.origin_id ?? null } : null,
      ...amounts,
      amountProblem: 'problem' in read ? read.problem : null,
      notes,
    };
  });
  return {
    project: { id: projectId, name: source.project.name, originId: source.project.origin_id ?? null, projectNumber: source.project.project_number ?? null },
    lines,
    fingerprint: fingerprint.digest('hex'),
  };
}

/** Maps read lines to Spectrum rows with the overrides in force (an ingestion, or a remap of a snapshot). */
export function mapReadBudget(budget: ReadBudget, overrides: MappingOverrides): MappedBudget {
  const projectId = budget.project.id;
  const job = mapJob({ id: projectId, origin_id: budget.project.originId, project_number: budget.project.projectNumber }, overrides);
  const projectPhases = overrides.projectPhases.get(projectId);

  const lines: MappedLine[] = [];
  const rows = new Map<string, MappedRow & { linePositions: number[]; labels: string[] }>();
  const totals = { originalBudget: 0n, budgetChanges: 0n, revisedEstimate: 0n };

  budget.lines.forEach((read, position) => {
    const { category, categoryType: type } = read;
    const label = `${read.fullCode ?? '(no cost code)'} ${category || '(no category)'}`;
    const phase = read.fullCode === null ? null : mapPhase(read.fullCode, read.costCodeOriginId, projectPhases, overrides);
    const costType = category || type ? mapCostType(category, type ?? undefined, overrides) : null;
    const missing: string[] = [];
    if (read.amountProblem) missing.push(read.amountProblem);
    if (job === null) {
      missing.push(
        `project ${projectId} maps to no Spectrum job: add it under jobs in the mapping file, or give the project an origin id or a project number in Procore`,
      );
    }
    if (read.fullCode === null) missing.push('the line has no cost code, so it maps to no Spectrum phase');
    else if (phase === null) missing.push(`cost code "${read.fullCode}" maps to no Spectrum phase: add it under phases in the mapping file`);
    if (!category && !type) missing.push('the line has no category, so it maps to no Spectrum cost type');
    else if (costType === null) {
      missing.push(
        `category "${category}" maps to no Spectrum cost type: add it under costTypes in the mapping file, or give the category a code in Procore`,
      );
    }

    const line: MappedLine = {
      position,
      procoreLineId: read.procoreLineId,
      costCodeId: read.costCodeId,
      costCode: read.fullCode ?? '',
      categoryId: read.categoryId,
      category,
      description: read.description,
      originalBudget: read.originalBudget,
      budgetChanges: read.budgetChanges,
      revisedEstimate: read.revisedEstimate,
      job,
      phase,
      costType,
      rowPosition: null,
      problems: missing.length ? [`Line ${position + 1} (${label}): ${missing.join('; ')}`] : [],
      notes: [...read.notes],
      costCodeOriginId: read.costCodeOriginId,
      categoryCode: type?.code ?? null,
      categoryOriginId: type?.originId ?? null,
      amountProblem: read.amountProblem,
    };
    lines.push(line);
    totals.originalBudget += read.originalBudget;
    totals.budgetChanges += read.budgetChanges;
    totals.revisedEstimate += read.revisedEstimate;

    // A line whose amounts cannot be read is refused: it maps to no row.
    if (read.amountProblem || job === null || phase === null || costType === null) return;
    const key = `${job}\u0000${phase}\u0000${costType}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        position: rows.size,
        job,
        phase,
        costType,
        description: line.description,
        originalBudget: 0n,
        revisedEstimate: 0n,
        lineCount: 0,
        problems: [],
        linePositions: [],
        labels: [],
      };
      rows.set(key, row);
    }
    row.originalBudget += read.originalBudget;
    row.revisedEstimate += read.revisedEstimate;
    row.lineCount += 1;
    row.linePositions.push(position);
    row.labels.push(label);
    line.rowPosition = row.position;
  });

  let problemCount = lines.filter((line) => line.rowPosition === null && line.problems.length > 0).length;
  const mappedRows: MappedRow[] = [];
  for (const { linePositions, labels, ...row } of rows.values()) {
    const issues = [checkJob(row.job), superSelectProblem(row.job), checkPhase(row.phase), checkCostType(row.costType)].filter(
      (issue): issue is string => issue !== undefined,
    );
    if (!fitsSpectrumAmount(row.originalBudget)) issues.push(amountTooLarge('original budget', row.originalBudget));
    if (!fitsSpectrumAmount(row.revisedEstimate)) issues.push(amountTooLarge('revised estimate', row.revisedEstimate));
    // A sum numeric(18,2) cannot hold is kept out of the snapshot (stored as 0.00, the flag says why).
    if (!storable(row.originalBudget) || !storable(row.revisedEstimate)) {
      row.originalBudget = 0n;
      row.revisedEstimate = 0n;
    }
    if (issues.length) {
      const message = `Row ${row.job}/${row.phase}/${row.costType} (${describeLines(linePositions, labels)}): ${issues.join('; ')}`;
      row.problems = [message];
      for (const position of linePositions) lines[position].problems.push(message);
      problemCount += 1;
    }
    mappedRows.push(row);
  }

  // A total numeric(18,2) cannot hold: only rows far beyond Spectrum's amounts add up to one, and
  // those are flagged; they say why the totals read 0.00.
  if (!storable(totals.originalBudget) || !storable(totals.revisedEstimate) || !storable(totals.budgetChanges)) {
    const message = `the budget's totals (original ${formatMoney(totals.originalBudget)}, revised ${formatMoney(totals.revisedEstimate)}) are beyond what the connector can store (at most ${STORABLE_LIMIT})`;
    const culprits = mappedRows.filter((row) => row.problems.length > 0);
    for (const row of culprits.length ? culprits : mappedRows) {
      if (!row.problems.length) problemCount += 1;
      row.problems = [`${row.problems[0] ?? `Row ${row.job}/${row.phase}/${row.costType}`}; ${message}`];
    }
    totals.originalBudget = 0n;
    totals.budgetChanges = 0n;
    totals.revisedEstimate = 0n;
  }

  return {
    projectName: budget.project.name,
    projectOriginId: budget.project.originId,
    projectNumber: budget.project.projectNumber,
    job,
    lines,
    rows: mappedRows,
    totals,
    problemCount,
    fingerprint: budget.fingerprint,
  };
}

/** Job: the mapping file; the project's origin id; its project number. */
export function mapJob(project: Pick<BudgetSource['project'], 'origin_id' | 'project_number'> & { id: number | string }, overrides: MappingOverrides): string | null {
  return spectrumCode(firstText(overrides.jobs.get(String(project.id)), project.origin_id, project.project_number));
}

/** Phase: the project's mapping; the company mapping; the cost code's origin id; its full code
 * without anything but letters and digits. */
export function mapPhase(
  fullCode: string,
  originId: string | null,
  projectPhases: ReadonlyMap<string, string> | undefined,
  overrides: MappingOverrides,
): string | null {
  return spectrumCode(firstText(projectPhases?.get(fullCode), overrides.phases.get(fullCode), originId, fullCode.replace(/[^A-Za-z0-9]/g, '')));
}

/** Cost type: the mapping file by category name; the category's origin id; its code. */
export function mapCostType(
  category: string,
  type: { name: string; code: string | null; originId: string | null } | undefined,
  overrides: MappingOverrides,
): string | null {
  return spectrumCode(firstText(lookupName(overrides.costTypes, category), lookupName(overrides.costTypes, type?.name ?? ''), type?.originId, type?.code));
}

/**
 * A Spectrum code as Spectrum keys it: trimmed and upper case. Spectrum does not tell `l` from `L`
 * (or `0110a` from `0110A`): two lines differing only so are one Spectrum row, and are summed into
 * it, as lines mapping to one row always are (issue 9.6).
 */
export function spectrumCode(code: string | null): string | null {
  return code === null ? null : code.trim().toUpperCase();
}

/** True when some detail row does not carry its cost code as `"<full code> - <name>"`. */
export function needsCostCodeList(lines: ProcoreDetailRow[]): boolean {
  return lines.some((line) => line.cost_code_id !== null && parseCostCodeText(line.cost_code) === null);
}

/** `"01-100 - General Conditions"` → `{fullCode: "01-100", name: "General Conditions"}`. */
export function parseCostCodeText(text: string | null): { fullCode: string; name: string } | null {
  if (!text) return null;
  const at = text.indexOf(' - ');
  if (at <= 0) return null;
  const fullCode = text.slice(0, at).trim();
  return fullCode ? { fullCode, name: text.slice(at + 3).trim() } : null;
}

function costCodeOf(
  detail: ProcoreDetailRow,
  costCodes: Map<number, ProcoreCostCode>,
): { fullCode: string | null; name: string; originId: string | null } {
  const listed = detail.cost_code_id !== null ? costCodes.get(detail.cost_code_id) : undefined;
  if (listed) {
    return {
      fullCode: firstText(listed.full_code, listed.code),
      name: (listed.name ?? '').trim(),
      originId: firstText(listed.origin_id, detail.cost_code_origin_id),
    };
  }
  const parsed = parseCostCodeText(detail.cost_code);
  const bare = detail.cost_code?.trim() || null;
  return { fullCode: parsed?.fullCode ?? bare, name: parsed?.name ?? '', originId: firstText(detail.cost_code_origin_id) };
}

/**
 * The view column holding the revised budget: found by its display name (PROCORE_REVISED_COLUMN,
 * default "Revised Budget") without regard to case, spaces or punctuation. A view without it stops
 * the read: the connector never adds a revised estimate up from other columns (an earlier version
 * did, and silently dropped approved change orders and budget changes).
 */
function revisedColumnOf(source: BudgetSource): string {
  const wanted = source.revisedColumn?.trim() || DEFAULT_REVISED_COLUMN;
  const first = source.lines[0];
  const key = first ? findColumn(first, wanted) : undefined;
  if (first && key !== undefined) return key;
  const view = source.view ? `Budget view ${source.view.name ? `"${source.view.name}" ` : ''}(${source.view.id})` : 'The budget view';
  const columns = first ? viewColumnsOf(first) : [];
  const has = columns.length ? `its columns are ${columns.map((column) => `"${column}"`).join(', ')}` : 'it shows no columns';
  throw new BudgetDataError(
    `${view} of Procore project ${source.project.id} has no "${wanted}" column, so the budget's revised estimate cannot be read (${has}). ` +
      `Show the column in the view, or set PROCORE_REVISED_COLUMN to the name the view gives it.`,
  );
}

/**
 * Original, changes and revised estimate of a line, exact to the cent: original from
 * `original_budget_amount`, revised from the view's revised column, changes = revised − original.
 * Amounts with more than two decimals are rounded half away from zero and noted. An amount that is
 * not one, is missing, or is beyond numeric(18,2) (the amounts or their difference) refuses the
 * line with the reason.
 */
function lineAmounts(
  detail: ProcoreDetailRow,
  revisedKey: string,
  notes: string[],
): { originalBudget: Cents; budgetChanges: Cents; revisedEstimate: Cents } | { problem: string } {
  const read = (value: unknown, name: string): Cents | string => {
    if (value === null || value === undefined || value === '') return `its ${name} is empty`;
    if (typeof value !== 'string' && typeof value !== 'number') return `its ${name} is not an amount`;
    let parsed: { cents: Cents; rounded: boolean };
    try {
      parsed = parseMoney(value);
    } catch (error) {
      if (!(error instanceof MoneyFormatError)) throw error;
      return `its ${name} ${quote(value)} is not an amount`;
    }
    if (!storable(parsed.cents)) return `its ${name} ${quote(value)} is beyond what the connector can store (at most ${STORABLE_LIMIT})`;
    if (parsed.rounded) notes.push(`${capitalise(name.replace(/ \(.*\)$/, ''))} ${String(value)} was rounded to ${formatMoney(parsed.cents)}`);
    return parsed.cents;
  };
  const originalBudget = read(detail.original_budget_amount, 'original budget');
  const revisedEstimate = read(detail[revisedKey], `revised budget (view column "${revisedKey}")`);
  const problems = [originalBudget, revisedEstimate].filter((value): value is string => typeof value === 'string');
  if (problems.length) return { problem: problems.join('; ') };
  const budgetChanges = (revisedEstimate as Cents) - (originalBudget as Cents);
  if (!storable(budgetChanges)) {
    return { problem: `its budget changes ${formatMoney(budgetChanges)} (revised − original) are beyond what the connector can store (at most ${STORABLE_LIMIT})` };
  }
  return { originalBudget: originalBudget as Cents, budgetChanges, revisedEstimate: revisedEstimate as Cents };
}

function storable(cents: Cents): boolean {
  return cents < STORABLE_CENTS && cents > -STORABLE_CENTS;
}

/** An outside value for a message: at most 40 characters, quoted. */
function quote(value: string | number): string {
  const text = String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function amountTooLarge(name: string, cents: Cents): string {
  const limit = `${'9'.repeat(SPECTRUM_LIMITS.amountText - 3)}.99`;
  return `the ${name} ${formatMoney(cents)} does not fit Spectrum's ${SPECTRUM_LIMITS.amountText} characters (at most ${limit})`;
}

/** `lines 3, 7: 01-100 Labor`, or `lines 3 (01-100 Labor), 7 (01-200 Labor)` when they differ. */
function describeLines(positions: number[], labels: string[]): string {
  const shown = positions.slice(0, LINES_NAMED);
  const more = positions.length > LINES_NAMED ? ` and ${positions.length - LINES_NAMED} more` : '';
  const word = positions.length === 1 ? 'line' : 'lines';
  if (labels.every((label) => label === labels[0])) {
    return `${word} ${shown.map((p) => p + 1).join(', ')}${more}: ${labels[0]}`;
  }
  return `${word} ${shown.map((p, i) => `${p + 1} (${labels[i]})`).join(', ')}${more}`;
}

function fingerprintLine(values: Array<string | number | bigint | null | undefined>): string {
  return values.map((value) => (value === null || value === undefined ? '' : String(value))).join('\u001f') + '\n';
}

function firstText(...values: Array<string | null | undefined>): string | null {
  for (const value of values) {
    const text = value?.trim();
    if (text) return text;
  }
  return null;
}

function lookupName(entries: ReadonlyMap<string, string>, name: string): string | undefined {
  if (!name) return undefined;
  const exact = entries.get(name);
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  for (const [key, value] of entries) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
