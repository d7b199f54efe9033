import { LockMode } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import type { Recipient } from '../users/user.repository';
import { Notification, NotificationKind } from './notification.entity';

/** What caused an email: the audit event of a transition, or the day of a daily summary. */
export interface NotificationCause {
  submissionId?: string;
  auditEventId?: string;
  day?: string;
}

/**
 * The notification ledger (`notification`): one row per email owed, unique per kind, recipient and
 * cause — so each email is recorded, and sent, once.
 */
@Injectable()
export class NotificationRepository extends Repository {
  /** Records an email owed, in the surrounding transaction; null when the ledger already holds it. */
  async recordOwed(kind: NotificationKind, recipient: Recipient, cause: NotificationCause): Promise<string | null> {
    const ledgerKey = `${kind}:${recipient.email}:${cause.day ? `day:${cause.day}` : `event:${cause.auditEventId}`}`;
    const inserted = await this.tx.execute<Array<{ id: string }>>(
      `insert into notification (ledger_key, kind, recipient_email, recipient_name, recipient_id, submission_id, audit_event_id, day, state, attempts, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, now())
       on conflict (ledger_key) do nothing
       returning id`,
      [ledgerKey, kind, recipient.email, recipient.name, recipient.userId, cause.submissionId ?? null, cause.auditEventId ?? null, cause.day ?? null],
    );
    return inserted.length ? String(inserted[0].id) : null;
  }

  /**
   * Locks a notification for sending until the surrounding transaction ends (`for update skip
   * locked`): `busy` when another worker holds it, null when it does not exist.
   */
  /** The submission and Procore project an email concerns, for log lines. */
  async logContextOf(id: string): Promise<{ submissionId?: string; procoreProjectId?: string }> {
    if (!/^\d{1,18}$/.test(id)) return {};
    const [row] = await this.em.execute<Array<{ submission_id: string | null; procore_project_id: string | null }>>(
      'select n.submission_id, s.procore_project_id from notification n left join submission s on s.id = n.submission_id where n.id = ?',
      [id],
    );
    return row ? { submissionId: row.submission_id ?? undefined, procoreProjectId: row.procore_project_id ?? undefined } : {};
  }

  async claim(id: string): Promise<Notification | 'busy' | null> {
    const em = this.tx;
    const notification = await em.findOne(Notification, id, { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
    if (notification) return notification;
    return (await em.count(Notification, { id })) ? 'busy' : null;
  }

  /** Writes the changes made to claimed notifications. */
  async save(): Promise<void> {
    await this.tx.flush();
  }
}
