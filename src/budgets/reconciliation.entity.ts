import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Submission } from './submission.entity';
import { Cents } from '../common/money';
import { MoneyType } from '../database/money.type';

export const RECONCILIATION_OUTCOMES = ['synced', 'out_of_sync', 'awaiting_import'] as const;
export type ReconciliationOutcome = (typeof RECONCILIATION_OUTCOMES)[number];

export const VARIANCE_STATUSES = [
  'matched',
  'amount_differs',
  'missing_in_spectrum',
  'not_in_budget',
  /** Two budget rows on one Spectrum row: they can never all match. */
  'duplicate_in_budget',
  /** Spectrum answered more than one record for the row. */
  'duplicate_in_spectrum',
  /** Spectrum's record has no readable estimate (missing, or not an amount). */
  'unreadable',
] as const;
export type VarianceStatus = (typeof VARIANCE_STATUSES)[number];

/** One row of a reconciliation report; amounts as exact two-decimal strings. */
export interface ReconciliationRowResult {
  job: string;
  phase: string;
  costType: string;
  description: string;
  procoreRevised: string | null;
  spectrumEstimated: string | null;
  variance: string;
  status: VarianceStatus;
  /** A removed row: not in this version, expected at 0.00. */
  removed?: boolean;
  /** What else a reader needs to know about the row (a filled phase code, a duplicate, why it is unreadable). */
  note?: string;
}

/**
 * The result of reading Spectrum back for a submission (the Job Cost Report check). Only complete
 * reads produce a row here: a cut-off response is read again, never concluded from.
 */
@Entity({ tableName: 'reconciliation' })
@Index({ properties: ['submission', 'ranAt'] })
export class Reconciliation {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @ManyToOne(() => Submission, { deleteRule: 'cascade', index: false })
  submission: Submission;

  @Property({ type: 'timestamptz' })
  ranAt: Date = new Date();

  @Enum({ items: () => [...RECONCILIATION_OUTCOMES], type: 'text' })
  outcome: ReconciliationOutcome;

  @Property({ type: 'text' })
  companyCode: string;

  @Property({ type: 'text' })
  job: string;

  @Property({ type: MoneyType })
  procoreRevisedTotal: Cents = 0n;

  @Property({ type: MoneyType })
  spectrumEstimatedTotal: Cents = 0n;

  @Property({ type: 'integer' })
  varianceCount = 0;

  @Property({ type: MoneyType })
  tolerance: Cents = 0n;

  /** A plain explanation a controller understands. */
  @Property({ type: 'text' })
  explanation: string;

  @Property({ type: 'json' })
  rows: ReconciliationRowResult[] = [];
}
