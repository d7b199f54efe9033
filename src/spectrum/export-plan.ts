import type { SpectrumAction, SpectrumRow } from '../budgets/submission-row.entity';
import { Cents } from '../common/money';
import { cutDescription } from './client/spectrum-limits';
import { SpectrumJob } from './client/spectrum-records';
import { normalizeCode, phaseKey, rowKey, SpectrumRowIndex } from './spectrum-row-index';

/**
 * What the exporter and the preview know about a row and what Spectrum already holds, the checks
 * that must pass before anything is written, and the AddPhase each row needs (docs/spectrum.md,
 * "AddPhase"). Pure functions over the submission's rows (SpectrumRow).
 */

export type { SpectrumAction };

export { normalizeCode, rowKey };

/** The AddPhase for one row: every field the connector fills; the client sends the rest empty. */
export interface PlannedWrite {
  row: SpectrumRow;
  action: SpectrumAction;
  fields: {
    jobNumber: string;
    phaseCode: string;
    costType: string;
    description?: string;
    /** Absent for a removed row: Original_Est_Cost is left as it is. */
    originalEstCost?: Cents;
    currentEstCost: Cents;
    priceMethodCode?: string;
  };
}

/** A row that must not be written as it stands; while any is left the export writes nothing. */
export interface RowFlag {
  row: SpectrumRow;
  code: string;
  message: string;
  column: string | null;
}

export interface ExportPlan {
  writes: PlannedWrite[];
  /**
   * Removed rows with nothing to send: Spectrum holds no such row (nothing to drop), or a row of
   * this version sets the same Spectrum row (a code now mapped to the form Spectrum stores).
   */
  nothingToDo: SpectrumRow[];
}

/** Codes of the flags set before anything is written (the row's export error code when the export stops on them). */
export const FLAG_CODES = {
  duplicate: 'duplicate_key',
  ambiguousFill: 'phase_fill_ambiguous',
  costType: 'cost_type_unknown',
  phaseComplete: 'phase_complete',
} as const;

/** A job in GetJob's complete list, matched like every code (trimmed, case-insensitive). */
export function findJob(jobs: SpectrumJob[], jobNumber: string): SpectrumJob | undefined {
  const wanted = normalizeCode(jobNumber);
  return jobs.find((job) => normalizeCode(job.jobNumber) === wanted);
}

/** What AddPhase does to a row given what Spectrum has (its stored form included). */
export function actionFor(row: Pick<SpectrumRow, 'job' | 'phase' | 'costType'>, index: SpectrumRowIndex): SpectrumAction {
  if (index.find(row.job, row.phase, row.costType).length) return 'update';
  return index.phase(row.job, row.phase) ? 'new_row' : 'new_phase';
}

/**
 * Spectrum rows that a row of this version (not a removed one) sets: a removed row on one of them
 * has nothing to do — the live row writes that Spectrum row.
 */
function liveKeys(rows: SpectrumRow[], index: SpectrumRowIndex): Set<string> {
  return new Set(rows.filter((row) => !row.removed).map((row) => index.storedKey(row.job, row.phase, row.costType)));
}

/**
 * Everything that must be fixed before anything is written (issue 8 "Check Spectrum before
 * writing", issue 9 items 4 and 6): two rows on one Spectrum row (codes differing only in case, or
 * in the fill Spectrum adds), a phase whose stored form is ambiguous, a cost type outside
 * SPECTRUM_COST_TYPES (when the list is set), and a row Spectrum holds as Complete. The job checks
 * (exists, not Complete) are the caller's: they need GetJob.
 */
