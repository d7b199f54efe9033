import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { JobName } from '../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../queue/work-queue.service';
import { NotificationKind } from './notification.entity';

interface Recipient {
  email: string;
  name: string | null;
  userId: string | null;
}

/**
 * Records the emails a workflow event owes, inside the caller's transaction: one ledger row per
 * recipient (the unique ledger key makes a repeat a no-op) and the pending work that sends it.
 * Sending happens later, from the queue, so an SMTP outage never blocks or fails the workflow.
 */
@Injectable()
export class Notifier {
  constructor(private readonly workQueue: WorkQueue) {}

  /** To the budget's creator and its sender: one email when they are the same person. */
  async rejected(em: EntityManager, submissionId: string, auditEventId: string): Promise<RecordedWork[]> {
    const people = await this.submissionPeople(em, submissionId, ['created_by_id', 'sent_by_id']);
    return this.record(em, 'rejected', people, { submissionId, auditEventId });
  }

  /** To approvers, at once, when a project whose last submission was rejected or retrieved is sent again. */
  async resent(em: EntityManager, submissionId: string, auditEventId: string): Promise<RecordedWork[]> {
    return this.record(em, 'resent', await this.approvers(em), { submissionId, auditEventId });
  }

  /** To approvers and the sender, with the errors per row. */
  async exportFailed(em: EntityManager, submissionId: string, auditEventId: string): Promise<RecordedWork[]> {
    const people = [...(await this.approvers(em)), ...(await this.submissionPeople(em, submissionId, ['sent_by_id']))];
    return this.record(em, 'export_failed', people, { submissionId, auditEventId });
  }

  /** To approvers and the sender, with every variance. */
  async outOfSync(em: EntityManager, submissionId: string, auditEventId: string): Promise<RecordedWork[]> {
    const people = [...(await this.approvers(em)), ...(await this.submissionPeople(em, submissionId, ['sent_by_id']))];
    return this.record(em, 'out_of_sync', people, { submissionId, auditEventId });
  }

  /**
   * The "ERP Integrations Daily Summary" of one calendar day: to every subscribed approver, and
   * only when at least one submission awaits acceptance.
   */
  async dailySummary(em: EntityManager, day: string): Promise<RecordedWork[]> {
    const [{ waiting }] = await em.execute<Array<{ waiting: string }>>(
      `select count(*) as waiting from submission where status = 'ready_to_export'`,
    );
    if (Number(waiting) === 0) return [];
    return this.record(em, 'daily_summary', await this.approvers(em, { digestOnly: true }), { day });
  }

  /** Users who may accept: active, standard or admin, and allowed to push to accounting. */
  async approvers(em: EntityManager, options: { digestOnly?: boolean } = {}): Promise<Recipient[]> {
    const rows = await em.execute<Array<{ id: string; email: string; name: string }>>(
      `select id, email, name from app_user
       where active and can_push_to_accounting and erp_permission in ('standard', 'admin')
         and email <> ''${options.digestOnly ? ' and subscribed_to_digest' : ''}
       order by id`,
    );
    return rows.map((row) => ({ email: row.email, name: row.name, userId: String(row.id) }));
  }

  private async submissionPeople(em: EntityManager, submissionId: string, columns: Array<'created_by_id' | 'sent_by_id'>): Promise<Recipient[]> {
    const rows = await em.execute<Array<{ id: string; email: string; name: string; active: boolean }>>(
      `select u.id, u.email, u.name, u.active from submission s
       join app_user u on u.id in (${columns.map((column) => `s.${column}`).join(', ')})
       where s.id = ?`,
      [submissionId],
    );
    // A deactivated user (someone who left) is not written to.
    return rows.filter((row) => row.active && row.email).map((row) => ({ email: row.email, name: row.name, userId: String(row.id) }));
  }

  private async record(
    em: EntityManager,
    kind: NotificationKind,
    recipients: Recipient[],
    cause: { submissionId?: string; auditEventId?: string; day?: string },
  ): Promise<RecordedWork[]> {
    const unique = new Map<string, Recipient>();
    for (const recipient of recipients) {
      const email = recipient.email.trim().toLowerCase();
      if (email && !unique.has(email)) unique.set(email, { ...recipient, email });
    }
    const works: RecordedWork[] = [];
    for (const recipient of unique.values()) {
      const ledgerKey = `${kind}:${recipient.email}:${cause.day ? `day:${cause.day}` : `event:${cause.auditEventId}`}`;
      const inserted = await em.execute<Array<{ id: string }>>(
        `insert into notification (ledger_key, kind, recipient_email, recipient_name, recipient_id, submission_id, audit_event_id, day, state, attempts, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, now())
         on conflict (ledger_key) do nothing
         returning id`,
        [ledgerKey, kind, recipient.email, recipient.name, recipient.userId, cause.submissionId ?? null, cause.auditEventId ?? null, cause.day ?? null],
      );
      if (!inserted.length) continue;
      const notificationId = String(inserted[0].id);
      works.push(
        await this.workQueue.record(em, JobName.SendNotification, { notificationId }, { dedupeKey: `notification:${notificationId}` }),
      );
    }
    return works;
  }
}
