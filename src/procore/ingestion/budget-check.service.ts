import { Injectable } from '@nestjs/common';
import { Actor } from '../../audit/actor';
import { BudgetsException, BudgetsExceptionCode, movedOnMeanwhile } from '../../budgets/budgets.exception';
import { SubmissionSource } from '../../budgets/submission.entity';
import { SubmissionRepository } from '../../budgets/submission.repository';
import { statusInWords, SubmissionStatus } from '../../budgets/submission-status';
import { OpenSubmission, OpenSubmissionCommand } from '../../budgets/use-cases/open-submission';
import { BudgetDataError, mapBudget, MappedBudget } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';
import { ProjectScope } from '../project-scope';
import { ProcoreUserSync } from '../users/procore-user-sync.service';
import { BudgetCreator } from './budget-creator.service';
import { BudgetRead, BudgetReader } from './budget-reader.service';
import { HeldProjectLock, ProjectLock } from './project-lock';

export interface CheckTrigger {
  source: Extract<SubmissionSource, 'webhook' | 'poll'>;
  /** The Procore user who caused it (a webhook's `user_id`): the sender. None for a poll. */
  procoreUserId?: number | null;
  actor: Actor;
  /** For the audit trail, e.g. "Procore webhook event 12 (Budget View Snapshots create)". */
  note: string;
}

export interface CheckResult {
  /** What the check concluded, in words. */
  outcome: string;
  /** The submission it started, if any. */
  submissionId?: string;
}

/**
 * The check behind webhooks and the polling sweep: a project whose budget is locked in Procore and
 * differs from what was last submitted (fingerprint) gets a new submission, snapshot included,
 * straight to `ready_to_export` — superseding one that is `ready_to_export`, never another open one.
 * Anything else only yields an outcome. Procore is asked as little as possible: nothing while the
 * project has a busy submission, one call when the budget is not locked, one read when it is
 * unchanged. Checks of one project run one at a time (ProjectLock), so the newest read always wins;
 * a budget about to be stored is read twice (a budget changed while read is tried again later) and
 * its lock looked at again.
 */
@Injectable()
export class BudgetCheck {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly reader: BudgetReader,
    private readonly openSubmission: OpenSubmission,
    private readonly users: ProcoreUserSync,
    private readonly creators: BudgetCreator,
    private readonly mapping: MappingStore,
    private readonly projectLock: ProjectLock,
    private readonly scope: ProjectScope,
  ) {}

  async check(projectId: number, trigger: CheckTrigger): Promise<CheckResult> {
    if (!this.scope.includes(projectId)) return { outcome: `ignored: ${this.scope.refusal(projectId)}` };
    // Decided without Procore and without waiting for the project's lock.
    const busy = await this.busySubmission(projectId);
    if (busy) return busyOutcome(busy);
    return this.projectLock.run(projectId, (held) => this.checkHeld(projectId, trigger, held));
  }

  private async checkHeld(projectId: number, trigger: CheckTrigger, held: HeldProjectLock): Promise<CheckResult> {
    const busy = await this.busySubmission(projectId);
    if (busy) return busyOutcome(busy);
    if (!(await this.reader.isLocked(projectId))) return { outcome: 'the budget is not locked in Procore; nothing to send' };

    const read = await this.reader.read(projectId);
    let budget: MappedBudget;
    try {
      budget = this.map(read);
    } catch (error) {
      if (error instanceof BudgetDataError) return this.recordUnreadable(projectId, trigger, error.message, held);
      throw error;
    }
    const last = await this.submissions.lastSent(String(projectId));
    if (last?.fingerprint === budget.fingerprint) return { outcome: unchanged(last.id, last.status) };
    await this.reader.confirmUnchanged(projectId, budget.fingerprint, (again) => this.map(again).fingerprint);
    if (!(await this.reader.isLocked(projectId))) return { outcome: 'the budget was unlocked in Procore while it was read; nothing created' };

    const creator = await this.creators.procoreUserOf(projectId);
    const people = await this.users.resolve([trigger.procoreUserId, creator]);
    const senderId = (trigger.procoreUserId && people.get(trigger.procoreUserId)) || null;
    const creatorId = (creator && people.get(creator)) || senderId;

    held.assertHeld();
    const opened = await this.open(projectId, trigger, senderId, {
      unlessFingerprint: budget.fingerprint,
      then: { snapshot: { budget, viewId: read.viewId, creatorId, actor: trigger.actor } },
    });
    if ('outcome' in opened) return opened;
    return {
      outcome: `started submission ${opened.submissionId}: ${budget.lines.length} line(s), ${budget.problemCount} problem(s)`,
      submissionId: opened.submissionId,
    };
  }

  /** Opens the project's submission (OpenSubmission); another check or send that got there first is an outcome. */
  private async open(
    projectId: number,
    trigger: CheckTrigger,
    senderId: string | null,
    rest: Pick<OpenSubmissionCommand, 'unlessFingerprint' | 'then'>,
  ): Promise<{ submissionId: string } | CheckResult> {
    try {
      const { id } = await this.openSubmission.execute({ procoreProjectId: String(projectId), source: trigger.source, senderId, actor: trigger.actor, note: trigger.note, ...rest });
      return { submissionId: id };
    } catch (error) {
      // Another check or send got there first: record why nothing was created.
      if (error instanceof BudgetsException && error.code === BudgetsExceptionCode.BudgetUnchanged) return { outcome: error.message };
      if (error instanceof BudgetsException && (error.code === BudgetsExceptionCode.ProjectBusy || movedOnMeanwhile(error))) {
        return { outcome: `${error.message} Nothing created.` };
      }
      throw error;
    }
  }

  private map(read: BudgetRead): MappedBudget {
    return mapBudget(read.source, this.mapping.current());
  }

  /**
   * A locked budget the connector cannot read (e.g. its view lacks the revised column): opened as
   * an explicit send would be and ended `ingest_failed` with the reason, so people see it
   * (docs/architecture.md, "Unreadable budget") — once: while the newest submission already failed for the same reason, later
   * checks create nothing.
   */
  private async recordUnreadable(projectId: number, trigger: CheckTrigger, reason: string, held: HeldProjectLock): Promise<CheckResult> {
    const newest = await this.submissions.newestOf(String(projectId));
    if (newest?.status === 'ingest_failed' && newest.ingestError === reason) {
      return { outcome: `the budget still cannot be read (submission ${newest.id}); nothing created` };
    }
    const people = await this.users.resolve([trigger.procoreUserId]);
    const senderId = (trigger.procoreUserId && people.get(trigger.procoreUserId)) || null;
    held.assertHeld();
    const opened = await this.open(projectId, trigger, senderId, { then: { fail: reason } });
    if ('outcome' in opened) return opened;
    const submissionId = opened.submissionId;
    return { outcome: `submission ${submissionId} could not be ingested: ${reason}`, submissionId };
  }

  /** An open submission other than `ready_to_export` (which a newer budget would supersede). */
  private async busySubmission(projectId: number): Promise<{ id: string; status: SubmissionStatus } | undefined> {
    const open = await this.submissions.openOf(String(projectId));
    return open && open.status !== 'ready_to_export' ? { id: open.id, status: open.status } : undefined;
  }
}

function unchanged(submissionId: string, status: SubmissionStatus): string {
  return `the budget is unchanged since submission ${submissionId} (${statusInWords(status)}); nothing created`;
}

function busyOutcome(busy: { id: string; status: SubmissionStatus }): CheckResult {
  return { outcome: `submission ${busy.id} is ${statusInWords(busy.status)}; nothing created` };
}
