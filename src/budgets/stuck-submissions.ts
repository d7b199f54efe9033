import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Outbox } from '../queue/outbox';
import { PendingWorkSweeper } from '../queue/pending-work-sweeper';
import { SubmissionRepository } from './submission.repository';
import { WAITS_FOR } from './submission-status';

/**
 * The stuck-export net of the pending-work sweep: a submission left in a status it waits in for
 * work (WAITS_FOR: `exporting`, `ingesting`) with no such work pending gets that work recorded
 * again. The exporter resumes from its ledger; an ingestion starts over.
 */
@Injectable()
export class StuckSubmissions implements OnModuleInit {
  private readonly logger = new Logger(StuckSubmissions.name);

  constructor(
    private readonly sweeper: PendingWorkSweeper,
    private readonly submissions: SubmissionRepository,
    private readonly outbox: Outbox,
  ) {}

  onModuleInit(): void {
    this.sweeper.addStuckWorkNet((stuckAfterMs) => this.recover(stuckAfterMs));
  }

  async recover(stuckAfterMs: number): Promise<number> {
    const stuck = await this.submissions.stuckWithoutWork(WAITS_FOR, stuckAfterMs);
    for (const { id, status } of stuck) {
      const jobName = WAITS_FOR[status]!;
      this.logger.warn(`Submission ${id} was ${status} with no pending work; recording ${jobName} again`);
      await this.outbox.enqueue(jobName, { submissionId: id }, { dedupeKey: `${jobName}:${id}:recovered` });
    }
    return stuck.length;
  }
}
