import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { NotFoundError } from '../common/app-error';
import { DETAIL_PER_PAGE, ListBudgetsQueryDto } from './budgets.dto';
import { Submission } from './submission.entity';
import { SubmissionLine } from './submission-line.entity';
import { SubmissionRow } from './submission-row.entity';
import { presentHistory, presentLine, presentRow, presentSubmission } from './submission.presenter';

const PEOPLE = ['sentBy', 'createdBy', 'decidedBy', 'unlockedBy'] as const;

export interface DetailPages {
  linesPage?: number;
  linesPerPage?: number;
  rowsPage?: number;
  rowsPerPage?: number;
}

/**
 * Reads for the approval API: the list and the details page. Lines and rows are read a page at a
 * time (DECISIONS.md, "API"); totals (kept on the submission) and problems always cover the whole
 * budget, computed in the database from the flagged lines and rows only.
 */
@Injectable()
export class BudgetQueries {
  constructor(private readonly em: EntityManager) {}

  async list(query: ListBudgetsQueryDto) {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 50;
    const where = {
      ...(query.status ? { status: query.status } : {}),
      ...(query.procoreProjectId ? { procoreProjectId: query.procoreProjectId } : {}),
    };
    const [submissions, total] = await this.em.findAndCount(Submission, where, {
      populate: PEOPLE,
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: perPage,
      offset: (page - 1) * perPage,
    });
    return { data: submissions.map(presentSubmission), page, perPage, total };
  }

  async get(id: string): Promise<Submission> {
    const submission = await this.em.findOne(Submission, id, { populate: PEOPLE });
    if (!submission) throw new NotFoundError(`Budget submission ${id} does not exist`);
    return submission;
  }

  async details(id: string, pages: DetailPages = {}) {
    const submission = await this.get(id);
    const linesPage = pages.linesPage ?? 1;
    const linesPerPage = pages.linesPerPage ?? DETAIL_PER_PAGE;
    const rowsPage = pages.rowsPage ?? 1;
    const rowsPerPage = pages.rowsPerPage ?? DETAIL_PER_PAGE;
    const [lines, rows, problems, history] = await Promise.all([
      this.linePage(id, linesPage, linesPerPage),
      this.rowPage(id, rowsPage, rowsPerPage),
      this.problems(id),
      this.em.fork().find(AuditEvent, { submission: id }, { populate: ['actor'], orderBy: { createdAt: 'asc', id: 'asc' } }),
    ]);
    return {
      ...presentSubmission(submission),
      problems,
      linesTotal: lines.total,
      linesPage,
      linesPerPage,
      lines: lines.data,
      rowsTotal: rows.total,
      rowsPage,
      rowsPerPage,
      rows: rows.data,
      history: history.map(presentHistory),
    };
  }

  /** `GET /api/v1/budgets/:id/lines`: one page of Budget Updates lines. */
  async lines(id: string, page = 1, perPage = DETAIL_PER_PAGE) {
    await this.assertExists(id);
    return { ...(await this.linePage(id, page, perPage)), page, perPage };
  }

  /** `GET /api/v1/budgets/:id/rows`: one page of Spectrum rows. */
  async rows(id: string, page = 1, perPage = DETAIL_PER_PAGE) {
    await this.assertExists(id);
    return { ...(await this.rowPage(id, page, perPage)), page, perPage };
  }

  /** Every reason the submission cannot be accepted, one sentence each, in line order, each once. */
  async problems(id: string, em: EntityManager = this.em.fork()): Promise<string[]> {
    const found = await em.execute<Array<{ problem: string }>>(
      `select problem from (
         select p.problem, min(array[p.source, p.position, p.ordinality]) as first_seen
           from (
             select 0 as source, r.position, t.ordinality, t.value as problem
               from submission_row r cross join lateral jsonb_array_elements_text(r.problems) with ordinality t
              where r.submission_id = ? and jsonb_array_length(r.problems) > 0
             union all
             select 1, l.position, t.ordinality, t.value
               from submission_line l cross join lateral jsonb_array_elements_text(l.problems) with ordinality t
              where l.submission_id = ? and jsonb_array_length(l.problems) > 0 and l.row_id is null
           ) p
          group by p.problem
       ) q order by first_seen`,
      [id, id],
    );
    return found.map((row) => row.problem);
  }

  private async linePage(id: string, page: number, perPage: number) {
    const [lines, total] = await this.em.fork().findAndCount(
      SubmissionLine,
      { submission: id },
      { orderBy: { position: 'asc' }, limit: perPage, offset: (page - 1) * perPage },
    );
    return { data: lines.map(presentLine), total };
  }

  private async rowPage(id: string, page: number, perPage: number) {
    const [rows, total] = await this.em.fork().findAndCount(
      SubmissionRow,
      { submission: id },
      { orderBy: { position: 'asc' }, limit: perPage, offset: (page - 1) * perPage },
    );
    return { data: rows.map(presentRow), total };
  }

  private async assertExists(id: string): Promise<void> {
    if (!(await this.em.fork().count(Submission, { id }))) throw new NotFoundError(`Budget submission ${id} does not exist`);
  }
}

/** Every reason a submission cannot be accepted, one sentence each (from rows and lines already read). */
export function problemsOf(rows: SubmissionRow[], lines: SubmissionLine[]): string[] {
  const problems: string[] = [];
  for (const row of rows) problems.push(...row.problems);
  for (const line of lines) {
    if (!line.row) problems.push(...line.problems);
  }
  return [...new Set(problems)];
}
