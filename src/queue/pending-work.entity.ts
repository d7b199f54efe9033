import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';

export const PENDING_WORK_STATES = ['pending', 'done', 'failed'] as const;
export type PendingWorkState = (typeof PENDING_WORK_STATES)[number];

/**
 * Work the connector owes, recorded in PostgreSQL before it is put on a queue. Redis only carries
 * a job that points here; the sweeper re-enqueues pending work that has no live job.
 */
@Entity({ tableName: 'pending_work' })
@Index({
  name: 'pending_work_open_dedupe_key',
  expression:
    "create unique index \"pending_work_open_dedupe_key\" on \"pending_work\" (\"dedupe_key\") where state = 'pending'",
})
@Index({ properties: ['state', 'availableAt'] })
export class PendingWork {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @Property({ type: 'text' })
  jobName: string;

  @Property({ type: 'json' })
  payload: Record<string, unknown>;

  /** Work with the same key is recorded once while pending (e.g. `export:42`). */
  @Index()
  @Property({ type: 'text', nullable: true })
  dedupeKey?: string | null;

  @Enum({ items: () => [...PENDING_WORK_STATES], type: 'text' })
  state: PendingWorkState = 'pending';

  @Property({ type: 'integer' })
  attempts = 0;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  /** Not to be run before this time. */
  @Property({ type: 'timestamptz' })
  availableAt: Date = new Date();

  /** When a worker last began running it; null until then. */
  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date | null;

  /**
   * Requested again (same dedupe key) after a run had begun: that run may have read the world before
   * the request, so the work runs once more when it finishes instead of being marked done.
   */
  @Property({ type: 'boolean' })
  rerunRequested = false;

  /** When a queue job was last created for it; null until then. */
  @Property({ type: 'timestamptz', nullable: true })
  enqueuedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  finishedAt?: Date | null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
