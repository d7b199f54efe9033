import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Submission } from '../budgets/submission.entity';
import { Cents } from '../common/money';
import { MoneyType } from '../database/money.type';

export const RECONCILIATION_OUTCOMES = ['synced', 'out_of_sync', 'awaiting_import'] as const;
export type ReconciliationOutcome = (typeof RECONCILIATION_OUTCOMES)[number];

export const VARIANCE_STATUSES = ['matched', 'amount_differs', 'missing_in_spectrum', 'not_in_budget'] as const;
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
