import { toCents } from '../common/money';
import { Submission, SubmissionSource } from './submission.entity';
import { SubmissionStatus } from './submission-status';

/** How SubmissionRepository's plain-SQL reads of a submission arrive, and what they become. */

/** A person a submission names, as the API shows one. */
export interface Person {
  id: string;
  name: string;
  email: string;
}

/** A submission as the API lists and shows it: its columns and the people it names (read with plain SQL; an entity is one too). */
export type SubmissionView = Pick<
  Submission,
  | 'id'
  | 'status'
  | 'procoreProjectId'
  | 'projectName'
  | 'source'
  | 'sentAt'
  | 'statusChangedAt'
  | 'lineCount'
  | 'rowCount'
  | 'problemCount'
  | 'originalBudget'
  | 'budgetChanges'
  | 'revisedEstimate'
> & {
  job?: string | null;
  decidedAt?: Date | null;
  rejectionReason?: string | null;
  unlockedAt?: Date | null;
  ingestError?: string | null;
  sentBy?: Person | null;
  createdBy?: Person | null;
  decidedBy?: Person | null;
  unlockedBy?: Person | null;
};

/** The columns of a SubmissionView (`s` the submission, `sb`, `cb`, `db`, `ub` its people). */
export const VIEW_COLUMNS = `s.id, s.status, s.procore_project_id, s.project_name, s.job, s.source, s.sent_at, s.decided_at, s.rejection_reason,
  s.status_changed_at, s.unlocked_at, s.ingest_error, s.line_count, s.row_count, s.problem_count,
  s.original_budget::text as original_budget, s.budget_changes::text as budget_changes, s.revised_estimate::text as revised_estimate,
  sb.id as sb_id, sb.name as sb_name, sb.email as sb_email, cb.id as cb_id, cb.name as cb_name, cb.email as cb_email,
  db.id as db_id, db.name as db_name, db.email as db_email, ub.id as ub_id, ub.name as ub_name, ub.email as ub_email`;
export const PEOPLE_JOINS = `left join app_user sb on sb.id = s.sent_by_id left join app_user cb on cb.id = s.created_by_id
  left join app_user db on db.id = s.decided_by_id left join app_user ub on ub.id = s.unlocked_by_id`;

type PersonColumns = { [column in `${'sb' | 'cb' | 'db' | 'ub'}_${'id' | 'name' | 'email'}`]: string | number | null };

export type ViewRecord = PersonColumns & {
  id: string | number;
  status: SubmissionStatus;
  procore_project_id: string | number;
  project_name: string;
  job: string | null;
  source: SubmissionSource;
  sent_at: Date | string;
  decided_at: Date | string | null;
  rejection_reason: string | null;
  status_changed_at: Date | string;
  unlocked_at: Date | string | null;
  ingest_error: string | null;
  line_count: number;
  row_count: number;
  problem_count: number;
  original_budget: string;
  budget_changes: string;
  revised_estimate: string;
};

export function submissionView(record: ViewRecord): SubmissionView {
  const person = (prefix: 'sb' | 'cb' | 'db' | 'ub'): Person | null =>
    record[`${prefix}_id`] === null ? null : { id: String(record[`${prefix}_id`]), name: String(record[`${prefix}_name`]), email: String(record[`${prefix}_email`]) };
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  return {
    id: String(record.id),
    status: record.status,
    procoreProjectId: String(record.procore_project_id),
    projectName: record.project_name,
    job: record.job,
    source: record.source,
    sentAt: new Date(record.sent_at),
    decidedAt: date(record.decided_at),
    rejectionReason: record.rejection_reason,
    statusChangedAt: new Date(record.status_changed_at),
    unlockedAt: date(record.unlocked_at),
    ingestError: record.ingest_error,
    lineCount: Number(record.line_count),
    rowCount: Number(record.row_count),
    problemCount: Number(record.problem_count),
    originalBudget: toCents(record.original_budget),
    budgetChanges: toCents(record.budget_changes),
    revisedEstimate: toCents(record.revised_estimate),
    sentBy: person('sb'),
    createdBy: person('cb'),
    decidedBy: person('db'),
    unlockedBy: person('ub'),
  };
}
