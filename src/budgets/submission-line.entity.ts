import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Cents } from '../common/money';
import { MoneyType } from '../database/money.type';
import { Submission } from './submission.entity';
import { SubmissionRow } from './submission-row.entity';

/** One Procore budget line as Procore's "Budget Updates" shows it, and where it maps in Spectrum. */
@Entity({ tableName: 'submission_line' })
@Index({ properties: ['submission', 'position'] })
// The flagged lines, for the problems of a whole budget.
@Index({
  name: 'submission_line_flagged',
  expression: 'create index "submission_line_flagged" on "submission_line" ("submission_id", "position") where jsonb_array_length("problems") > 0',
})
export class SubmissionLine {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @ManyToOne(() => Submission, { deleteRule: 'cascade', index: false })
  submission: Submission;

  @Property({ type: 'integer' })
  position: number;

  /** Procore's budget line item id. */
  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  procoreLineId?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  costCodeId?: string | null;

  @Property({ type: 'text' })
  costCode: string = '';

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  categoryId?: string | null;

  @Property({ type: 'text' })
  category: string = '';

  @Property({ type: 'text' })
  description: string = '';

  @Property({ type: MoneyType })
  originalBudget: Cents = 0n;

  @Property({ type: MoneyType })
  budgetChanges: Cents = 0n;

  @Property({ type: MoneyType })
  revisedEstimate: Cents = 0n;

  @Property({ type: 'text', nullable: true })
  job?: string | null;

  @Property({ type: 'text', nullable: true })
  phase?: string | null;

  @Property({ type: 'text', nullable: true })
  costType?: string | null;

  @ManyToOne(() => SubmissionRow, { nullable: true, deleteRule: 'set null' })
  row?: SubmissionRow | null;

  /** The cost code's origin id in Procore (a mapping input, kept so a remap needs no Procore read). */
  @Property({ type: 'text', nullable: true })
  costCodeOriginId?: string | null;

  /** The category's code in Procore (a mapping input). */
  @Property({ type: 'text', nullable: true })
  categoryCode?: string | null;

  /** The category's origin id in Procore (a mapping input). */
  @Property({ type: 'text', nullable: true })
  categoryOriginId?: string | null;

  /** Why the line's amounts could not be read, when they could not (kept across a remap). */
  @Property({ type: 'text', nullable: true })
  amountProblem?: string | null;

  /** Why this line cannot be exported as it is; empty when it can. */
  @Property({ type: 'json' })
  problems: string[] = [];

  /** Things worth knowing that do not block export (e.g. an amount rounded to the cent). */
  @Property({ type: 'json' })
  notes: string[] = [];
}
