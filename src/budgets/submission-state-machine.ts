import { Injectable } from '@nestjs/common';
import { Actor } from '../audit/actor';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { BudgetsException, BudgetsExceptionCode } from './budgets.exception';
import { SubmissionChanges, SubmissionRepository } from './submission.repository';
import { statusInWords, SubmissionEvent, SubmissionStatus, TRANSITIONS } from './submission-status';
import { TransitionWork } from './transition-work';

export interface TransitionRequest {
  event: SubmissionEvent;
  actor: Actor;
  note?: string | null;
  /** Columns set together with the status, in the same conditional update. */
  changes?: SubmissionChanges;
  /** Only if the budget was not unlocked yet (the unlock event). */
  guard?: { notUnlocked?: boolean };
  data?: Record<string, unknown>;
}

export interface TransitionResult {
  from: SubmissionStatus;
  to: SubmissionStatus;
  auditEventId: string;
}

/**
 * The one place that changes a submission's status. A transition is a conditional update
 * (`… where status = :current`), an audit event and the work the transitions table says the event
 * causes, all in the caller's outbox transaction: of two concurrent requests exactly one changes the
 * row; the other gets a BudgetsException (TransitionRefused or ChangedMeanwhile).
 */
@Injectable()
export class SubmissionStateMachine {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly audit: AuditEventRepository,
    private readonly work: TransitionWork,
  ) {}

  static allows(event: SubmissionEvent, status: SubmissionStatus): boolean {
    return (TRANSITIONS[event].from as readonly SubmissionStatus[]).includes(status);
  }

  async transition(submissionId: string, request: TransitionRequest): Promise<TransitionResult> {
    const rule = TRANSITIONS[request.event];
    const from = await this.submissions.statusOf(submissionId);
    if (!from) throw new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${submissionId} does not exist`);
    if (!SubmissionStateMachine.allows(request.event, from)) {
      throw new BudgetsException(BudgetsExceptionCode.TransitionRefused, describeRefusal(request.event, from), { status: from });
    }
    if (!(await this.submissions.changeStatus(submissionId, from, rule.to, request.changes, request.guard))) {
      const latest = await this.submissions.statusOf(submissionId);
      if (latest === from && request.guard?.notUnlocked) {
        throw new BudgetsException(BudgetsExceptionCode.AlreadyUnlocked, 'This budget has already been unlocked', { status: from });
      }
      throw new BudgetsException(
        BudgetsExceptionCode.ChangedMeanwhile,
        `Budget submission ${submissionId} changed while this request ran; it is now ${latest ?? 'gone'}`,
        { status: latest ?? undefined },
      );
    }
    const event = await this.audit.record({
      submissionId,
      actor: request.actor,
      action: request.event,
      from,
      to: rule.to,
      note: request.note ?? null,
      data: request.data ?? null,
    });
    await this.work.record(request.event, submissionId, event.id);
    return { from, to: rule.to, auditEventId: event.id };
  }
}

const VERBS: Record<SubmissionEvent, string> = {
  ingested: 'finish ingesting',
  ingestFailed: 'fail ingestion of',
  accept: 'accept',
  reject: 'reject',
  retrieve: 'retrieve',
  supersede: 'supersede',
  exported: 'mark as exported',
  exportFailed: 'mark as failed to export',
  retry: 'retry',
  reconciledSynced: 'mark as synced',
  reconciledOutOfSync: 'mark as out of sync',
  acknowledge: 'acknowledge the variance of',
  unlock: 'unlock',
};

export function describeRefusal(event: SubmissionEvent, status: SubmissionStatus): string {
  const allowed = TRANSITIONS[event].from.join(' or ');
  return `Cannot ${VERBS[event]} a budget that is ${statusInWords(status)}; only one that is ${allowed.replace(/_/g, ' ')}`;
}
