import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor } from '../audit/audit.service';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/app-error';
import { JobName } from '../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../queue/work-queue.service';
import { barredAsSender, mayRetrieve, RETRIEVE_REFUSAL } from '../users/permissions';
import { User } from '../users/user.entity';
import { BudgetQueries } from './budget-queries.service';
import { Submission } from './submission.entity';
import { SubmissionRow } from './submission-row.entity';
import { SubmissionStateMachine, TransitionResult } from './submission-state-machine';
import { SubmissionEvent } from './submission-status';
import { Notifier } from '../notifications/notifier';
import { nothingToRewrite, resetRowsToRewrite, unlockRefusal } from '../reconciliation/reconciliation-gate';

/** Separation of duties (REQUIRE_INDEPENDENT_APPROVER): the sender may reject, never accept. */
export const INDEPENDENT_APPROVER_REFUSAL =
  'You sent this budget, and this connector requires an independent approver (REQUIRE_INDEPENDENT_APPROVER): someone else with "Can Push to Accounting" must accept it. You can still reject it';

/**
 * What approvers do to a submission. Each decision is one transaction — the conditional status
 * change, its audit event and the work it causes — and the work is enqueued after commit.
 */
@Injectable()
export class BudgetDecisions {
  constructor(
    private readonly em: EntityManager,
    private readonly stateMachine: SubmissionStateMachine,
    private readonly workQueue: WorkQueue,
    private readonly audit: AuditService,
    private readonly notifier: Notifier,
    private readonly queries: BudgetQueries,
    private readonly config: AppConfig,
  ) {}

  async accept(id: string, user: User): Promise<TransitionResult> {
    return this.decide(id, 'accept', { user }, { decidedBy: user, decidedAt: new Date() }, async (em, submission) => {
      if (barredAsSender(this.config.requireIndependentApprover, user, submission.sentBy?.id)) {
        throw new ForbiddenError(INDEPENDENT_APPROVER_REFUSAL);
      }
      if (submission.problemCount > 0) {
        const problems = await this.queries.problems(id, em);
        throw new ConflictError(
          `This budget has ${problems.length} problem(s) and cannot be accepted: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}. Fix them in Procore and send the budget again.`,
          { problems },
        );
      }
    }, async (em, auditEventId) => [await this.exportWork(em, id, auditEventId)]);
  }

  async reject(id: string, user: User, reason: string): Promise<TransitionResult> {
    return this.decide(
      id,
      'reject',
      { user },
      { decidedBy: user, decidedAt: new Date(), rejectionReason: reason },
      undefined,
      async (em, auditEventId) => [
        await this.unlockWork(em, id, auditEventId),
        ...(await this.notifier.rejected(em, id, auditEventId)),
      ],
      reason,
    );
  }

  async retry(id: string, user: User): Promise<TransitionResult> {
    return this.decide(id, 'retry', { user }, {}, async (em, submission) => {
      const failed = await em.nativeUpdate(SubmissionRow, { submission: id, exportState: 'failed' }, { exportState: 'pending', exportError: null, exportAttempts: 0 });
      // From out_of_sync: write again the rows Spectrum was found to differ on or to lack.
      if (submission.status === 'out_of_sync') {
        const rewrite = await resetRowsToRewrite(em, id);
        // Nothing to write again: an export would change nothing in Spectrum and end out of sync
        // again (with a second round of emails). Refused, with what can be done instead.
        if (failed + rewrite === 0) throw new ConflictError(await nothingToRewrite(em, id), { status: submission.status });
      }
    }, async (em, auditEventId) => [await this.exportWork(em, id, auditEventId)]);
  }

  /** The sender (or an admin) takes the budget back before anyone responded. */
  async retrieve(id: string, user: User): Promise<TransitionResult> {
    return this.decide(id, 'retrieve', { user }, {}, async (_em, submission) => {
      if (!mayRetrieve(user, submission.sentBy?.id)) throw new ForbiddenError(RETRIEVE_REFUSAL);
    }, async (em, auditEventId) => [await this.unlockWork(em, id, auditEventId)]);
  }

  /** An admin accepts the listed variance of an out-of-sync budget. */
  async acknowledge(id: string, user: User, reason: string): Promise<TransitionResult> {
    return this.decide(id, 'acknowledge', { user }, {}, undefined, async () => [], reason);
  }

  /** Unlocks the budget in Procore; only once Spectrum shows the exported amounts (synced). */
  async unlock(id: string, user: User): Promise<{ status: string; unlockRequestedAt: string }> {
    let works: RecordedWork[] = [];
    const now = new Date();
    await this.em.transactional(async (em) => {
      const submission = await em.findOne(Submission, id);
      if (!submission) throw new NotFoundError(`Budget submission ${id} does not exist`);
      if (submission.status !== 'synced') {
        throw new ConflictError(
          `The budget can be unlocked only once Spectrum shows the exported amounts (status synced); it is ${submission.status.replace(/_/g, ' ')}`,
          { status: submission.status },
        );
      }
      const refusal = await unlockRefusal(em, id);
      if (refusal) throw new ConflictError(refusal, { status: submission.status });
      const updated = await em.nativeUpdate(Submission, { id, status: 'synced', unlockedAt: null }, { unlockedAt: now, unlockedBy: user });
      if (updated !== 1) throw new ConflictError('This budget has already been unlocked', { status: submission.status });
      const event = this.audit.record(em, { submissionId: id, actor: { user }, action: 'unlock', from: 'synced', to: 'synced' });
      await em.flush();
      works = [await this.unlockWork(em, id, event.id)];
    });
    await this.workQueue.dispatch(this.em.fork(), works);
    return { status: 'synced', unlockRequestedAt: now.toISOString() };
  }

  /**
   * Work is keyed by the decision that caused it: a retry recorded while the previous export job is
   * still finishing is new work, never folded into the old job's.
   */
  private exportWork(em: EntityManager, id: string, auditEventId: string): Promise<RecordedWork> {
    return this.workQueue.record(em, JobName.ExportSubmission, { submissionId: id }, { dedupeKey: `export:${id}:${auditEventId}` });
  }

  private unlockWork(em: EntityManager, id: string, auditEventId: string): Promise<RecordedWork> {
    return this.workQueue.record(em, JobName.UnlockBudget, { submissionId: id }, { dedupeKey: `unlock:${id}:${auditEventId}` });
  }

  private async decide(
    id: string,
    event: SubmissionEvent,
    actor: Actor,
    changes: Record<string, unknown>,
    check: ((em: EntityManager, submission: Submission) => Promise<void>) | undefined,
    work: (em: EntityManager, auditEventId: string) => Promise<RecordedWork[]>,
    note?: string,
  ): Promise<TransitionResult> {
    let works: RecordedWork[] = [];
    const result = await this.em.transactional(async (em) => {
      const submission = await em.findOne(Submission, id, { populate: ['sentBy'] });
      if (!submission) throw new NotFoundError(`Budget submission ${id} does not exist`);
      if (check && SubmissionStateMachine.allows(event, submission.status)) await check(em, submission);
      const transition = await this.stateMachine.transition(em, id, { event, actor, changes, note });
      works = await work(em, transition.auditEventId);
      return transition;
    });
    await this.workQueue.dispatch(this.em.fork(), works);
    return result;
  }
}
