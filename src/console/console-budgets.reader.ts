import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { BudgetQueries, problemsOf } from '../budgets/budget-queries.service';
import { Submission } from '../budgets/submission.entity';
import { SubmissionLine } from '../budgets/submission-line.entity';
import { SubmissionRow } from '../budgets/submission-row.entity';
import { SubmissionStatus } from '../budgets/submission-status';
import { presentHistory, presentLine, presentRow, presentSubmission } from '../budgets/submission.presenter';
import { NotFoundError } from '../common/app-error';
import { Reconciliation } from '../reconciliation/reconciliation.entity';
import { presentReport } from '../reconciliation/reconciliation-report';
import { unlockRefusal } from '../reconciliation/reconciliation-gate';

/** The filters of the Budgets list, as Procore's ERP tool names them ("Filter Estimates By"). */
export const LIST_FILTERS = [
  { key: 'ready_to_export', label: 'Ready to Export', statuses: ['ready_to_export'] },
  { key: 'failed_to_export', label: 'Failed to Export', statuses: ['failed_to_export'] },
  { key: 'out_of_sync', label: 'Out of Sync', statuses: ['out_of_sync'] },
  // In flight: being written, or written and waiting for reconciliation to read Spectrum back.
  { key: 'exporting', label: 'Exporting', statuses: ['exporting', 'exported'] },
  { key: 'synced', label: 'Synced', statuses: ['synced'] },
  { key: 'rejected', label: 'Rejected', statuses: ['rejected'] },
  { key: 'all', label: 'All', statuses: null },
] as const satisfies ReadonlyArray<{ key: string; label: string; statuses: readonly SubmissionStatus[] | null }>;
export type ListFilter = (typeof LIST_FILTERS)[number]['key'];

export const LIST_PER_PAGE = 25;
export const LINES_PER_PAGE = 100;
export const ROWS_PER_PAGE = 100;
/** Variances shown on the page; the CSV and printable report hold all of them. */
const VARIANCES_SHOWN = 200;

/** Statuses during which the page follows progress live. */
export const IN_FLIGHT: readonly SubmissionStatus[] = ['ingesting', 'exporting', 'exported'];

/**
 * The console's reads. Everything a page shows is paged in the database (a 20,000-line budget
 * renders like a 20-line one); totals and problems always cover the whole budget.
 */
@Injectable()
export class ConsoleBudgetsReader {
  constructor(
    private readonly em: EntityManager,
    private readonly queries: BudgetQueries,
  ) {}

  async list(filter: ListFilter, search: string, page: number) {
    const em = this.em.fork();
    const searchSql = search ? `(project_name ilike ? or job ilike ? or procore_project_id::text = ?)` : 'true';
    const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const searchParams = search ? [like, like, search] : [];
    const counts = await em.execute<Array<{ status: SubmissionStatus; count: string }>>(
      `select status, count(*) as count from submission where ${searchSql} group by status`,
      searchParams,
    );
    const byStatus = new Map(counts.map((row) => [row.status, Number(row.count)]));
    const filters = LIST_FILTERS.map((f) => ({
      key: f.key,
      label: f.label,
      count: f.statuses ? f.statuses.reduce((sum, status) => sum + (byStatus.get(status) ?? 0), 0) : [...byStatus.values()].reduce((a, b) => a + b, 0),
      active: f.key === filter,
    }));
    const statuses = LIST_FILTERS.find((f) => f.key === filter)!.statuses;
    const where: Record<string, unknown> = statuses ? { status: { $in: [...statuses] } } : {};
    if (search) {
      where.$or = [{ projectName: { $ilike: like } }, { job: { $ilike: like } }, ...(/^\d{1,18}$/.test(search) ? [{ procoreProjectId: search }] : [])];
    }
    const [submissions, total] = await em.findAndCount(Submission, where, {
      populate: ['sentBy', 'decidedBy'],
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: LIST_PER_PAGE,
      offset: (page - 1) * LIST_PER_PAGE,
    });
    return { filters, budgets: submissions.map(presentSubmission), total, page, pages: Math.max(1, Math.ceil(total / LIST_PER_PAGE)) };
  }

  async submission(id: string): Promise<Submission> {
    return this.queries.get(id);
  }

  /** One page of Budget Updates lines; `problems` keeps only flagged lines. */
  async lines(id: string, page: number, onlyProblems: boolean) {
    const qb = this.em.fork().createQueryBuilder(SubmissionLine, 'l').where({ submission: id });
    if (onlyProblems) qb.andWhere(`jsonb_array_length(l.problems) > 0`);
    const [lines, total] = await qb
      .orderBy({ position: 'asc' })
      .limit(LINES_PER_PAGE)
      .offset((page - 1) * LINES_PER_PAGE)
      .getResultAndCount();
    return { items: lines.map(presentLine), total, page, pages: Math.max(1, Math.ceil(total / LINES_PER_PAGE)) };
  }

