import { Injectable } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { Notification } from '../budgets/notification.entity';
import { ReconciliationRepository } from '../budgets/reconciliation.repository';
import { SnapshotRepository } from '../budgets/snapshot.repository';
import { Submission } from '../budgets/submission.entity';
import { SubmissionRepository } from '../budgets/submission.repository';
import { Cents, toCents } from '../common/money';
import { can } from '../users/permissions';
import { User } from '../users/user.entity';
import { UserRepository } from '../users/user.repository';
import {
  DailySummaryEmail,
  EmailKind,
  EmailModels,
  EmailPerson,
  ExportRowError,
  FailedToExportEmail,
  OutOfSyncEmail,
  ReSentEmail,
  RejectedEmail,
  SubmissionSummary,
  VarianceRow,
} from './email-content';

/** One email ready to render: the template kind and its view model. */
export type EmailToRender = { [K in EmailKind]: { kind: K; model: EmailModels[K] } }[EmailKind];

/**
 * The email cannot or should not go: the data it describes is gone (no reconciliation report),
 * or it no longer applies (nothing awaits acceptance, the recipient unsubscribed). Trying again
 * would not change that, so the notification is closed as `failed` with this message.
 */
export class EmailNotApplicableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmailNotApplicableError';
  }
}

/**
 * Builds the view model of a notification from PostgreSQL, as it stands when the email is sent.
 * Reads only; runs in the sender's transaction.
 */
