import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A Procore webhook delivery, stored once: deliveries are at-least-once, so the dedupe key
 * (`ulid:<ulid>`, or `id:<id>` without one) is unique.
 */
@Entity({ tableName: 'webhook_event' })
@Index({ properties: ['projectId', 'receivedAt'] })
export class WebhookEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @Property({ type: 'text', unique: true })
  dedupeKey: string;

  @Property({ type: 'text', nullable: true })
  ulid?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  procoreEventId?: string | null;

  @Property({ type: 'text' })
  resourceName: string;

  @Property({ type: 'text' })
  eventType: string;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  resourceId?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  projectId?: string | null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  companyId?: string | null;

  /** The Procore user who caused the event (the sender, when it starts an ingestion). */
  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  procoreUserId?: string | null;

  @Property({ type: 'json' })
  payload: Record<string, unknown>;

  @Property({ type: 'timestamptz' })
  receivedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  processedAt?: Date | null;

  /** What processing concluded, in words (e.g. "started submission 12", "budget not locked"). */
  @Property({ type: 'text', nullable: true })
  outcome?: string | null;
}
