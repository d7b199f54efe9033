import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor } from '../../audit/audit.service';
import { SubmissionSource } from '../../budgets/submission.entity';
import { OPEN_STATUSES, SubmissionStatus } from '../../budgets/submission-status';
import { ConflictError } from '../../common/app-error';
import { RecordedWork, WorkQueue } from '../../queue/work-queue.service';
import { SubmissionStateMachine } from '../../budgets/submission-state-machine';
import { BudgetDataError, mapBudget, MappedBudget } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';
import { ProjectScope } from '../project-scope';
import { ProcoreUserSync } from '../users/procore-user-sync.service';
import { BudgetCreator } from './budget-creator.service';
import { BudgetRead, BudgetReader } from './budget-reader.service';
import { HeldProjectLock, ProjectLock } from './project-lock';
import { SnapshotStore } from './snapshot-store.service';
import { BudgetUnchangedError, SubmissionIntake } from './submission-intake.service';

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
    private readonly em: EntityManager,
    private readonly reader: BudgetReader,
    private readonly intake: SubmissionIntake,
    private readonly store: SnapshotStore,
    private readonly users: ProcoreUserSync,
    private readonly creators: BudgetCreator,
    private readonly workQueue: WorkQueue,
    private readonly mapping: MappingStore,
    private readonly projectLock: ProjectLock,
    private readonly stateMachine: SubmissionStateMachine,
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
    const last = await this.lastSubmission(projectId);
    if (last?.fingerprint === budget.fingerprint) {
      return { outcome: new BudgetUnchangedError(last.id, last.status).message };
    }
    await this.reader.confirmUnchanged(projectId, budget.fingerprint, (again) => this.map(again).fingerprint);
    if (!(await this.reader.isLocked(projectId))) return { outcome: 'the budget was unlocked in Procore while it was read; nothing created' };

    const creator = await this.creators.procoreUserOf(projectId);
    const people = await this.users.resolve([trigger.procoreUserId, creator]);
    const senderId = (trigger.procoreUserId && people.get(trigger.procoreUserId)) || null;
    const creatorId = (creator && people.get(creator)) || senderId;

    let works: RecordedWork[] = [];
    let submissionId: string;
    held.assertHeld();
    try {
      submissionId = await this.em.fork().transactional(async (em) => {
        const { id } = await this.intake.open(em, {
          procoreProjectId: String(projectId),
          source: trigger.source,
          senderId,
          actor: trigger.actor,
          note: trigger.note,
          unlessFingerprint: budget.fingerprint,
        });
        works = await this.store.complete(em, id, budget, { viewId: read.viewId, creatorId, actor: trigger.actor });
        return id;
      });
    } catch (error) {
      // Another check or send got there first: record why nothing was created.
      if (error instanceof BudgetUnchangedError) return { outcome: error.message };
      if (error instanceof ConflictError) return { outcome: `${error.message} Nothing created.` };
      throw error;
    }
    await this.workQueue.dispatch(this.em.fork(), works);
    return {
      outcome: `started submission ${submissionId}: ${budget.lines.length} line(s), ${budget.problemCount} problem(s)`,
      submissionId,
    };
  }

  private map(read: BudgetRead): MappedBudget {
    return mapBudget(read.source, this.mapping.current());
  }

  /**
   * A locked budget the connector cannot read (e.g. its view lacks the revised column): opened as
   * an explicit send would be and ended `ingest_failed` with the reason, so people see it
   * (DECISIONS.md) — once: while the newest submission already failed for the same reason, later
   * checks create nothing.
   */
  private async recordUnreadable(projectId: number, trigger: CheckTrigger, reason: string, held: HeldProjectLock): Promise<CheckResult> {
    const [newest] = await this.em
      .fork()
      .execute<Array<{ id: string; status: SubmissionStatus; ingest_error: string | null }>>(
        `select id, status, ingest_error from submission where procore_project_id = ? order by id desc limit 1`,
        [projectId],
      );
    if (newest?.status === 'ingest_failed' && newest.ingest_error === reason) {
      return { outcome: `the budget still cannot be read (submission ${newest.id}); nothing created` };
    }
    const people = await this.users.resolve([trigger.procoreUserId]);
    const senderId = (trigger.procoreUserId && people.get(trigger.procoreUserId)) || null;
    let submissionId: string;
    held.assertHeld();
    try {
      submissionId = await this.em.fork().transactional(async (em) => {
        const { id } = await this.intake.open(em, { procoreProjectId: String(projectId), source: trigger.source, senderId, actor: trigger.actor, note: trigger.note });
        await this.stateMachine.transition(em, id, { event: 'ingestFailed', actor: trigger.actor, note: reason, changes: { ingestError: reason } });
        return id;
      });
    } catch (error) {
      if (error instanceof ConflictError) return { outcome: `${error.message} Nothing created.` };
      throw error;
    }
    return { outcome: `submission ${submissionId} could not be ingested: ${reason}`, submissionId };
  }

  /** An open submission other than `ready_to_export` (which a newer budget would supersede). */
  private async busySubmission(projectId: number): Promise<{ id: string; status: SubmissionStatus } | undefined> {
    const busy = OPEN_STATUSES.filter((status) => status !== 'ready_to_export');
    const [row] = await this.em
      .fork()
      .execute<Array<{ id: string; status: SubmissionStatus }>>(
        `select id, status from submission where procore_project_id = ? and status in (${busy.map(() => '?').join(',')}) limit 1`,
        [projectId, ...busy],
      );
    return row ? { id: String(row.id), status: row.status } : undefined;
  }

  private async lastSubmission(projectId: number): Promise<{ id: string; status: SubmissionStatus; fingerprint: string } | undefined> {
    const [row] = await this.em
      .fork()
      .execute<Array<{ id: string; status: SubmissionStatus; fingerprint: string }>>(
        `select id, status, fingerprint from submission
         where procore_project_id = ? and status <> 'ingest_failed' and fingerprint is not null order by id desc limit 1`,
        [projectId],
      );
    return row ? { id: String(row.id), status: row.status, fingerprint: row.fingerprint } : undefined;
  }
}

function busyOutcome(busy: { id: string; status: SubmissionStatus }): CheckResult {
  return { outcome: `submission ${busy.id} is ${busy.status.replace(/_/g, ' ')}; nothing created` };
}
