import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor, AuditService } from '../audit/audit.service';
import { ConflictError, NotFoundError } from '../common/app-error';
import { Submission } from './submission.entity';
import { SubmissionEvent, SubmissionStatus, TRANSITIONS } from './submission-status';

export interface TransitionRequest {
  event: SubmissionEvent;
  actor: Actor;
  note?: string | null;
  /** Columns set together with the status, in the same conditional update. */
  changes?: Partial<Pick<Submission, 'decidedBy' | 'decidedAt' | 'rejectionReason' | 'ingestError'>> & Record<string, unknown>;
  data?: Record<string, unknown>;
}

export interface TransitionResult {
  from: SubmissionStatus;
  to: SubmissionStatus;
  auditEventId: string;
}

/**
 * The one place that changes a submission's status. A transition is a conditional update
 * (`… where status = :current`) plus an audit event, in the caller's transaction: of two
 * concurrent requests exactly one changes the row; the other gets a ConflictError (409).
 */
@Injectable()
export class SubmissionStateMachine {
  constructor(private readonly audit: AuditService) {}

  static allows(event: SubmissionEvent, status: SubmissionStatus): boolean {
    return (TRANSITIONS[event].from as readonly SubmissionStatus[]).includes(status);
  }

  async transition(em: EntityManager, submissionId: string, request: TransitionRequest): Promise<TransitionResult> {
    const rule = TRANSITIONS[request.event];
    const current = await em.findOne(Submission, submissionId, { fields: ['id', 'status'], disableIdentityMap: true });
    if (!current) throw new NotFoundError(`Budget submission ${submissionId} does not exist`);
    const from = current.status;
    if (!SubmissionStateMachine.allows(request.event, from)) {
      throw new ConflictError(describeRefusal(request.event, from), { status: from });
    }
    const now = new Date();
    const updated = await em.nativeUpdate(
      Submission,
      { id: submissionId, status: from },
      { ...(request.changes ?? {}), status: rule.to, statusChangedAt: now, updatedAt: now },
    );
    if (updated !== 1) {
      const latest = await em.findOne(Submission, submissionId, { fields: ['status'], disableIdentityMap: true });
      throw new ConflictError(
        `Budget submission ${submissionId} changed while this request ran; it is now ${latest?.status ?? 'gone'}`,
        { status: latest?.status },
      );
    }
    const event = this.audit.record(em, {
      submissionId,
      actor: request.actor,
      action: request.event,
      from,
      to: rule.to,
      note: request.note ?? null,
      data: request.data ?? null,
    });
    await em.flush();
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
};

export function describeRefusal(event: SubmissionEvent, status: SubmissionStatus): string {
  const allowed = TRANSITIONS[event].from.join(' or ');
  return `Cannot ${VERBS[event]} a budget that is ${status.replace(/_/g, ' ')}; only one that is ${allowed.replace(/_/g, ' ')}`;
}
