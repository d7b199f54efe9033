import { Injectable } from '@nestjs/common';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { BudgetsException, BudgetsExceptionCode } from './budgets.exception';
import { SnapshotRepository } from './snapshot.repository';
import { Submission } from './submission.entity';
import { SubmissionRepository } from './submission.repository';
import { SubmissionStatus } from './submission-status';
import { presentHistory, presentLine, presentRow, presentSubmission } from './submission.presenter';

/** Lines and rows of a submission: pages of up to 1,000 (docs/architecture.md, "Details paging"). */
export const DETAIL_PER_PAGE = 1000;

export interface ListQuery {
  status?: SubmissionStatus;
  procoreProjectId?: string;
  page?: number;
  perPage?: number;
}

export interface DetailPages {
  linesPage?: number;
  linesPerPage?: number;
  rowsPage?: number;
  rowsPerPage?: number;
}

/**
 * Reads for the approval API: the list and the details page. Lines and rows are read a page at a
 * time (docs/architecture.md, "Details paging"); totals (kept on the submission) and problems always cover the whole
 * budget, computed in the database from the flagged lines and rows only.
 */
@Injectable()
export class BudgetQueries {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly audit: AuditEventRepository,
  ) {}

  async list(query: ListQuery) {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 50;
    const where = {
      ...(query.status ? { status: query.status } : {}),
      ...(query.procoreProjectId ? { procoreProjectId: query.procoreProjectId } : {}),
    };
    const [submissions, total] = await this.submissions.page(where, page, perPage);
    return { data: submissions.map(presentSubmission), page, perPage, total };
  }

  async get(id: string): Promise<Submission> {
    const submission = await this.submissions.findWithPeople(id);
    if (!submission) throw notFound(id);
    return submission;
  }

  async details(id: string, pages: DetailPages = {}) {
    const submission = await this.get(id);
    const linesPage = pages.linesPage ?? 1;
    const linesPerPage = pages.linesPerPage ?? DETAIL_PER_PAGE;
    const rowsPage = pages.rowsPage ?? 1;
    const rowsPerPage = pages.rowsPerPage ?? DETAIL_PER_PAGE;
    const [lines, rows, problems, history] = await Promise.all([
      this.snapshots.lines(id, linesPage, linesPerPage),
      this.snapshots.rowPage(id, rowsPage, rowsPerPage),
      this.snapshots.problems(id),
      this.audit.history(id),
    ]);
    return {
      ...presentSubmission(submission),
      problems,
      linesTotal: lines.total,
      linesPage,
      linesPerPage,
      lines: lines.items.map(presentLine),
      rowsTotal: rows.total,
      rowsPage,
      rowsPerPage,
      rows: rows.items.map(presentRow),
      history: history.map(presentHistory),
    };
  }

  /** `GET /api/v1/budgets/:id/lines`: one page of Budget Updates lines. */
  async lines(id: string, page = 1, perPage = DETAIL_PER_PAGE) {
    await this.assertExists(id);
    const { items, total } = await this.snapshots.lines(id, page, perPage);
    return { data: items.map(presentLine), total, page, perPage };
  }

  /** `GET /api/v1/budgets/:id/rows`: one page of Spectrum rows. */
  async rows(id: string, page = 1, perPage = DETAIL_PER_PAGE) {
    await this.assertExists(id);
    const { items, total } = await this.snapshots.rowPage(id, page, perPage);
    return { data: items.map(presentRow), total, page, perPage };
  }

  /** Every reason the submission cannot be accepted, one sentence each, in line order, each once. */
  problems(id: string): Promise<string[]> {
    return this.snapshots.problems(id);
  }

  private async assertExists(id: string): Promise<void> {
    if (!(await this.submissions.exists(id))) throw notFound(id);
  }
}

function notFound(id: string): BudgetsException {
  return new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${id} does not exist`);
}
