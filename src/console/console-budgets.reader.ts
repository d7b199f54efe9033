import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { BudgetQueries } from '../budgets/budget-queries.service';
import { Submission } from '../budgets/submission.entity';
import { RowExportError } from '../budgets/submission-row.entity';
import { SubmissionStatus } from '../budgets/submission-status';
import { presentHistory, presentSubmission } from '../budgets/submission.presenter';
import { NotFoundError } from '../common/app-error';
import { ReconciliationOutcome, ReconciliationRowResult } from '../reconciliation/reconciliation.entity';
import { formatMoney, toCents } from '../common/money';
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

  /** One page of Budget Updates lines; `problems` keeps only flagged lines. Plain SQL: no entities to hydrate. */
  async lines(id: string, page: number, onlyProblems: boolean, perPage = LINES_PER_PAGE) {
    const filter = onlyProblems ? 'and jsonb_array_length(problems) > 0' : '';
    const em = this.em.fork();
    const [records, total] = await Promise.all([
      em.execute<LineRecord[]>(
        `select procore_line_id, cost_code, category, description, original_budget::text as original_budget, budget_changes::text as budget_changes,
                revised_estimate::text as revised_estimate, job, phase, cost_type, problems, notes
           from submission_line where submission_id = ? ${filter} order by position limit ? offset ?`,
        [id, perPage, (page - 1) * perPage],
      ),
      this.count('submission_line', id, filter),
    ]);
    const items = records.map((line) => ({
      procoreLineId: line.procore_line_id === null ? null : String(line.procore_line_id),
      costCode: line.cost_code,
      category: line.category,
      description: line.description,
      originalBudget: money(line.original_budget),
      budgetChanges: money(line.budget_changes),
      revisedEstimate: money(line.revised_estimate),
      job: line.job,
      phase: line.phase,
      costType: line.cost_type,
      problems: jsonList(line.problems),
      notes: jsonList(line.notes),
    }));
    return { items, total, page, pages: Math.max(1, Math.ceil(total / perPage)) };
  }

  /** One page of Spectrum rows; `failed` keeps rows Spectrum refused, `problems` flagged rows. */
  async rows(id: string, page: number, only: 'failed' | 'problems' | null) {
    const filter = only === 'failed' ? `and export_state = 'failed'` : only === 'problems' ? 'and jsonb_array_length(problems) > 0' : '';
    const em = this.em.fork();
    const [records, total] = await Promise.all([
      em.execute<RowRecord[]>(
        `select job, phase, cost_type, description, original_budget::text as original_budget, revised_estimate::text as revised_estimate,
                line_count, problems, export_state, export_error, written_at, removed, removed_estimate::text as removed_estimate
           from submission_row where submission_id = ? ${filter} order by position limit ? offset ?`,
        [id, ROWS_PER_PAGE, (page - 1) * ROWS_PER_PAGE],
      ),
      this.count('submission_row', id, filter),
    ]);
    const items = records.map((row) => ({
      job: row.job,
      phase: row.phase,
      costType: row.cost_type,
      description: row.description,
      originalBudget: money(row.original_budget),
      revisedEstimate: money(row.revised_estimate),
      lineCount: row.line_count,
      problems: jsonList(row.problems),
      exportState: row.export_state,
      error: (typeof row.export_error === 'string' ? JSON.parse(row.export_error) : row.export_error) as RowExportError | null,
      writtenAt: row.written_at ? new Date(row.written_at).toISOString() : null,
      removed: row.removed,
      removedEstimate: row.removed_estimate === null ? null : money(row.removed_estimate),
    }));
    return { items, total, page, pages: Math.max(1, Math.ceil(total / ROWS_PER_PAGE)) };
  }

  private async count(table: 'submission_line' | 'submission_row', id: string, filter: string): Promise<number> {
    const [{ count }] = await this.em.fork().execute<Array<{ count: string }>>(`select count(*) as count from ${table} where submission_id = ? ${filter}`, [id]);
    return Number(count);
  }

  /** Every problem of the budget: the API's own query (flagged lines and rows only, in line order). */
  problems(id: string): Promise<string[]> {
    return this.queries.problems(id);
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

  /**
   * The latest reconciliation: totals, explanation and the first rows that do not match. The rows
   * are picked out in PostgreSQL: a 20,000-row report is megabytes of JSON the page does not need.
   */
  async reconciliation(submission: Submission) {
    const [report] = await this.em.fork().execute<ReportRow[]>(
      `select r.id, r.ran_at, r.outcome, r.company_code, r.job, r.procore_revised_total::text as procore_revised_total,
              r.spectrum_estimated_total::text as spectrum_estimated_total, r.variance_count, r.tolerance::text as tolerance, r.explanation,
              jsonb_array_length(r.rows) as row_count,
              (select coalesce(jsonb_agg(v.e), '[]'::jsonb)
                 from (select e from jsonb_array_elements(r.rows) with ordinality as a(e, n) where e->>'status' <> 'matched' order by n limit ?) v) as variances
         from reconciliation r where r.submission_id = ? order by r.ran_at desc, r.id desc limit 1`,
      [VARIANCES_SHOWN, submission.id],
    );
    if (!report) return null;
    const procore = toCents(report.procore_revised_total);
    const spectrum = toCents(report.spectrum_estimated_total);
    const variances = (typeof report.variances === 'string' ? JSON.parse(report.variances) : report.variances) as ReconciliationRowResult[];
    return {
      id: String(report.id),
      ranAt: new Date(report.ran_at).toISOString(),
      outcome: report.outcome,
      spectrumCompany: report.company_code,
      job: report.job,
      tolerance: formatMoney(toCents(report.tolerance)),
      explanation: report.explanation,
      varianceCount: report.variance_count,
      totals: { procoreRevised: formatMoney(procore), spectrumEstimated: formatMoney(spectrum), variance: formatMoney(spectrum - procore) },
      rowCount: Number(report.row_count),
      variances,
      varianceMore: Math.max(0, report.variance_count - variances.length),
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

  /** Every line, for the CSV download, 5,000 at a time (plain SQL, as for the page). */
  async *allLines(id: string) {
    for (let page = 1; ; page++) {
      const { items, pages } = await this.lines(id, page, false, 5000);
      yield items;
      if (page >= pages) return;
    }
  }
}

interface ReportRow {
  id: string;
  ran_at: Date | string;
  outcome: ReconciliationOutcome;
  company_code: string;
  job: string;
  procore_revised_total: string;
  spectrum_estimated_total: string;
  variance_count: number;
  tolerance: string;
  explanation: string;
  row_count: string | number;
  variances: ReconciliationRowResult[] | string;
}

interface LineRecord {
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

interface RowRecord {
  job: string | null;
  phase: string | null;
  cost_type: string | null;
  description: string;
  original_budget: string;
  revised_estimate: string;
  line_count: number;
  problems: string[] | string;
  export_state: string;
  export_error: RowExportError | string | null;
  written_at: Date | string | null;
  removed: boolean;
  removed_estimate: string | null;
}

/** numeric(18,2) as text → exactly two decimals. */
function money(value: string): string {
  return formatMoney(toCents(value));
}

function jsonList(value: string[] | string | null): string[] {
  if (value === null) return [];
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : value;
}
