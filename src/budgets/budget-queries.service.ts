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
 * Reads for the approval API: the list and the details page, in plain SQL (no entity is loaded).
 * The list is one statement. The details are four, run at once: the head (the submission with its
 * people, how many lines and rows it holds and every problem, counted in PostgreSQL from the
 * flagged lines and rows only), a page of lines, a page of rows (docs/architecture.md, "Details paging") and the
 * history. The budget's money totals are the submission's, written in the transaction that stored
 * its lines (by the mapping's rules: a total beyond numeric(18,2) reads 0.00, flagged).
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
    const { items, total } = await this.submissions.page(where, page, perPage);
    return { data: items.map(presentSubmission), page, perPage, total };
  }

  async get(id: string): Promise<Submission> {
    const submission = await this.submissions.findWithPeople(id);
    if (!submission) throw notFound(id);
    return submission;
  }

  /** The details, and the positions of the first and last row on its rows page (null: none on it). */
  async details(id: string, pages: DetailPages = {}) {
    const linesPage = pages.linesPage ?? 1;
    const linesPerPage = pages.linesPerPage ?? DETAIL_PER_PAGE;
    const rowsPage = pages.rowsPage ?? 1;
    const rowsPerPage = pages.rowsPerPage ?? DETAIL_PER_PAGE;
    const [head, lines, rows, history] = await Promise.all([
      this.submissions.detailsHead(id),
      this.snapshots.linesOnPage(id, linesPage, linesPerPage),
      this.snapshots.rowsOnPage(id, rowsPage, rowsPerPage),
      this.audit.history(id),
    ]);
    if (!head) throw notFound(id);
    const rowSpan = rows.length ? { first: rows[0].position, last: rows[rows.length - 1].position } : null;
    const details = {
      ...presentSubmission(head.submission),
      problems: head.problems,
      linesTotal: head.linesTotal,
      linesPage,
      linesPerPage,
      lines: lines.map(presentLine),
      rowsTotal: head.rowsTotal,
      rowsPage,
      rowsPerPage,
      rows: rows.map(presentRow),
      history: history.map(presentHistory),
    };
    return { details, rowSpan };
  }

  /** `GET /api/v1/budgets/:id/lines`: one page of Budget Updates lines. */
  async lines(id: string, page = 1, perPage = DETAIL_PER_PAGE) {
    const [total, items] = await Promise.all([this.snapshots.totalOf('submission_line', id), this.snapshots.linesOnPage(id, page, perPage)]);
    if (total === null) throw notFound(id);
    return { data: items.map(presentLine), total, page, perPage };
  }

  /** `GET /api/v1/budgets/:id/rows`: one page of Spectrum rows. */
  async rows(id: string, page = 1, perPage = DETAIL_PER_PAGE) {
    const [total, items] = await Promise.all([this.snapshots.totalOf('submission_row', id), this.snapshots.rowsOnPage(id, page, perPage)]);
    if (total === null) throw notFound(id);
    return { data: items.map(presentRow), total, page, perPage };
  }

  /** Every reason the submission cannot be accepted, one sentence each, in line order, each once. */
  problems(id: string): Promise<string[]> {
    return this.snapshots.problems(id);
  }
}

function notFound(id: string): BudgetsException {
  return new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${id} does not exist`);
}
