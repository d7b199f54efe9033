import { Collection, Entity, Enum, Index, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/core';
import { Cents } from '../common/money';
import { MoneyType } from '../database/money.type';
import { User } from '../users/user.entity';
import { SubmissionLine } from './submission-line.entity';
import { SubmissionRow } from './submission-row.entity';
import { SUBMISSION_STATUSES, SubmissionStatus } from './submission-status';

export const SUBMISSION_SOURCES = ['api', 'webhook', 'poll', 'sample'] as const;
export type SubmissionSource = (typeof SUBMISSION_SOURCES)[number];

/** One budget sent for accounting acceptance, with the snapshot of its lines and rows. */
@Entity({ tableName: 'submission' })
@Index({
  name: 'submission_one_open_per_project',
  expression:
    "create unique index \"submission_one_open_per_project\" on \"submission\" (\"procore_project_id\") where status in ('ingesting', 'ready_to_export', 'exporting', 'exported', 'failed_to_export', 'out_of_sync')",
})
// The list, newest first (created_at, id): unfiltered, by status and by project.
@Index({ properties: ['createdAt', 'id'] })
@Index({ properties: ['status', 'createdAt', 'id'] })
@Index({ properties: ['procoreProjectId', 'createdAt', 'id'] })
export class Submission {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @Property({ type: 'bigint', runtimeType: 'string' })
  procoreProjectId: string;

  @Property({ type: 'text' })
  projectName: string = '';

  /** The Spectrum job the project maps to; null until mapped. */
  @Property({ type: 'text', nullable: true })
  job?: string | null;

  @Enum({ items: () => [...SUBMISSION_STATUSES], type: 'text' })
  status: SubmissionStatus = 'ingesting';

  @Property({ type: 'timestamptz' })
  statusChangedAt: Date = new Date();

  @Enum({ items: () => ['api', 'webhook', 'poll', 'sample'], type: 'text' })
  source: SubmissionSource;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  sentBy?: User | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  createdBy?: User | null;

  @Property({ type: 'timestamptz' })
  sentAt: Date = new Date();

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  decidedBy?: User | null;

  @Property({ type: 'timestamptz', nullable: true })
  decidedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  rejectionReason?: string | null;

  /** The Procore budget view the snapshot was read from. */
  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  budgetViewId?: string | null;

  /** Whether the connector locked the budget in Procore itself (and so unlocks it on failure). */
  @Property({ type: 'boolean' })
  lockedByConnector = false;

  /** The Procore project's origin id and number when read (mapping inputs of the job). */
  @Property({ type: 'text', nullable: true })
  projectOriginId?: string | null;

  @Property({ type: 'text', nullable: true })
  projectNumber?: string | null;

  /** True when the snapshot holds every input of the mapping, so it can be remapped without Procore. */
  @Property({ type: 'boolean' })
  remappable = false;

  /** A hash of the snapshot's lines, to tell whether a locked budget differs from what was sent. */
  @Property({ type: 'text', nullable: true })
  fingerprint?: string | null;

  @Property({ type: MoneyType })
  originalBudget: Cents = 0n;

  @Property({ type: MoneyType })
  budgetChanges: Cents = 0n;

  @Property({ type: MoneyType })
  revisedEstimate: Cents = 0n;

  @Property({ type: 'integer' })
  lineCount = 0;

  @Property({ type: 'integer' })
  rowCount = 0;

  /** Lines and rows that are flagged; a submission with problems cannot be accepted. */
  @Property({ type: 'integer' })
  problemCount = 0;

  @Property({ type: 'text', nullable: true })
  ingestError?: string | null;

  /** When the last export finished writing (or, with the file transport, wrote its file). */
  @Property({ type: 'timestamptz', nullable: true })
  exportedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  unlockedAt?: Date | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  unlockedBy?: User | null;

  @OneToMany(() => SubmissionLine, (line) => line.submission)
  lines = new Collection<SubmissionLine>(this);

  @OneToMany(() => SubmissionRow, (row) => row.submission)
  rows = new Collection<SubmissionRow>(this);

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
