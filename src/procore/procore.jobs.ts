import { Injectable } from '@nestjs/common';
import { JobContext, JobHandler } from '../queue/job-handler.decorator';
import { PendingWorkRepository } from '../queue/pending-work.repository';
import { JobName, JobPayloads } from '../queue/queue.contract';
import { BudgetIngestion } from './ingestion/budget-ingestion.service';
import { ProjectPoller } from './polling/project-poller.service';
import { ProcoreRateLimitError } from './client/procore-errors';
import { BudgetUnlock } from './unlock/budget-unlock.service';
import { ProcoreUserSync } from './users/procore-user-sync.service';
import { WebhookProcessor } from './webhooks/webhook-processor.service';

/**
 * The Procore side's queue jobs: each receives ids and hands them to its service. A failure is
 * thrown for the queue to retry; when Procore's rate limit is spent until a known time, the pending
 * work is also held back until then, so the sweeper does not bring it back early.
 */
@Injectable()
export class ProcoreJobs {
  constructor(
    private readonly pendingWork: PendingWorkRepository,
    private readonly ingestion: BudgetIngestion,
    private readonly webhooks: WebhookProcessor,
    private readonly poller: ProjectPoller,
    private readonly unlocker: BudgetUnlock,
    private readonly userSync: ProcoreUserSync,
  ) {}

  @JobHandler(JobName.IngestSubmission)
  ingestSubmission(payload: JobPayloads[JobName.IngestSubmission], context: JobContext) {
    return this.run(context, () => this.ingestion.ingest(payload.submissionId, context));
  }

  @JobHandler(JobName.ProcessWebhookEvent)
  processWebhookEvent(payload: JobPayloads[JobName.ProcessWebhookEvent], context: JobContext) {
    return this.run(context, () => this.webhooks.process(payload.webhookEventId, context));
  }

  @JobHandler(JobName.PollProjects)
  pollProjects(_payload: JobPayloads[JobName.PollProjects], context: JobContext) {
    return this.run(context, () => this.poller.sweep());
  }

  @JobHandler(JobName.UnlockBudget)
  unlockBudget(payload: JobPayloads[JobName.UnlockBudget], context: JobContext) {
    return this.run(context, () => this.unlocker.unlock(payload.submissionId));
  }

  @JobHandler(JobName.SyncUsers)
  syncUsers(_payload: JobPayloads[JobName.SyncUsers], context: JobContext) {
    return this.run(context, () => this.userSync.sync());
  }

  private async run<T>(context: JobContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ProcoreRateLimitError) await this.pendingWork.holdUntil(context.workId, error.retryAt);
      throw error;
    }
  }
}
