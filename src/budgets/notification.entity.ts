import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Submission } from './submission.entity';
import { User } from '../users/user.entity';

export const NOTIFICATION_KINDS = ['daily_summary', 'rejected', 'resent', 'export_failed', 'out_of_sync'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const NOTIFICATION_STATES = ['pending', 'sent', 'failed'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/**
 * The notification ledger: one row per email owed. The ledger key — kind, recipient and the day or
 * the audit event that caused it — is unique, so each email is recorded, and sent, once.
 */
@Entity({ tableName: 'notification' })
@Index({ properties: ['state', 'createdAt'] })
export class Notification {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @Property({ type: 'text', unique: true })
  ledgerKey: string;

  @Enum({ items: () => [...NOTIFICATION_KINDS], type: 'text' })
  kind: NotificationKind;

  @Property({ type: 'text' })
  recipientEmail: string;

  @Property({ type: 'text', nullable: true })
  recipientName?: string | null;

  @ManyToOne(() => User, { nullable: true, deleteRule: 'set null' })
  recipient?: User | null;

  @ManyToOne(() => Submission, { nullable: true, deleteRule: 'cascade' })
  submission?: Submission | null;

  /** The audit event that caused it (rejection, re-send, failure); null for the daily summary. */
  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  auditEventId?: string | null;

  /** The calendar day (in DAILY_SUMMARY_TZ) of a daily summary. */
  @Property({ type: 'text', nullable: true })
  day?: string | null;

  @Enum({ items: () => [...NOTIFICATION_STATES], type: 'text' })
  state: NotificationState = 'pending';

  @Property({ type: 'integer' })
  attempts = 0;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'text', nullable: true })
  subject?: string | null;

  @Property({ type: 'text', nullable: true })
  messageId?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  sentAt?: Date | null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
