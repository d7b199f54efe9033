import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor, AuditService } from '../../audit/audit.service';
import { Submission, SubmissionSource } from '../../budgets/submission.entity';
import { SubmissionStateMachine } from '../../budgets/submission-state-machine';
import { OPEN_STATUSES, SubmissionStatus } from '../../budgets/submission-status';
import { ConflictError } from '../../common/app-error';

export interface OpenRequest {
  procoreProjectId: string;
  source: SubmissionSource;
  senderId: string | null;
  actor: Actor;
  /** Why it was sent, for the audit trail (e.g. "Procore webhook event 12"). */
  note: string;
  /** Webhooks and polls: do nothing when the last submission already holds this budget. */
  unlessFingerprint?: string;
  /**
   * Explicit sends: the fingerprint of the budget as Procore has it now, when read. Equal to the
   * open `ready_to_export` submission's, the send changes nothing (OpenSubmissionUnchangedError).
   */
  unlessOpenHolds?: string;
}

export interface OpenedSubmission {
  /** The new submission, in `ingesting`. */
  id: string;
  /** The `ready_to_export` submission it superseded, if any. */
  supersededId: string | null;
  /** About the superseded submission, when there was one. */
  superseded?: SupersededFacts;
}

export interface SupersededFacts {
  /** Whoever sent it; null when nobody did (the polling sweep, an unknown webhook user). */
  sentBy: { id: string; name: string; email: string } | null;
  /** Its sender is not the sender of the new one: said in the answer and the audit trail. */
  byAnotherPerson: boolean;
  /** The sentence that says so. */
  notice: string;
}

/** An explicit send of the budget the open `ready_to_export` submission already holds (a double click). */
export class OpenSubmissionUnchangedError extends Error {
  constructor(readonly submissionId: string) {
    super(`the budget is unchanged since submission ${submissionId}, which awaits acceptance; nothing created`);
  }
}

/** The last submission of the project already holds this budget (same fingerprint). */
export class BudgetUnchangedError extends Error {
  constructor(readonly submissionId: string, readonly status: SubmissionStatus) {
    super(`the budget is unchanged since submission ${submissionId} (${status.replace(/_/g, ' ')}); nothing created`);
  }
}

const WHY_BUSY: Partial<Record<SubmissionStatus, string>> = {
  ingesting: 'it is still being read from Procore',
  exporting: 'it is being exported to Spectrum',
  exported: 'it has been exported and awaits reconciliation with Spectrum',
  failed_to_export: 'it failed to export; retry or reject it first',
  out_of_sync: 'Spectrum does not show its amounts; retry, reject or acknowledge it first',
};

/**
 * Opens a new submission of a project, in the caller's transaction (PRODUCT.md, "lifecycle"):
 * sends of one project are serialized; a `ready_to_export` submission is superseded; any other open
 * one refuses the send (ConflictError with the reason). The partial unique index
 * `submission_one_open_per_project` backs this up.
 */
@Injectable()
export class SubmissionIntake {
  constructor(
    private readonly stateMachine: SubmissionStateMachine,
    private readonly audit: AuditService,
  ) {}

  async open(em: EntityManager, request: OpenRequest): Promise<OpenedSubmission> {
    const projectId = request.procoreProjectId;
    await em.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`procore-project:${projectId}`]);
    if (request.unlessFingerprint) {
      const [last] = await em.execute<Array<{ id: string; status: SubmissionStatus; fingerprint: string | null }>>(
        `select id, status, fingerprint from submission
         where procore_project_id = ? and status <> 'ingest_failed' and fingerprint is not null order by id desc limit 1`,
        [projectId],
      );
      if (last?.fingerprint === request.unlessFingerprint) throw new BudgetUnchangedError(String(last.id), last.status);
    }
    const [open] = await em.execute<Array<OpenRow>>(
      `select s.id, s.status, s.fingerprint, s.sent_at, u.id as sender_id, u.name as sender_name, u.email as sender_email
         from submission s left join app_user u on u.id = s.sent_by_id
        where s.procore_project_id = ? and s.status in (${OPEN_STATUSES.map(() => '?').join(',')})`,
      [projectId, ...OPEN_STATUSES],
    );
    let superseded: SupersededFacts | undefined;
    if (open) {
      if (open.status !== 'ready_to_export') throw busy(projectId, String(open.id), open.status);
      if (request.unlessOpenHolds && open.fingerprint === request.unlessOpenHolds) throw new OpenSubmissionUnchangedError(String(open.id));
      superseded = supersededFacts(open, request.senderId);
      await this.stateMachine.transition(em, String(open.id), {
        event: 'supersede',
        actor: request.actor,
        note: `A newer version of the budget was sent (${request.note})${superseded.byAnotherPerson ? `. ${superseded.notice}` : ''}`,
        data: superseded.byAnotherPerson ? { supersededSentBy: superseded.sentBy, newSenderId: request.senderId } : undefined,
      });
    }

    const now = new Date();
    const submission = em.create(Submission, {
      procoreProjectId: projectId,
      status: 'ingesting',
      source: request.source,
      sentBy: request.senderId,
      sentAt: now,
      statusChangedAt: now,
      createdAt: now,
      updatedAt: now,
    } as never);
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new ConflictError(`Project ${projectId} already has an open budget submission (sent at the same moment); try again`, {
          procoreProjectId: projectId,
        });
      }
      throw error;
    }
    const note = superseded?.byAnotherPerson ? `${request.note}. ${superseded.notice}` : request.note;
    this.audit.record(em, { submissionId: submission.id, actor: request.actor, action: 'send', from: null, to: 'ingesting', note });
    await em.flush();
    return { id: submission.id, supersededId: open ? String(open.id) : null, superseded };
  }
}

interface OpenRow {
  id: string;
  status: SubmissionStatus;
  fingerprint: string | null;
  sent_at: Date;
  sender_id: string | null;
  sender_name: string | null;
  sender_email: string | null;
}

/**
 * Whose `ready_to_export` submission a send replaces. Someone else's — or one nobody sent (found by
 * the polling sweep) — is never replaced silently: the answer and both audit events say so.
 */
function supersededFacts(open: OpenRow, newSenderId: string | null): SupersededFacts {
  const sentBy = open.sender_id ? { id: String(open.sender_id), name: open.sender_name ?? '', email: open.sender_email ?? '' } : null;
  const byAnotherPerson = !sentBy || sentBy.id !== (newSenderId === null ? null : String(newSenderId));
  const when = new Date(open.sent_at).toISOString();
  const notice = sentBy
    ? `This replaces budget submission ${open.id}, which ${sentBy.name} <${sentBy.email}> sent at ${when} and which was awaiting acceptance`
    : `This replaces budget submission ${open.id}, which the connector found in Procore at ${when} and which was awaiting acceptance`;
  return { sentBy, byAnotherPerson, notice };
}

function busy(projectId: string, submissionId: string, status: SubmissionStatus): ConflictError {
  return new ConflictError(
    `Project ${projectId} already has budget submission ${submissionId}, which is ${status.replace(/_/g, ' ')}: ${WHY_BUSY[status] ?? 'it is still open'}. A new budget can be sent once it is done.`,
    { submissionId, status },
  );
}
