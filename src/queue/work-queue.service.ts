import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { JOB_DEFINITIONS, JobName, JobPayloads, QueueName } from './queue.contract';
import { QUEUES } from './queue.tokens';

const DISPATCH_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined); // a late failure after the timeout is of no interest
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RecordedWork {
  id: string;
  jobName: JobName;
  payload: Record<string, unknown>;
  dedupeKey: string | null;
  availableAt: Date;
  /** False when the same dedupe key was already pending: nothing new was recorded. */
  created: boolean;
}

export interface RecordOptions {
  /**
   * Work with the same key is recorded once while pending; a request that arrives while that work
   * is already running makes it run once more afterwards.
   */
  dedupeKey?: string;
  /** With a dedupe key: recorded once ever (a schedule's time window), not just once while pending. */
  once?: boolean;
  delayMs?: number;
}

/**
 * The one way work gets onto a queue: `record` writes it to PostgreSQL inside the caller's
 * transaction; `dispatch`, called after commit, puts a job on Redis that points to it. A dispatch
 * that fails (Redis down) is only logged: the sweeper enqueues the work later.
 */
@Injectable()
export class WorkQueue {
  private readonly logger = new Logger(WorkQueue.name);
  /** Multiplies every retry delay; tests shorten it. */
  backoffScale = 1;

  constructor(@Inject(QUEUES) private readonly queues: Map<QueueName, Queue>) {}

  async record<K extends JobName>(
    em: EntityManager,
    jobName: K,
    payload: JobPayloads[K],
    options: RecordOptions = {},
  ): Promise<RecordedWork> {
    const dedupeKey = options.dedupeKey ?? null;
    // A pending row that finishes between the insert and the fold frees the key: try again.
    for (let attempt = 1; ; attempt++) {
      const inserted = await this.insert(em, jobName, payload, options);
      if (inserted) return inserted;
      const folded = options.once ? null : await this.fold(em, dedupeKey!);
      if (folded) return { ...folded, jobName, dedupeKey };
      if (options.once || attempt >= 3) break;
    }
    const [existing]: Array<{ id: string; payload: Record<string, unknown>; available_at: Date }> = await em.execute(
      `select id, payload, available_at from pending_work where dedupe_key = ? order by (state = 'pending') desc, id desc limit 1`,
      [dedupeKey],
    );
    return { id: String(existing.id), jobName, payload: existing.payload, dedupeKey, availableAt: new Date(existing.available_at), created: false };
  }

  private async insert<K extends JobName>(em: EntityManager, jobName: K, payload: JobPayloads[K], options: RecordOptions): Promise<RecordedWork | null> {
    const availableAt = new Date(Date.now() + (options.delayMs ?? 0));
    const dedupeKey = options.dedupeKey ?? null;
    const inserted: Array<{ id: string }> = await em.execute(
      `insert into pending_work (job_name, payload, dedupe_key, state, attempts, rerun_requested, available_at, created_at, updated_at)
       select ?, ?, ?, 'pending', 0, false, ?, now(), now()
       where not ? or not exists (select 1 from pending_work where dedupe_key = ?)
       on conflict (dedupe_key) where state = 'pending' do nothing
       returning id`,
      [jobName, JSON.stringify(payload), dedupeKey, availableAt, options.once === true, dedupeKey],
    );
    return inserted.length ? { id: String(inserted[0].id), jobName, payload, dedupeKey, availableAt, created: true } : null;
  }

  /**
   * The same work is already pending. Not begun yet: it will see this request, nothing to add. Begun:
   * its run may have read the world before this request, so it runs again when it finishes
   * (QueueWorker). The update locks the row until the caller commits, so a run cannot begin in
   * between and miss what the caller's transaction wrote.
   */
  private async fold(em: EntityManager, dedupeKey: string): Promise<Omit<RecordedWork, 'jobName' | 'dedupeKey'> | null> {
    const [row]: Array<{ id: string; payload: Record<string, unknown>; available_at: Date }> = await em.execute(
      `update pending_work set rerun_requested = rerun_requested or started_at is not null, updated_at = now()
       where dedupe_key = ? and state = 'pending'
       returning id, payload, available_at`,
      [dedupeKey],
    );
    return row ? { id: String(row.id), payload: row.payload, availableAt: new Date(row.available_at), created: false } : null;
  }

  /**
   * Puts recorded work on its queue. Never throws and never waits long: with Redis unreachable the
   * caller (an HTTP request, say) goes on, and the undelivered work waits for the sweeper.
   */
  async dispatch(em: EntityManager, works: RecordedWork[]): Promise<void> {
    const delivered: string[] = [];
    for (const work of works) {
      try {
        await withTimeout(this.addJob(work), DISPATCH_TIMEOUT_MS, 'Redis did not answer');
        delivered.push(work.id);
      } catch (error) {
        this.logger.warn(`Could not enqueue ${work.jobName} #${work.id} (${(error as Error).message}); the sweeper will retry`);
      }
    }
    if (delivered.length) {
      await em
        .execute(`update pending_work set enqueued_at = now() where id in (${delivered.map(() => '?').join(',')})`, delivered)
        .catch((error: Error) => this.logger.warn(`Could not note the enqueueing of work ${delivered.join(', ')}: ${error.message}`));
    }
  }

  /** Records and dispatches in one go, outside any business transaction (schedules, CLI). */
  async enqueue<K extends JobName>(em: EntityManager, jobName: K, payload: JobPayloads[K], options: RecordOptions = {}) {
    const work = await this.record(em, jobName, payload, options);
    await this.dispatch(em, [work]);
    return work;
  }

  queueFor(jobName: JobName): Queue {
    const queue = this.queues.get(JOB_DEFINITIONS[jobName].queue);
    if (!queue) throw new Error(`No queue registered for job ${jobName}`);
    return queue;
  }

  /** The Bull job id of a piece of work: stable, so adding it twice keeps one job. */
  static jobId(work: Pick<RecordedWork, 'id' | 'jobName'>): string {
    return `${work.jobName}:${work.id}`;
  }

  async addJob(work: RecordedWork): Promise<void> {
    const job = await this.addToQueue(work);
    // Bull keeps the existing job when the id is taken; one that already finished (e.g. left from a
    // database restored to an earlier point) would swallow this work, so it is replaced.
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      await job.remove();
      await this.addToQueue(work);
    }
  }

  private addToQueue(work: RecordedWork) {
    const definition = JOB_DEFINITIONS[work.jobName];
    return this.queueFor(work.jobName).add(
      work.jobName,
      { ...work.payload, workId: work.id },
      {
        jobId: WorkQueue.jobId(work),
        attempts: definition.attempts,
        backoff: { type: 'jitter', options: { delay: Math.max(1, Math.round(definition.backoffMs * this.backoffScale)) } },
        delay: Math.max(0, work.availableAt.getTime() - Date.now()),
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }
}
