import { Cents } from '../common/money';
import type { NewSpectrumRow } from './submission-row.entity';

/**
 * A budget as a submission stores it: what the mapping (src/procore/mapping) makes of a budget
 * read from Procore, and what a remap makes of a stored one. Budgets store it; they never map.
 */

/** One Procore budget line as Procore's "Budget Updates" shows it, and where it maps in Spectrum. */
export interface SnapshotLine {
  /** 0-based, in Procore's order; messages say `Line position+1`. */
  position: number;
  procoreLineId: string;
  costCodeId: string | null;
  /** The full code, e.g. `01-100`; empty when the line has none. */
  costCode: string;
  categoryId: string | null;
  category: string;
  description: string;
  originalBudget: Cents;
  budgetChanges: Cents;
  revisedEstimate: Cents;
  job: string | null;
  phase: string | null;
  costType: string | null;
  /** Position of the row it is summed into; null when it maps to no row. */
  rowPosition: number | null;
  problems: string[];
  notes: string[];
  /** Mapping inputs the snapshot keeps for a remap (absent: unknown, and the submission cannot be remapped). */
  costCodeOriginId?: string | null;
  categoryCode?: string | null;
  categoryOriginId?: string | null;
  amountProblem?: string | null;
}

export interface BudgetSnapshot {
  projectName: string;
  /**
   * The project's origin id and number: mapping inputs the snapshot keeps, so it can be remapped
   * (absent: a budget not read from Procore, which cannot be).
   */
  projectOriginId?: string | null;
  projectNumber?: string | null;
  /** The Spectrum job of the project; null when nothing maps it. */
  job: string | null;
  lines: SnapshotLine[];
  rows: NewSpectrumRow[];
  totals: { originalBudget: Cents; budgetChanges: Cents; revisedEstimate: Cents };
  /** Flagged rows plus flagged lines that map to no row. */
  problemCount: number;
  /**
   * A hash of the budget as Procore has it, with every Procore-side input of the mapping (project
   * origin id and number; cost code full code, origin id and name; category name, code and origin
   * id) but not the mapping file: it tells whether the budget changed in Procore.
   */
  fingerprint: string;
}

/** A stored snapshot with every mapping input, as a remap reads it back. */
export interface StoredSnapshot {
  procoreProjectId: string;
  projectName: string;
  projectOriginId: string | null;
  projectNumber: string | null;
  fingerprint: string | null;
  lines: StoredLine[];
}

/** A stored line's Procore-side facts (what the mapping needs), amounts exact. */
export interface StoredLine {
  procoreLineId: string;
  costCodeId: string | null;
  costCode: string;
  categoryId: string | null;
  category: string;
  categoryCode: string | null;
  categoryOriginId: string | null;
  costCodeOriginId: string | null;
  description: string;
  originalBudget: Cents;
  budgetChanges: Cents;
  revisedEstimate: Cents;
  amountProblem: string | null;
  notes: string[];
}
