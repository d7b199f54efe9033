import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import { JobName, JobPayloads } from './queue.contract';

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

/** A run that finished: what it was, and whether it was requested again while it ran. */
export interface FinishedWork {
  jobName: JobName;
  payload: Record<string, unknown>;
  dedupeKey: string | null;
  rerunRequested: boolean;
}

type WorkRecord = { id: string; job_name: JobName; payload: Record<string, unknown>; dedupe_key: string | null; available_at: Date };

/**
 * `pending_work`, the outbox: work the connector owes, recorded in the business transaction and
 * put on a queue after commit (Outbox). The only code that reads or writes the table.
 */
@Injectable()
export class PendingWorkRepository extends Repository {
  /** Records work in the caller's transaction (or on its own), deduplicated by key. */
  async record<K extends JobName>(jobName: K, payload: JobPayloads[K], options: RecordOptions = {}): Promise<RecordedWork> {
    const dedupeKey = options.dedupeKey ?? null;
    // A pending row that finishes between the insert and the fold frees the key: try again.
    for (let attempt = 1; ; attempt++) {
      const inserted = await this.insert(jobName, payload, options);
      if (inserted) return inserted;
      const folded = options.once ? null : await this.fold(dedupeKey!);
      if (folded) return { ...folded, jobName, dedupeKey };
      if (options.once || attempt >= 3) break;
    }
    const [existing] = await this.em.execute<Array<{ id: string; payload: Record<string, unknown>; available_at: Date }>>(
      `select id, payload, available_at from pending_work where dedupe_key = ? order by (state = 'pending') desc, id desc limit 1`,
      [dedupeKey],
    );
    return { id: String(existing.id), jobName, payload: existing.payload, dedupeKey, availableAt: new Date(existing.available_at), created: false };
  }

  private async insert<K extends JobName>(jobName: K, payload: JobPayloads[K], options: RecordOptions): Promise<RecordedWork | null> {
    const availableAt = new Date(Date.now() + (options.delayMs ?? 0));
    const dedupeKey = options.dedupeKey ?? null;
    const inserted = await this.em.execute<Array<{ id: string }>>(
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
  private async fold(dedupeKey: string): Promise<Omit<RecordedWork, 'jobName' | 'dedupeKey'> | null> {
    const [row] = await this.em.execute<Array<{ id: string; payload: Record<string, unknown>; available_at: Date }>>(
      `update pending_work set rerun_requested = rerun_requested or started_at is not null, updated_at = now()
       where dedupe_key = ? and state = 'pending'
       returning id, payload, available_at`,
      [dedupeKey],
    );
    return row ? { id: String(row.id), payload: row.payload, availableAt: new Date(row.available_at), created: false } : null;
  }

  /** Notes that queue jobs now point to this work. */
  async markEnqueued(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.em.execute(`update pending_work set enqueued_at = now() where id in (${ids.map(() => '?').join(',')})`, ids);
  }

  /**
   * A run begins: counts the attempt and clears "requested again" (a request folded in from now on
   * asks for another run). Returns the work's state, or null when the row is gone.
   */
  async begin(workId: string): Promise<string | null> {
    const [work] = await this.em.execute<Array<{ state: string }>>(
      `update pending_work set attempts = attempts + 1, started_at = now(), rerun_requested = false, updated_at = now() where id = ? returning state`,
      [workId],
    );
    return work?.state ?? null;
  }

  /** Marks the work done; says whether it was requested again while it ran. */
  async finish(workId: string): Promise<FinishedWork | null> {
    const [done] = await this.em.execute<Array<{ job_name: JobName; payload: Record<string, unknown>; dedupe_key: string | null; rerun_requested: boolean }>>(
      `update pending_work set state = 'done', finished_at = now(), updated_at = now(), last_error = null
       where id = ? and state = 'pending'
       returning job_name, payload, dedupe_key, rerun_requested`,
      [workId],
    );
    return done ? { jobName: done.job_name, payload: done.payload, dedupeKey: done.dedupe_key, rerunRequested: done.rerun_requested } : null;
  }

  async recordError(workId: string, message: string): Promise<void> {
    await this.em.execute(`update pending_work set last_error = ?, updated_at = now() where id = ?`, [message.slice(0, 2000), workId]);
  }

  /** Holds pending work back until `at` (a rate limit spent until a known time). */
  async holdUntil(workId: string, at: Date): Promise<void> {
    await this.em.execute(`update pending_work set available_at = greatest(available_at, ?) where id = ? and state = 'pending'`, [at, workId]);
  }

  /**
   * Pending work due, whose queue job may be gone: never enqueued for `graceMs`, or enqueued longer
   * than `stuckAfterMs` ago.
   */
  async dueForSweep(graceMs: number, stuckAfterMs: number): Promise<RecordedWork[]> {
    const rows = await this.em.execute<WorkRecord[]>(
      `select id, job_name, payload, dedupe_key, available_at from pending_work
       where state = 'pending' and available_at <= now()
         and ((enqueued_at is null and created_at < now() - (? * interval '1 millisecond'))
           or enqueued_at < now() - (? * interval '1 millisecond'))
       order by id limit 1000`,
      [graceMs, stuckAfterMs],
    );
    return rows.map((row) => ({
      id: String(row.id),
      jobName: row.job_name,
      payload: row.payload,
      dedupeKey: row.dedupe_key,
      availableAt: new Date(row.available_at),
      created: false,
    }));
  }

  /** Deletes finished work older than `days` (at most 5,000 rows a call). */
  async deleteFinished(days: number): Promise<void> {
    await this.em.execute(
      `delete from pending_work where id in (
         select id from pending_work where state <> 'pending' and finished_at < now() - (? * interval '1 day') limit 5000)`,
      [days],
    );
  }
}
