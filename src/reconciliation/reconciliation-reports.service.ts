import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/app-error';
import { Submission } from '../budgets/submission.entity';
import { Reconciliation } from './reconciliation.entity';
import { presentReport, ReconciliationReport } from './reconciliation-report';

/** Reads stored reconciliation reports for the API. */
@Injectable()
export class ReconciliationReports {
  constructor(private readonly em: EntityManager) {}

  /** The latest report of a submission; 404 when the submission or any report is missing. */
  async latest(submissionId: string): Promise<ReconciliationReport> {
    const em = this.em.fork();
    const submission = await em.findOne(Submission, submissionId, { fields: ['id', 'projectName', 'status'] });
    if (!submission) throw new NotFoundError(`Budget submission ${submissionId} does not exist`);
    const report = await em.findOne(Reconciliation, { submission: submissionId }, { orderBy: { ranAt: 'desc', id: 'desc' } });
    if (!report) {
      throw new NotFoundError(
        `Budget submission ${submissionId} has no reconciliation report yet: Spectrum is read back after the budget is exported (it is ${submission.status.replace(/_/g, ' ')})`,
      );
    }
    return presentReport(report, submission);
  }
}
