import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobHandler } from './job-handler.decorator';
import { PendingWorkRepository } from './pending-work.repository';
import { JobName } from './queue.contract';
import { QUEUE_OPTIONS, QueueModuleOptions } from './queue.tokens';
import { WorkQueue } from './work-queue.service';

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);
/** Finished work is kept this long for inspection, then deleted by the sweeper. */
const KEEP_FINISHED_DAYS = 14;
/** Work never put on a queue (Redis was down at commit) is picked up after this grace period. */
const UNDISPATCHED_GRACE_MS = 15_000;

/** Records work that should be pending and is not; returns how much. */
export type StuckWorkNet = (stuckAfterMs: number) => Promise<number>;

/**
 * PostgreSQL is the truth: pending work whose queue job is gone (Redis flushed, a job that spent
 * its attempts, a dispatch that failed) is put on its queue again.
 */
@Injectable()
export class PendingWorkSweeper {
  private readonly logger = new Logger(PendingWorkSweeper.name);
  private readonly nets: StuckWorkNet[] = [];

  constructor(
    private readonly pendingWork: PendingWorkRepository,
    private readonly workQueue: WorkQueue,
    @Inject(QUEUE_OPTIONS) private readonly options: QueueModuleOptions,
  ) {}

  @JobHandler(JobName.SweepPendingWork)
  async handle(): Promise<{ requeued: number }> {
    return this.sweep();
  }

  /**
   * Adds a stuck-work net: run after every sweep with the sweep's `stuckAfterMs`, it records work
   * that should be pending and is not (e.g. for a submission left exporting), and says how much.
   * The modules that know what such work is register it (StuckSubmissions); the queue knows none.
   */
  addStuckWorkNet(net: StuckWorkNet): void {
    this.nets.push(net);
  }

  /** Re-enqueues pending work without a live job; `stuckAfterMs` overrides STUCK_AFTER_MINUTES. */
  async sweep(stuckAfterMs = this.options.stuckAfterMinutes * 60_000): Promise<{ requeued: number }> {
    const due = await this.pendingWork.dueForSweep(Math.min(UNDISPATCHED_GRACE_MS, stuckAfterMs), stuckAfterMs);
    let requeued = 0;
    for (const work of due) {
      const queue = this.workQueue.queueFor(work.jobName);
      const existing = await queue.getJob(WorkQueue.jobId(work));
      if (existing) {
        const state = await existing.getState();
        if (LIVE_STATES.has(state)) {
          await this.pendingWork.markEnqueued([work.id]);
          continue;
        }
        await existing.remove().catch(() => undefined);
      }
      await this.workQueue.dispatch([work]);
      requeued++;
    }
    if (requeued) this.logger.log(`Re-enqueued ${requeued} pending work item(s) without a live job`);
    for (const net of this.nets) requeued += await net(stuckAfterMs);
    await this.pendingWork.deleteFinished(KEEP_FINISHED_DAYS);
    return { requeued };
  }
}