export function checkRows(rows: SpectrumRow[], index: SpectrumRowIndex, options: { costTypes: ReadonlySet<string> | null }): RowFlag[] {
  const flags: RowFlag[] = [];
  const live = rows.filter((row) => !row.removed);
  const byKey = new Map<string, SpectrumRow[]>();
  for (const row of live) {
    const key = index.storedKey(row.job, row.phase, row.costType);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  for (const [key, group] of byKey) {
    if (group.length < 2) continue;
    for (const row of group) {
      const others = group.filter((other) => other !== row).map(describeRow);
      flags.push({
        row,
        code: FLAG_CODES.duplicate,
        message: `${describeRow(row)} and ${others.join(', ')} are one Spectrum row (${key.replace(/\|/g, '/')}): Spectrum holds one estimate per job, phase and cost type; fix the mapping so they map to one row`,
        column: 'Phase_Code',
      });
    }
  }
  for (const row of rows) {
    const resolved = index.resolvePhase(row.job, row.phase);
    if (resolved.ambiguous) {
      flags.push({
        row,
        code: FLAG_CODES.ambiguousFill,
        message: `Phase ${row.phase.trim()} of job ${row.job} may be stored by Spectrum as ${resolved.ambiguous.join(' or ')} (filled to the job's phase mask): the connector cannot tell which row it is; use the full code in the mapping`,
        column: 'Phase_Code',
      });
      continue;
    }
    if (!row.removed && options.costTypes && !options.costTypes.has(normalizeCode(row.costType))) {
      flags.push({
        row,
        code: FLAG_CODES.costType,
        message: `Cost type ${row.costType.trim()} is not one of the company's cost types in Spectrum (SPECTRUM_COST_TYPES: ${[...options.costTypes].join(', ')}): fix the mapping, or add the cost type in Spectrum's Cost Type File Maintenance and to SPECTRUM_COST_TYPES`,
        column: 'Cost_Type',
      });
    }
    if (index.find(row.job, row.phase, row.costType).some((record) => record.statusCode === 'C')) {
      const stored = resolved.code ?? row.phase.trim();
      flags.push({
        row,
        code: FLAG_CODES.phaseComplete,
        message: `Phase ${stored} cost type ${row.costType.trim()} of job ${row.job} is Complete in Spectrum: the connector does not write to a Complete phase; reopen it in Spectrum, or take the row out of the budget`,
        column: 'Status_Code',
      });
    }
  }
  return flags;
}

/**
 * One AddPhase per row: Original_Est_Cost = original, Current_Est_Cost = revised;
 * Price_Method_Code only for a row Spectrum lacks; Description for a phase Spectrum lacks entirely
 * (every cost type of a new phase carries the same text — that of its first row — because any of
 * them may reach Spectrum first) and, for a new cost type on an existing phase, exactly the
 * Description GetPhase returned for that phase (docs/architecture.md, "Description": never a new text, so nothing is
 * rewritten); a row Spectrum has gets none. A removed row sends Current_Est_Cost 0.00 alone. The
 * phase code sent is the form Spectrum stores when it is known (see SpectrumRowIndex).
 */
export function planExport(rows: SpectrumRow[], index: SpectrumRowIndex, priceMethodCode: string): ExportPlan {
  const ordered = [...rows].sort((a, b) => a.position - b.position);
  const newPhaseText = new Map<string, string>();
  for (const row of ordered) {
    const key = phaseKey(row.job, row.phase);
    if (!row.removed && !index.phase(row.job, row.phase) && !newPhaseText.has(key)) newPhaseText.set(key, cutDescription(row.description));
  }
  const live = liveKeys(ordered, index);
  const firstOfPhase = new Set<string>();
  const plan: ExportPlan = { writes: [], nothingToDo: [] };
  for (const row of ordered) {
    const existing = index.phase(row.job, row.phase);
    const phaseCode = existing?.code ?? row.phase.trim();
    const base = { jobNumber: row.job.trim(), phaseCode, costType: row.costType.trim() };
    if (row.removed) {
      const key = index.storedKey(row.job, row.phase, row.costType);
      if (live.has(key) || !index.find(row.job, row.phase, row.costType).length) plan.nothingToDo.push(row);
      else plan.writes.push({ row, action: 'update', fields: { ...base, currentEstCost: 0n } });
      continue;
    }
    let action = actionFor(row, index);
    const key = phaseKey(row.job, row.phase);
    if (action === 'new_phase') {
      // The phase's first row creates it; the others add their cost type to it.
      if (firstOfPhase.has(key)) action = 'new_row';
      firstOfPhase.add(key);
    }
    const description = existing ? (action === 'new_row' ? existing.description : '') : newPhaseText.get(key) || row.phase.trim();
    plan.writes.push({
      row,
      action,
      fields: {
        ...base,
        ...(description ? { description } : {}),
        originalEstCost: row.originalBudget,
        currentEstCost: row.revisedEstimate,
        ...(action !== 'update' ? { priceMethodCode } : {}),
      },
    });
  }
  return plan;
}

export function describeRow(row: Pick<SpectrumRow, 'phase' | 'costType'>): string {
  return `${row.phase.trim()}/${row.costType.trim()}`;
}

/** Distinct jobs of the rows, in row order. */
export function jobsOf(rows: Array<Pick<SpectrumRow, 'job'>>): string[] {
  return [...new Set(rows.map((row) => row.job.trim()))];
}
