import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { NotFoundError } from '../common/app-error';
import { ListBudgetsQueryDto } from './budgets.dto';
import { Submission } from './submission.entity';
import { SubmissionLine } from './submission-line.entity';
import { SubmissionRow } from './submission-row.entity';
import { presentHistory, presentLine, presentRow, presentSubmission } from './submission.presenter';

const PEOPLE = ['sentBy', 'createdBy', 'decidedBy', 'unlockedBy'] as const;

/** Reads for the approval API: the list and the details page. */
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

  async details(id: string) {
    const submission = await this.get(id);
    const [lines, rows, history] = await Promise.all([
      this.em.find(SubmissionLine, { submission: id }, { orderBy: { position: 'asc' } }),
      this.em.find(SubmissionRow, { submission: id }, { orderBy: { position: 'asc' } }),
      this.em.find(AuditEvent, { submission: id }, { populate: ['actor'], orderBy: { createdAt: 'asc', id: 'asc' } }),
    ]);
    return {
      ...presentSubmission(submission),
      problems: problemsOf(rows, lines),
      lines: lines.map(presentLine),
      rows: rows.map(presentRow),
      history: history.map(presentHistory),
    };
  }
}

/** Every reason a submission cannot be accepted, one sentence each. */
export function problemsOf(rows: SubmissionRow[], lines: SubmissionLine[]): string[] {
  const problems: string[] = [];
  for (const row of rows) problems.push(...row.problems);
  for (const line of lines) {
    if (!line.row) problems.push(...line.problems);
  }
  return [...new Set(problems)];
}
