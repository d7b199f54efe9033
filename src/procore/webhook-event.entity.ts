import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';

export const WEBHOOK_EVENT_STATUSES = ['received', 'processed', 'unusable'] as const;
/**
 * `received`: stored, its processing pending; `processed`: its outcome recorded (a check ran, or
 * it was ignored); `unusable`: the connector could not use it (`outcome` says why) — shown to
 * admins, and the polling sweep catches up on whatever it was about.
 */
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/**
 * A Procore webhook delivery, stored once: deliveries are at-least-once, so the dedupe key
 * (`ulid:<ulid>`, or `id:<id>` without one) is unique. A delivery with neither (an unusable one)
 * has no key and is stored as it came.
 */
@Entity({ tableName: 'webhook_event' })
@Index({ properties: ['projectId', 'receivedAt'] })
@Index({ properties: ['status', 'receivedAt'] })
@Index({ properties: ['receivedAt'] })
export class WebhookEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @Property({ type: 'text', unique: true, nullable: true })
  dedupeKey?: string | null;

  /** Opaque text (1–64 characters), kept exactly as Procore sent it. */
  @Property({ type: 'text', nullable: true })
  ulid?: string | null;

  /** Procore's event id as text: it can exceed 2^53 (and is never read through a double). */
  @Property({ type: 'text', nullable: true })
  procoreEventId?: string | null;

  @Property({ type: 'text', nullable: true })
  resourceName?: string | null;

  @Property({ type: 'text', nullable: true })
  eventType?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  resourceId?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  projectId?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  companyId?: string | null;

  /** The Procore user who caused the event (the sender, when it starts an ingestion). */
  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  procoreUserId?: string | null;

  /** The body as received, when it is a JSON object PostgreSQL can store (numbers kept exactly). */
  @Property({ type: 'json', nullable: true })
  payload?: Record<string, unknown> | null;

  /** The first 100 kB of a body that could not be stored as `payload` (not JSON, too large, …). */
  @Property({ type: 'text', nullable: true })
  rawBody?: string | null;

  @Enum({ items: () => [...WEBHOOK_EVENT_STATUSES], type: 'text' })
  status: WebhookEventStatus = 'received';

  @Property({ type: 'timestamptz' })
  receivedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  processedAt?: Date | null;

  /** What processing concluded, in words (e.g. "started submission 12"), or why it is unusable. */
  @Property({ type: 'text', nullable: true })
  outcome?: string | null;
}
