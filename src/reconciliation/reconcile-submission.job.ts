import { Injectable } from '@nestjs/common';
import { JobContext, JobHandler } from '../queue/job-handler.decorator';
import { JobName, JobPayloads } from '../queue/queue.contract';
import { ReconcileResult, ReconciliationService } from './reconciliation.service';

/** Reconciles one exported or out-of-sync submission (see ReconciliationService). */
@Injectable()
export class ReconcileSubmissionJob {
  constructor(private readonly reconciliation: ReconciliationService) {}

  @JobHandler(JobName.ReconcileSubmission)
  handle(payload: JobPayloads[JobName.ReconcileSubmission], context: JobContext): Promise<ReconcileResult> {
    return this.reconciliation.reconcile(payload.submissionId, { finalAttempt: context.finalAttempt });
  }
}
