import { toCents } from '../common/money';
import { StoredLine } from './budget-snapshot';
import type { LineOnPage } from './snapshot.repository';
import { RowExportError, RowExportState, SpectrumAction, SpectrumRow } from './submission-row.entity';

/** How SnapshotRepository's plain-SQL reads arrive, and what they become. */

/** The columns of a SpectrumRow (`r` the row, `s` its submission). */
export const ROW_COLUMNS = `r.id, r.position, coalesce(r.job, s.job) as job, r.phase, r.cost_type, r.description, r.original_budget::text as original_budget,
  r.revised_estimate::text as revised_estimate, r.line_count, r.problems, r.export_state, r.export_error, r.written_at, r.spectrum_action,
  r.removed, r.removed_estimate::text as removed_estimate`;

export interface LineRecord {
  procore_line_id: string | null;
  cost_code: string;
  category: string;
  description: string;
  original_budget: string;
  budget_changes: string;
  revised_estimate: string;
  job: string | null;
  phase: string | null;
  cost_type: string | null;
  problems: string[] | string;
  notes: string[] | string;
}

export interface StoredLineRecord {
  procore_line_id: string;
  cost_code_id: string | null;
  cost_code: string;
  category_id: string | null;
  category: string;
  description: string;
  original_budget: string;
  budget_changes: string;
  revised_estimate: string;
  notes: string[] | string;
  cost_code_origin_id: string | null;
  category_code: string | null;
  category_origin_id: string | null;
  amount_problem: string | null;
}

export interface RowRecord {
  id: string | number;
  position: number;
  job: string | null;
  phase: string | null;
  cost_type: string | null;
  description: string;
  original_budget: string;
  revised_estimate: string;
  line_count: number;
  problems: string[] | string;
  export_state: RowExportState;
  export_error: RowExportError | string | null;
  written_at: Date | string | null;
  spectrum_action: SpectrumAction | null;
  removed: boolean;
  removed_estimate: string | null;
}

export function spectrumRow(record: RowRecord): SpectrumRow {
  return {
    id: String(record.id),
    position: record.position,
    job: (record.job ?? '').trim(),
    phase: (record.phase ?? '').trim(),
    costType: (record.cost_type ?? '').trim(),
    description: record.description ?? '',
    originalBudget: toCents(String(record.original_budget)),
    revisedEstimate: toCents(String(record.revised_estimate)),
    lineCount: record.line_count,
    problems: json(record.problems) ?? [],
    exportState: record.export_state,
    exportError: json(record.export_error),
    writtenAt: record.written_at ? new Date(record.written_at) : null,
    spectrumAction: record.spectrum_action ?? null,
    removed: record.removed === true,
    removedEstimate: record.removed_estimate === null ? null : toCents(String(record.removed_estimate)),
  };
}

export function lineOnPage(line: LineRecord): LineOnPage {
  return {
    procoreLineId: line.procore_line_id === null ? null : String(line.procore_line_id),
    costCode: line.cost_code,
    category: line.category,
    description: line.description,
    originalBudget: toCents(line.original_budget),
    budgetChanges: toCents(line.budget_changes),
    revisedEstimate: toCents(line.revised_estimate),
    job: line.job,
    phase: line.phase,
    costType: line.cost_type,
    problems: json(line.problems) ?? [],
    notes: json(line.notes) ?? [],
  };
}

export function storedLine(line: StoredLineRecord): StoredLine {
  return {
    procoreLineId: String(line.procore_line_id),
    costCodeId: line.cost_code_id === null ? null : String(line.cost_code_id),
    costCode: line.cost_code,
    categoryId: line.category_id === null ? null : String(line.category_id),
    category: line.category,
    categoryCode: line.category_code,
    categoryOriginId: line.category_origin_id,
    costCodeOriginId: line.cost_code_origin_id,
    description: line.description,
    originalBudget: toCents(line.original_budget),
    budgetChanges: toCents(line.budget_changes),
    revisedEstimate: toCents(line.revised_estimate),
    amountProblem: line.amount_problem,
    notes: json(line.notes) ?? [],
  };
}

/** jsonb arrives parsed, or as text from some drivers' paths. */
export function json<T>(value: T | string | null): T | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
