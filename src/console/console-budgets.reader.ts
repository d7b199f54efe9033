import { Injectable } from '@nestjs/common';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { BudgetQueries } from '../budgets/budget-queries.service';
import { BudgetsException, BudgetsExceptionCode } from '../budgets/budgets.exception';
import { ReconciliationGate } from '../budgets/reconciliation-gate';
import { ReconciliationRepository } from '../budgets/reconciliation.repository';
import { SnapshotRepository } from '../budgets/snapshot.repository';
import { Submission } from '../budgets/submission.entity';
import { SubmissionRepository } from '../budgets/submission.repository';
import { SubmissionStatus } from '../budgets/submission-status';
import { presentHistory, presentRow, presentSubmission } from '../budgets/submission.presenter';
import { formatMoney } from '../common/money';

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
    private readonly queries: BudgetQueries,
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly reconciliations: ReconciliationRepository,
    private readonly audit: AuditEventRepository,
    private readonly gate: ReconciliationGate,
  ) {}

  async list(filter: ListFilter, search: string, page: number) {
    const byStatus = await this.submissions.countByStatus(search);
    const filters = LIST_FILTERS.map((f) => ({
      key: f.key,
      label: f.label,
      count: f.statuses ? f.statuses.reduce((sum, status) => sum + (byStatus.get(status) ?? 0), 0) : [...byStatus.values()].reduce((a, b) => a + b, 0),
      active: f.key === filter,
    }));
    const statuses = LIST_FILTERS.find((f) => f.key === filter)!.statuses;
    const [submissions, total] = await this.submissions.search(statuses, search, page, LIST_PER_PAGE);
    return { filters, budgets: submissions.map(presentSubmission), total, page, pages: Math.max(1, Math.ceil(total / LIST_PER_PAGE)) };
  }

  async submission(id: string): Promise<Submission> {
    return this.queries.get(id);
  }

  /** One page of Budget Updates lines; `problems` keeps only flagged lines. */
  async lines(id: string, page: number, onlyProblems: boolean, perPage = LINES_PER_PAGE) {
    const { items, total } = await this.snapshots.lines(id, page, perPage, { onlyProblems });
    return {
      items: items.map((line) => ({
        ...line,
        originalBudget: formatMoney(line.originalBudget),
        budgetChanges: formatMoney(line.budgetChanges),
        revisedEstimate: formatMoney(line.revisedEstimate),
      })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / perPage)),
    };
  }

  /** One page of Spectrum rows; `failed` keeps rows Spectrum refused, `problems` flagged rows. */
  async rows(id: string, page: number, only: 'failed' | 'problems' | null) {
    const { items, total } = await this.snapshots.rowPage(id, page, ROWS_PER_PAGE, only);
    return {
      items: items.map(presentRow),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / ROWS_PER_PAGE)),
    };
  }

  /** Every problem of the budget: the API's own query (flagged lines and rows only, in line order). */
  problems(id: string): Promise<string[]> {
    return this.queries.problems(id);
  }

  /** Lines whose amounts were rounded to the cent (and other non-blocking notes). */
  noteCount(id: string): Promise<number> {
    return this.snapshots.noteCount(id);
  }

  async jobs(id: string): Promise<string[]> {
    return (await this.snapshots.jobsOf([id])).get(id) ?? [];
  }

  async history(id: string) {
    return (await this.audit.history(id)).map(presentHistory);
  }

  /** The export's progress: rows written, failed and still to write. */
  async progress(id: string) {
    const [current, rows] = await Promise.all([this.submissions.statusVersion(id), this.snapshots.rowCounts(id)]);
    if (!current) throw new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${id} does not exist`);
    return { status: current.status, version: current.version, inFlight: IN_FLIGHT.includes(current.status), rows };
  }

  /** The latest reconciliation: totals, explanation and the first rows that do not match. */
  async reconciliation(submission: Submission) {
    const report = await this.reconciliations.latestSummary(submission.id, VARIANCES_SHOWN);
    if (!report) return null;
    const procore = report.procoreRevisedTotal;
    const spectrum = report.spectrumEstimatedTotal;
    return {
      id: report.id,
      ranAt: report.ranAt.toISOString(),
      outcome: report.outcome,
      spectrumCompany: report.companyCode,
      job: report.job,
      tolerance: formatMoney(report.tolerance),
      explanation: report.explanation,
      varianceCount: report.varianceCount,
      totals: { procoreRevised: formatMoney(procore), spectrumEstimated: formatMoney(spectrum), variance: formatMoney(spectrum - procore) },
      rowCount: report.rowCount,
      variances: report.variances,
      varianceMore: Math.max(0, report.varianceCount - report.variances.length),
    };
  }

  /** Why Unlock is not offered yet, or null when it may be. */
  unlockRefusal(id: string): Promise<string | null> {
    return this.gate.unlockRefusal(id);
  }

  /** The latest status change, to say who got there first when an action lost a race. */
  async latestTransition(id: string) {
    const event = await this.audit.latestTransition(id);
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
