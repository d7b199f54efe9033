import { Injectable } from '@nestjs/common';
import { JobHandler } from '../queue/job-handler.decorator';
import { JobName } from '../queue/queue.contract';
import { ReconciliationService } from './reconciliation.service';

/** The scheduled check: a ReconcileSubmission for every exported and out-of-sync submission. */
@Injectable()
export class ReconcileSweepJob {
  constructor(private readonly reconciliation: ReconciliationService) {}

  @JobHandler(JobName.ReconcileSweep)
  handle(): Promise<{ enqueued: number }> {
    return this.reconciliation.sweep();
  }
}
