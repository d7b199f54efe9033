import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobHandler } from './job-handler.decorator';
import { JobName } from './queue.contract';
import { QUEUE_OPTIONS, QueueModuleOptions } from './queue.tokens';
import { RecordedWork, WorkQueue } from './work-queue.service';

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);
/** Finished work is kept this long for inspection, then deleted by the sweeper. */
const KEEP_FINISHED_DAYS = 14;
/** Work never put on a queue (Redis was down at commit) is picked up after this grace period. */
const UNDISPATCHED_GRACE_MS = 15_000;

/**
 * PostgreSQL is the truth: pending work whose queue job is gone (Redis flushed, a job that spent
 * its attempts, a dispatch that failed) is put on its queue again.
 */
@Injectable()
export class PendingWorkSweeper {
  private readonly logger = new Logger(PendingWorkSweeper.name);

  constructor(
    private readonly em: EntityManager,
    private readonly workQueue: WorkQueue,
    @Inject(QUEUE_OPTIONS) private readonly options: QueueModuleOptions,
  ) {}

  @JobHandler(JobName.SweepPendingWork)
  async handle(): Promise<{ requeued: number }> {
    return this.sweep();
  }

  /**
   * The stuck-export net: a submission left `exporting` (or `ingesting`) with no pending work that
   * would move it on gets that work recorded again. The exporter resumes from its ledger.
   */
  private async recoverOrphanedSubmissions(em: EntityManager, stuckAfterMs: number): Promise<number> {
    const orphans = await em.execute<Array<{ id: string; status: 'exporting' | 'ingesting' }>>(
      `select s.id, s.status from submission s
        where s.status in ('exporting', 'ingesting')
          and s.status_changed_at < now() - (? * interval '1 millisecond')
          and not exists (
            select 1 from pending_work w
             where w.state = 'pending'
               and w.job_name = case s.status when 'exporting' then ? else ? end
               and w.payload->>'submissionId' = s.id::text)
        order by s.id limit 100`,
      [stuckAfterMs, JobName.ExportSubmission, JobName.IngestSubmission],
    );
    for (const orphan of orphans) {
      const jobName = orphan.status === 'exporting' ? JobName.ExportSubmission : JobName.IngestSubmission;
      const submissionId = String(orphan.id);
      this.logger.warn(`Submission ${submissionId} was ${orphan.status} with no pending work; recording ${jobName} again`);
      await this.workQueue.enqueue(em, jobName, { submissionId }, { dedupeKey: `${jobName}:${submissionId}:recovered` });
    }
    return orphans.length;
  }

  /** Re-enqueues pending work without a live job; `stuckAfterMs` overrides STUCK_AFTER_MINUTES. */
  async sweep(stuckAfterMs = this.options.stuckAfterMinutes * 60_000): Promise<{ requeued: number }> {
    const em = this.em.fork();
    const rows: Array<{ id: string; job_name: JobName; payload: Record<string, unknown>; dedupe_key: string | null; available_at: Date }> =
      await em.execute(
        `select id, job_name, payload, dedupe_key, available_at from pending_work
         where state = 'pending' and available_at <= now()
           and ((enqueued_at is null and created_at < now() - (? * interval '1 millisecond'))
             or enqueued_at < now() - (? * interval '1 millisecond'))
         order by id limit 1000`,
        [Math.min(UNDISPATCHED_GRACE_MS, stuckAfterMs), stuckAfterMs],
      );
    let requeued = 0;
    for (const row of rows) {
      const work: RecordedWork = {
        id: String(row.id),
        jobName: row.job_name,
        payload: row.payload,
        dedupeKey: row.dedupe_key,
        availableAt: new Date(row.available_at),
        created: false,
      };
      const queue = this.workQueue.queueFor(work.jobName);
      const existing = await queue.getJob(WorkQueue.jobId(work));
      if (existing) {
        const state = await existing.getState();
        if (LIVE_STATES.has(state)) {
          await em.execute(`update pending_work set enqueued_at = now() where id = ?`, [work.id]);
          continue;
        }
        await existing.remove().catch(() => undefined);
      }
      await this.workQueue.dispatch(em, [work]);
      requeued++;
    }
    if (requeued) this.logger.log(`Re-enqueued ${requeued} pending work item(s) without a live job`);
    requeued += await this.recoverOrphanedSubmissions(em, stuckAfterMs);
    await em.execute(
      `delete from pending_work where id in (
         select id from pending_work where state <> 'pending' and finished_at < now() - (? * interval '1 day') limit 5000)`,
      [KEEP_FINISHED_DAYS],
    );
    return { requeued };
  }
}