@Injectable()
export class EmailModelBuilder {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly reconciliations: ReconciliationRepository,
    private readonly audit: AuditEventRepository,
    private readonly users: UserRepository,
  ) {}

  async build(notification: Notification, now: Date): Promise<EmailToRender> {
    const recipient = { name: notification.recipientName?.trim() || null };
    switch (notification.kind) {
      case 'daily_summary':
        return { kind: 'daily-summary', model: await this.dailySummary(notification, recipient, now) };
      case 'rejected':
        return { kind: 'rejected', model: await this.rejected(notification, recipient) };
      case 'resent':
        return { kind: 're-sent', model: await this.reSent(notification, recipient) };
      case 'export_failed':
        return { kind: 'failed-to-export', model: await this.failedToExport(notification, recipient) };
      case 'out_of_sync':
        return { kind: 'out-of-sync', model: await this.outOfSync(notification, recipient) };
    }
  }

  private async dailySummary(
    notification: Notification,
    recipient: DailySummaryEmail['recipient'],
    now: Date,
  ): Promise<DailySummaryEmail> {
    // The digest is opt-out: a user who unsubscribed (or stopped being an approver) after it was
    // recorded does not get it.
    const userId = notification.recipient?.id;
    if (userId) {
      const user = await this.users.findById(userId);
      if (!user || !isSubscribedApprover(user)) {
        throw new EmailNotApplicableError('not sent: the recipient is no longer a subscribed approver');
      }
    }
    const submissions = await this.submissions.awaitingAcceptance();
    if (!submissions.length) throw new EmailNotApplicableError('not sent: no budget awaits acceptance any more');
    const jobs = await this.jobsOf(submissions.map((s) => s.id));
    return { recipient, generatedAt: now, submissions: submissions.map((s) => summarize(s, jobs.get(s.id))) };
  }

  private async rejected(notification: Notification, recipient: RejectedEmail['recipient']): Promise<RejectedEmail> {
    const submission = await this.submission(notification);
    const event = await this.cause(notification);
    const by = event?.actor ?? submission.decidedBy ?? null;
    return {
      recipient,
      submission: await this.summary(submission),
      rejectedBy: person(by) ?? { name: event ? labelOf(event) : 'An approver', email: null },
      rejectedAt: event?.createdAt ?? submission.decidedAt ?? submission.statusChangedAt,
      reason: submission.rejectionReason ?? event?.note ?? '(no reason was recorded)',
    };
  }

  private async reSent(notification: Notification, recipient: ReSentEmail['recipient']): Promise<ReSentEmail> {
    const submission = await this.submission(notification);
    const previous = await this.submissions.previousEnded(submission.id);
    if (!previous) {
      throw new EmailNotApplicableError(
        `cannot describe the re-send: project ${submission.procoreProjectId} has no earlier rejected or retrieved submission`,
      );
    }
    const status = previous.status as 'rejected' | 'retrieved';
    const ended = await this.audit.latestInto(previous.id, status);
    return {
      recipient,
      submission: {
        ...(await this.summary(submission)),
        originalBudget: submission.originalBudget,
        budgetChanges: submission.budgetChanges,
      },
      previous: {
        status,
        at: ended?.createdAt ?? previous.decidedAt ?? previous.statusChangedAt,
        by: person(ended?.actor ?? (status === 'rejected' ? previous.decidedBy : null)),
        reason: status === 'rejected' ? (previous.rejectionReason ?? ended?.note ?? null) : null,
      },
    };
  }

  private async failedToExport(notification: Notification, recipient: FailedToExportEmail['recipient']): Promise<FailedToExportEmail> {
    const submission = await this.submission(notification);
    const event = await this.cause(notification);
    const rows = await this.snapshots.rows(submission.id);
    const errors: ExportRowError[] = rows
      .filter((row) => row.exportState === 'failed' || row.exportError)
      .map((row) => ({
        job: row.job,
        phase: row.phase,
        costType: row.costType,
        code: row.exportError?.code || null,
        message: row.exportError?.message || 'not written (no error detail was recorded)',
        column: row.exportError?.column || null,
      }));
    return {
      recipient,
      submission: await this.summary(submission),
      failedAt: event?.createdAt ?? submission.statusChangedAt,
      rowsWritten: rows.filter((row) => row.exportState === 'written').length,
      rowsTotal: rows.length,
      errors,
    };
  }

  private async outOfSync(notification: Notification, recipient: OutOfSyncEmail['recipient']): Promise<OutOfSyncEmail> {
    const submission = await this.submission(notification);
    const report = await this.reconciliations.latest(submission.id, 'out_of_sync');
    if (!report) throw new EmailNotApplicableError(`budget submission ${submission.id} has no out-of-sync reconciliation report`);
    const variances: VarianceRow[] = report.rows
      .filter((row) => row.status !== 'matched')
      .map((row) => ({
        job: row.job,
        phase: row.phase,
        costType: row.costType,
        description: row.description ?? '',
        procoreRevised: nullableCents(row.procoreRevised),
        spectrumEstimated: nullableCents(row.spectrumEstimated),
        variance: toCents(row.variance),
        status: row.status,
      }));
    return {
      recipient,
      submission: await this.summary(submission),
      reconciledAt: report.ranAt,
      spectrumCompany: report.companyCode,
      variances,
      totals: {
        procoreRevised: report.procoreRevisedTotal,
        spectrumEstimated: report.spectrumEstimatedTotal,
        variance: report.spectrumEstimatedTotal - report.procoreRevisedTotal,
      },
      explanation: report.explanation,
    };
  }

  private async submission(notification: Notification): Promise<Submission> {
    const id = notification.submission?.id;
    const submission = id ? await this.submissions.findWithPeople(id) : null;
    if (!submission) throw new EmailNotApplicableError(`the ${notification.kind} notification names no existing budget submission`);
    return submission;
  }

  private async cause(notification: Notification): Promise<AuditEvent | null> {
    if (!notification.auditEventId) return null;
    return this.audit.findById(notification.auditEventId);
  }

  private async summary(submission: Submission): Promise<SubmissionSummary> {
    return summarize(submission, (await this.jobsOf([submission.id])).get(submission.id));
  }

  /** The Spectrum jobs of each submission's rows, comma-separated (a budget may span several). */
  private async jobsOf(submissionIds: string[]): Promise<Map<string, string>> {
    const jobs = await this.snapshots.jobsOf(submissionIds);
    return new Map([...jobs].map(([id, list]) => [id, list.join(', ')]));
  }
}

function summarize(submission: Submission, rowJobs: string | undefined): SubmissionSummary {
  return {
    id: submission.id,
    projectName: submission.projectName || `Procore project ${submission.procoreProjectId}`,
    job: rowJobs || submission.job || 'not mapped',
    sender: person(submission.sentBy ?? null),
    sentAt: submission.sentAt,
    lineCount: submission.lineCount,
    revisedEstimate: submission.revisedEstimate,
  };
}

function person(user: User | null | undefined): EmailPerson | null {
  if (!user) return null;
  return { name: user.name, email: user.email || null };
}

function labelOf(event: AuditEvent): string {
  return event.actorLabel === 'user' ? 'An approver' : event.actorLabel;
}

function nullableCents(value: string | null | undefined): Cents | null {
  return value === null || value === undefined ? null : toCents(value);
}

/** An approver (may decide) who still wants the digest. */
function isSubscribedApprover(user: User): boolean {
  return can(user, 'decide') && user.subscribedToDigest;
}
