import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Cents } from '../common/money';
import { MoneyType } from '../database/money.type';
import { Submission } from './submission.entity';

export const ROW_EXPORT_STATES = ['pending', 'written', 'failed'] as const;
export type RowExportState = (typeof ROW_EXPORT_STATES)[number];

export interface RowExportError {
  code: string;
  message: string;
  column?: string | null;
}

/** What the export did in Spectrum: created the phase, added a cost type to it, or updated a row. */
export type SpectrumAction = 'new_phase' | 'new_row' | 'update';

/**
 * A submission's Spectrum row — one job / phase / cost type, the sum of the lines that map to it —
 * as all code works with it: the mapping produces it (without the export columns: `NewSpectrumRow`),
 * the snapshot stores it, the export, the preview and reconciliation read it, the API and the
 * console show it. The one type of `submission_row`; the entity below only maps it to the table.
 */
export interface SpectrumRow {
  id: string;
  position: number;
  /** The row's job, or the submission's when the row names none ('' when neither does). */
  job: string;
  phase: string;
  costType: string;
  description: string;
  originalBudget: Cents;
  revisedEstimate: Cents;
  lineCount: number;
  /** Why the row cannot be exported as it is; empty when it can. */
  problems: string[];
  /** The export ledger: a row marked `written` is never sent again. */
  exportState: RowExportState;
  exportError: RowExportError | null;
  writtenAt: Date | null;
  /** What the export did in Spectrum (null until written, and for transfer files). */
  spectrumAction: SpectrumAction | null;
  /** A removed row: one an earlier export wrote that this version lacks; the export sets it to 0.00. */
  removed: boolean;
  /** For a removed row: the current estimate the earlier export wrote, which this row drops. */
  removedEstimate: Cents | null;
}

/** A row as the mapping produces it, before it is stored. */
export type NewSpectrumRow = Pick<SpectrumRow, 'position' | 'job' | 'phase' | 'costType' | 'description' | 'originalBudget' | 'revisedEstimate' | 'lineCount' | 'problems'>;

/** A row an export wrote, as the removed rows of a later version need it. */
export type WrittenRow = Pick<SpectrumRow, 'job' | 'phase' | 'costType' | 'description' | 'revisedEstimate' | 'removed'> & { writtenAt: Date };

/**
 * The table of SpectrumRow. Its export state is the export ledger: a row marked `written` is never
 * sent again.
 */
@Entity({ tableName: 'submission_row' })
@Unique({ properties: ['submission', 'job', 'phase', 'costType'] })
// A page of rows in order, and the flagged ones for the problems of a whole budget.
@Index({ properties: ['submission', 'position'] })
@Index({
  name: 'submission_row_flagged',
  expression: 'create index "submission_row_flagged" on "submission_row" ("submission_id", "position") where jsonb_array_length("problems") > 0',
})
export class SubmissionRow {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @ManyToOne(() => Submission, { deleteRule: 'cascade', index: false })
  submission: Submission;

  @Property({ type: 'integer' })
  position: number;

  @Property({ type: 'text', nullable: true })
  job?: string | null;

  @Property({ type: 'text', nullable: true })
  phase?: string | null;

  @Property({ type: 'text', nullable: true })
  costType?: string | null;

  @Property({ type: 'text' })
  description: string = '';

  @Property({ type: MoneyType })
  originalBudget: Cents = 0n;

  @Property({ type: MoneyType })
  revisedEstimate: Cents = 0n;

  @Property({ type: 'integer' })
  lineCount = 0;

  @Property({ type: 'json' })
  problems: string[] = [];

  @Enum({ items: () => [...ROW_EXPORT_STATES], type: 'text' })
  exportState: RowExportState = 'pending';

  @Property({ type: 'json', nullable: true })
  exportError?: RowExportError | null;

  @Property({ type: 'integer' })
  exportAttempts = 0;

  @Property({ type: 'timestamptz', nullable: true })
  writtenAt?: Date | null;

  /**
   * A removed row: one an earlier export of the same project wrote to Spectrum and this version
   * lacks (src/spectrum/removed-rows.ts). Its revised estimate is 0.00: the export sets Spectrum's
   * current estimate to 0.00 and leaves the original estimate as it is.
   */
  @Property({ type: 'boolean' })
  removed = false;

  /** For a removed row: the current estimate the earlier export wrote, which this version drops to 0.00. */
  @Property({ type: MoneyType, nullable: true })
  removedEstimate?: Cents | null;

  @Enum({ items: () => ['new_phase', 'new_row', 'update'], type: 'text', nullable: true })
  spectrumAction?: SpectrumAction | null;
}
