import { Injectable } from '@nestjs/common';
import { BudgetsException, BudgetsExceptionCode } from '../budgets/budgets.exception';
import { ReconciliationRepository } from '../budgets/reconciliation.repository';
import { SubmissionRepository } from '../budgets/submission.repository';
import { statusInWords } from '../budgets/submission-status';
import { presentReport, ReconciliationReport } from './reconciliation-report';

/** Reads stored reconciliation reports for the API and the console. */
@Injectable()
export class ReconciliationReports {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly reconciliations: ReconciliationRepository,
  ) {}

  /** The latest report of a submission; SubmissionNotFound / NoReconciliationReport when missing. */
  async latest(submissionId: string): Promise<ReconciliationReport> {
    const submission = await this.submissions.findById(submissionId);
    if (!submission) throw new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${submissionId} does not exist`);
    const report = await this.reconciliations.latest(submissionId);
    if (!report) {
      throw new BudgetsException(
        BudgetsExceptionCode.NoReconciliationReport,
        `Budget submission ${submissionId} has no reconciliation report yet: Spectrum is read back after the budget is exported (it is ${statusInWords(submission.status)})`,
      );
    }
    return presentReport(report, submission);
  }
}