  /** One page of Spectrum rows; `failed` keeps rows Spectrum refused, `problems` flagged rows. */
  async rows(id: string, page: number, only: 'failed' | 'problems' | null) {
    const qb = this.em.fork().createQueryBuilder(SubmissionRow, 'r').where({ submission: id });
    if (only === 'failed') qb.andWhere({ exportState: 'failed' });
    if (only === 'problems') qb.andWhere(`jsonb_array_length(r.problems) > 0`);
    const [rows, total] = await qb
      .orderBy({ position: 'asc' })
      .limit(ROWS_PER_PAGE)
      .offset((page - 1) * ROWS_PER_PAGE)
      .getResultAndCount();
    return { items: rows.map(presentRow), total, page, pages: Math.max(1, Math.ceil(total / ROWS_PER_PAGE)) };
  }

  /** Every problem of the budget (reading only the flagged lines and rows). */
  async problems(id: string): Promise<string[]> {
    const em = this.em.fork();
    const [rows, lines] = await Promise.all([
      em.createQueryBuilder(SubmissionRow, 'r').where({ submission: id }).andWhere(`jsonb_array_length(r.problems) > 0`).getResult(),
      em.createQueryBuilder(SubmissionLine, 'l').where({ submission: id, row: null }).andWhere(`jsonb_array_length(l.problems) > 0`).getResult(),
    ]);
    return problemsOf(rows, lines);
  }

  /** Lines whose amounts were rounded to the cent (and other non-blocking notes). */
  async noteCount(id: string): Promise<number> {
    const [{ count }] = await this.em.fork().execute<Array<{ count: string }>>(
      `select count(*) as count from submission_line where submission_id = ? and jsonb_array_length(notes) > 0`,
      [id],
    );
    return Number(count);
  }

  async jobs(id: string): Promise<string[]> {
    const rows = await this.em.fork().execute<Array<{ job: string }>>(
      `select distinct coalesce(r.job, s.job) as job from submission_row r join submission s on s.id = r.submission_id
        where r.submission_id = ? and coalesce(r.job, s.job) is not null order by 1`,
      [id],
    );
    return rows.map((row) => row.job);
  }

  async history(id: string) {
    const events = await this.em.fork().find(AuditEvent, { submission: id }, { populate: ['actor'], orderBy: { createdAt: 'asc', id: 'asc' } });
    return events.map(presentHistory);
  }

  /** The export's progress: rows written, failed and still to write. */
  async progress(id: string) {
    const em = this.em.fork();
    const [submission] = await em.execute<Array<{ status: SubmissionStatus; version: string; row_count: number }>>(
      `select status, status_changed_at::text as version, row_count from submission where id = ?`,
      [id],
    );
    if (!submission) throw new NotFoundError(`Budget submission ${id} does not exist`);
    const states = await em.execute<Array<{ export_state: string; count: string }>>(
      `select export_state, count(*) as count from submission_row where submission_id = ? group by export_state`,
      [id],
    );
    const count = (state: string) => Number(states.find((s) => s.export_state === state)?.count ?? 0);
    const total = states.reduce((sum, s) => sum + Number(s.count), 0);
    return {
      status: submission.status,
      version: submission.version,
      inFlight: IN_FLIGHT.includes(submission.status),
      rows: { total, written: count('written'), failed: count('failed'), pending: count('pending') },
    };
  }

  /** The latest reconciliation: totals, explanation and the rows that do not match (the first ones). */
  async reconciliation(submission: Submission) {
    const report = await this.em.fork().findOne(Reconciliation, { submission: submission.id }, { orderBy: { ranAt: 'desc', id: 'desc' } });
    if (!report) return null;
    const presented = presentReport(report, submission);
    const variances = presented.rows.filter((row) => row.status !== 'matched');
    return {
      ...presented,
      rows: undefined,
      rowCount: presented.rows.length,
      variances: variances.slice(0, VARIANCES_SHOWN),
      varianceMore: Math.max(0, variances.length - VARIANCES_SHOWN),
    };
  }

  /** Why Unlock is not offered yet, or null when it may be. */
  unlockRefusal(id: string): Promise<string | null> {
    return unlockRefusal(this.em.fork(), id);
  }

  /** The latest status change, to say who got there first when an action lost a race. */
  async latestTransition(id: string) {
    const event = await this.em.fork().findOne(
      AuditEvent,
      { submission: id, toStatus: { $ne: null } },
      { populate: ['actor'], orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    return event ? presentHistory(event) : null;
  }

  /** Every line, for the CSV download (streamed in pages). */
  async *allLines(id: string) {
    const em = this.em.fork();
    for (let offset = 0; ; offset += 2000) {
      const lines = await em.find(SubmissionLine, { submission: id }, { orderBy: { position: 'asc' }, limit: 2000, offset });
      if (!lines.length) return;
      yield lines.map(presentLine);
      em.clear();
    }
  }
}
