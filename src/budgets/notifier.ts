import { Injectable } from '@nestjs/common';
import { Outbox } from '../queue/outbox';
import { JobName } from '../queue/queue.contract';
import { Recipient, UserRepository } from '../users/user.repository';
import { NotificationKind } from './notification.entity';
import { NotificationCause, NotificationRepository } from './notification.repository';
import { SubmissionRepository } from './submission.repository';

/**
 * Records the emails a workflow event owes, inside the caller's outbox transaction: one ledger row
 * per recipient (the unique ledger key makes a repeat a no-op) and the pending work that sends it.
 * Sending happens later, from the queue (src/notifications), so an SMTP outage never blocks or fails
 * the workflow. Which events owe which emails is the transitions table's (`notify…` work).
 */
@Injectable()
export class Notifier {
  constructor(
    private readonly outbox: Outbox,
    private readonly notifications: NotificationRepository,
    private readonly users: UserRepository,
    private readonly submissions: SubmissionRepository,
  ) {}

  /** To the budget's creator and its sender: one email when they are the same person. */
  async rejected(submissionId: string, auditEventId: string): Promise<void> {
    const submission = await this.submissions.findById(submissionId);
    const people = await this.users.activeRecipients([submission?.createdBy?.id, submission?.sentBy?.id]);
    await this.record('rejected', people, { submissionId, auditEventId });
  }

  /** To approvers, at once, when a project whose last submission was rejected or retrieved is sent again. */
  async resent(submissionId: string, auditEventId: string): Promise<void> {
    await this.record('resent', await this.users.approvers(), { submissionId, auditEventId });
  }

  /** To approvers and the sender, with the errors per row. */
  async exportFailed(submissionId: string, auditEventId: string): Promise<void> {
    await this.record('export_failed', await this.approversAndSender(submissionId), { submissionId, auditEventId });
  }

  /** To approvers and the sender, with every variance. */
  async outOfSync(submissionId: string, auditEventId: string): Promise<void> {
    await this.record('out_of_sync', await this.approversAndSender(submissionId), { submissionId, auditEventId });
  }

  /**
   * The "ERP Integrations Daily Summary" of one calendar day: to every subscribed approver, and
   * only when at least one submission awaits acceptance. Returns how many emails it recorded.
   */
  async dailySummary(day: string): Promise<number> {
    if ((await this.submissions.count('ready_to_export')) === 0) return 0;
    return this.record('daily_summary', await this.users.approvers({ digestOnly: true }), { day });
  }

  private async approversAndSender(submissionId: string): Promise<Recipient[]> {
    const submission = await this.submissions.findById(submissionId);
    return [...(await this.users.approvers()), ...(await this.users.activeRecipients([submission?.sentBy?.id]))];
  }

  private async record(kind: NotificationKind, recipients: Recipient[], cause: NotificationCause): Promise<number> {
    const unique = new Map<string, Recipient>();
    for (const recipient of recipients) {
      const email = recipient.email.trim().toLowerCase();
      if (email && !unique.has(email)) unique.set(email, { ...recipient, email });
    }
    let recorded = 0;
    for (const recipient of unique.values()) {
      const notificationId = await this.notifications.recordOwed(kind, recipient, cause);
      if (!notificationId) continue;
      await this.outbox.record(JobName.SendNotification, { notificationId }, { dedupeKey: `notification:${notificationId}` });
      recorded++;
    }
    return recorded;
  }
}
