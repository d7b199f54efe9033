import { Injectable } from '@nestjs/common';
import { Actor } from '../../audit/actor';
import { AuditEventRepository } from '../../audit/audit-event.repository';
import { LockRepository } from '../../database/lock.repository';
import { Outbox } from '../../queue/outbox';
import { JobName } from '../../queue/queue.contract';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { SubmissionSource } from '../submission.entity';
import { OpenSubmission as OpenOne, OpenSubmissionExistsError, SubmissionRepository } from '../submission.repository';
import { SubmissionStateMachine } from '../submission-state-machine';
import { statusInWords, SubmissionStatus } from '../submission-status';
import { FailIngestion } from './fail-ingestion';
import { RecordSnapshot, SnapshotCommand } from './record-snapshot';

export interface OpenSubmissionCommand {
  procoreProjectId: string;
  source: SubmissionSource;
  senderId: string | null;
  actor: Actor;
  /** Why it was sent, for the audit trail (e.g. "Procore webhook event 12"). */
  note: string;
  /** Webhooks and polls: do nothing when the last submission already holds this budget (BudgetUnchanged). */
  unlessFingerprint?: string;
  /**
   * Explicit sends: the fingerprint of the budget as Procore has it now, when read. Equal to the
   * open `ready_to_export` submission's, the send changes nothing: the answer names that
   * submission (`unchanged`), and the audit trail says it was sent again.
   */
  unlessOpenHolds?: string;
  /** What happens next, in the same transaction: */
  then:
    | { ingest: true }
    | { snapshot: Omit<SnapshotCommand, 'submissionId'> }
    | { fail: string };
}

export interface OpenedSubmission {
  /** The new submission (or, `unchanged`, the open one that already holds the budget). */
  id: string;
  /** The `ready_to_export` submission it superseded, if any. */
  supersededId: string | null;
  /** True when the open submission already held this very budget: nothing was created. */
  unchanged: boolean;
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

const WHY_BUSY: Partial<Record<SubmissionStatus, string>> = {
  ingesting: 'it is still being read from Procore',
  exporting: 'it is being exported to Spectrum',
  exported: 'it has been exported and awaits reconciliation with Spectrum',
  failed_to_export: 'it failed to export; retry or reject it first',
  out_of_sync: 'Spectrum does not show its amounts; retry, reject or acknowledge it first',
};

/**
 * Opens a new submission of a project (the lifecycle, README): sends of one project are
 * serialized; a `ready_to_export` submission is superseded; any other open one refuses the send
 * (ProjectBusy, with the reason). The partial unique index `submission_one_open_per_project` backs
 * this up. In the same transaction the submission is then queued for ingestion (an explicit send),
 * given its snapshot (a webhook or poll that read the budget already), or ended `ingest_failed` (a
 * budget that cannot be read).
 */
@Injectable()
export class OpenSubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly locks: LockRepository,
    private readonly stateMachine: SubmissionStateMachine,
    private readonly audit: AuditEventRepository,
    private readonly recordSnapshot: RecordSnapshot,
    private readonly failIngestion: FailIngestion,
  ) {}

  execute(command: OpenSubmissionCommand): Promise<OpenedSubmission> {
    return this.outbox.transaction(async () => {
      const opened = await this.open(command);
      if (opened.unchanged) {
        const note = 'Sent again through the API with the budget unchanged; this submission stands';
        await this.audit.record({ submissionId: opened.id, actor: command.actor, action: 'send_unchanged', note });
      } else if ('ingest' in command.then) {
        await this.outbox.record(JobName.IngestSubmission, { submissionId: opened.id }, { dedupeKey: `ingest:${opened.id}` });
      } else if ('snapshot' in command.then) {
        await this.recordSnapshot.execute({ ...command.then.snapshot, submissionId: opened.id });
      } else {
        await this.failIngestion.execute({ submissionId: opened.id, reason: command.then.fail, actor: command.actor });
      }
      return opened;
    });
  }

  private async open(command: OpenSubmissionCommand): Promise<OpenedSubmission> {
    const projectId = command.procoreProjectId;
    await this.locks.projectIntake(projectId);
    if (command.unlessFingerprint) {
      const last = await this.submissions.lastSent(projectId);
      if (last?.fingerprint === command.unlessFingerprint) {
        throw new BudgetsException(
          BudgetsExceptionCode.BudgetUnchanged,
          `the budget is unchanged since submission ${last.id} (${statusInWords(last.status)}); nothing created`,
          { submissionId: last.id, status: last.status },
        );
      }
    }
    const open = await this.submissions.openOf(projectId);
    let superseded: SupersededFacts | undefined;
    if (open) {
      if (open.status !== 'ready_to_export') throw busy(projectId, open.id, open.status);
      if (command.unlessOpenHolds && open.fingerprint === command.unlessOpenHolds) return { id: open.id, supersededId: null, unchanged: true };
      superseded = supersededFacts(open, command.senderId);
      await this.stateMachine.transition(open.id, {
        event: 'supersede',
        actor: command.actor,
        note: `A newer version of the budget was sent (${command.note})${superseded.byAnotherPerson ? `. ${superseded.notice}` : ''}`,
        data: superseded.byAnotherPerson ? { supersededSentBy: superseded.sentBy, newSenderId: command.senderId } : undefined,
      });
    }
    let id: string;
    try {
      ({ id } = await this.submissions.create({ procoreProjectId: projectId, source: command.source, senderId: command.senderId }));
    } catch (error) {
      if (!(error instanceof OpenSubmissionExistsError)) throw error;
      throw new BudgetsException(BudgetsExceptionCode.ProjectBusy, `Project ${projectId} already has an open budget submission (sent at the same moment); try again`, {
        procoreProjectId: projectId,
      });
    }
    const note = superseded?.byAnotherPerson ? `${command.note}. ${superseded.notice}` : command.note;
    await this.audit.record({ submissionId: id, actor: command.actor, action: 'send', from: null, to: 'ingesting', note });
    return { id, supersededId: open ? open.id : null, unchanged: false, superseded };
  }
}

/**
 * Whose `ready_to_export` submission a send replaces. Someone else's — or one nobody sent (found by
 * the polling sweep) — is never replaced silently: the answer and both audit events say so.
 */
function supersededFacts(open: OpenOne, newSenderId: string | null): SupersededFacts {
  const byAnotherPerson = !open.sentBy || open.sentBy.id !== (newSenderId === null ? null : String(newSenderId));
  const when = open.sentAt.toISOString();
  const notice = open.sentBy
    ? `This replaces budget submission ${open.id}, which ${open.sentBy.name} <${open.sentBy.email}> sent at ${when} and which was awaiting acceptance`
    : `This replaces budget submission ${open.id}, which the connector found in Procore at ${when} and which was awaiting acceptance`;
  return { sentBy: open.sentBy, byAnotherPerson, notice };
}

function busy(projectId: string, submissionId: string, status: SubmissionStatus): BudgetsException {
  return new BudgetsException(
    BudgetsExceptionCode.ProjectBusy,
    `Project ${projectId} already has budget submission ${submissionId}, which is ${statusInWords(status)}: ${WHY_BUSY[status] ?? 'it is still open'}. A new budget can be sent once it is done.`,
    { submissionId, status },
  );
}
