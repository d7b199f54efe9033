import { Injectable } from '@nestjs/common';
import { Outbox } from '../queue/outbox';
import { JobName } from '../queue/queue.contract';
import { Notifier } from './notifier';
import { SubmissionRepository } from './submission.repository';
import { SubmissionEvent, TRANSITIONS, TransitionWorkKind } from './submission-status';

/**
 * Records the work a transition causes, as the transitions table declares it, in the transition's
 * transaction (the Outbox dispatches it after commit). Work is keyed by the event that caused it: a
 * retry recorded while the previous export job is still finishing is new work, never folded into
 * the old job's.
 */
@Injectable()
export class TransitionWork {
  constructor(
    private readonly outbox: Outbox,
    private readonly notifier: Notifier,
    private readonly submissions: SubmissionRepository,
  ) {}

  async record(event: SubmissionEvent, submissionId: string, auditEventId: string): Promise<void> {
    for (const kind of TRANSITIONS[event].causes as readonly TransitionWorkKind[]) await this.recordOne(kind, submissionId, auditEventId);
  }

  private async recordOne(kind: TransitionWorkKind, submissionId: string, auditEventId: string): Promise<void> {
    const payload = { submissionId };
    switch (kind) {
      case 'export':
        await this.outbox.record(JobName.ExportSubmission, payload, { dedupeKey: `export:${submissionId}:${auditEventId}` });
        return;
      case 'reconcile':
        // Never folded into a reconciliation of the previous export.
        await this.outbox.record(JobName.ReconcileSubmission, payload, { dedupeKey: `reconcile:${submissionId}:${auditEventId}` });
        return;
      case 'unlock':
        await this.outbox.record(JobName.UnlockBudget, payload, { dedupeKey: `unlock:${submissionId}:${auditEventId}` });
        return;
      case 'unlockIfConnectorLocked':
        // The connector unlocks only what it locked itself.
        if ((await this.submissions.findById(submissionId))?.lockedByConnector) {
          await this.outbox.record(JobName.UnlockBudget, payload, { dedupeKey: `unlock:${submissionId}` });
        }
        return;
      case 'notifyRejected':
        return this.notifier.rejected(submissionId, auditEventId);
      case 'notifyResent':
        // A project whose last submission was rejected or retrieved is being sent again: tell approvers.
        if (await this.submissions.previousEnded(submissionId)) await this.notifier.resent(submissionId, auditEventId);
        return;
      case 'notifyExportFailed':
        return this.notifier.exportFailed(submissionId, auditEventId);
      case 'notifyOutOfSync':
        return this.notifier.outOfSync(submissionId, auditEventId);
    }
  }
}
