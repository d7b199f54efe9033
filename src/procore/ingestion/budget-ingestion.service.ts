import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService, SYSTEM } from '../../audit/audit.service';
import { Submission } from '../../budgets/submission.entity';
import { SubmissionStateMachine } from '../../budgets/submission-state-machine';
import { ConflictError } from '../../common/app-error';
import { JobContext } from '../../queue/job-handler.decorator';
import { JobName } from '../../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../../queue/work-queue.service';
import { mapBudget, MappedBudget } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreRateLimitError } from '../client/procore-errors';
import { ProjectScope } from '../project-scope';
import { ProcoreUserSync } from '../users/procore-user-sync.service';
import { BudgetCreator } from './budget-creator.service';
import { BudgetRead, BudgetReader } from './budget-reader.service';
import { describeDuration } from './durations';
import { BudgetChangedWhileReadError, describeFailure, isPermanent, isTransient, TransientIngestionError } from './ingestion-errors';
import { HeldProjectLock, ProjectLock } from './project-lock';
import { SnapshotStore } from './snapshot-store.service';

export type IngestionResult =
  | { submissionId: string; status: 'ready_to_export'; lines: number; rows: number; problems: number }
  | { submissionId: string; status: 'ingest_failed'; reason: string }
  | { submissionId: string; skipped: string };

interface SubmissionFacts {
  id: string;
  status: string;
  procore_project_id: string;
  sent_by_id: string | null;
  /** Milliseconds since the send (by the database's clock). */
  age_ms: number;
}

/**
 * How long a send may keep meeting transient Procore failures: at the end of a queue run (its
 * final attempt) past this age, the submission ends `ingest_failed` instead of going back to the
 * sweeper for another round. One hour covers several sweeps (STUCK_AFTER_MINUTES).
 */
export const INGEST_GIVE_UP_AFTER_MS = 60 * 60_000;

/**
 * The IngestSubmission job of an explicit send: the submission exists in `ingesting`; lock the
 * budget in Procore if needed (remembering that the connector did), snapshot it and move it to
 * `ready_to_export` — or to `ingest_failed` with the reason, unlocking what the connector locked.
 * Transient Procore failures are thrown so the queue retries; the submission stays `ingesting` —
 * but not forever: on a queue run's final attempt, once the send is older than `giveUpAfterMs`,
 * it ends `ingest_failed` with what kept going wrong. A spent rate limit with a known reset is the
 * exception: that work waits for the reset (see ProcoreJobs).
 */
@Injectable()
export class BudgetIngestion {
  private readonly logger = new Logger(BudgetIngestion.name);
  /** Age of a send after which transient failures end it (INGEST_GIVE_UP_AFTER_MS); tests shorten it. */
  giveUpAfterMs = INGEST_GIVE_UP_AFTER_MS;

  constructor(
    private readonly em: EntityManager,
    private readonly client: ProcoreClient,
    private readonly reader: BudgetReader,
    private readonly store: SnapshotStore,
    private readonly stateMachine: SubmissionStateMachine,
    private readonly users: ProcoreUserSync,
    private readonly workQueue: WorkQueue,
    private readonly audit: AuditService,
    private readonly mapping: MappingStore,
    private readonly creators: BudgetCreator,
    private readonly projectLock: ProjectLock,
    private readonly scope: ProjectScope,
  ) {}

  async ingest(submissionId: string, context: Pick<JobContext, 'finalAttempt'>): Promise<IngestionResult> {
    const [submission] = await this.em.fork().execute<SubmissionFacts[]>(
      `select id, status, procore_project_id, sent_by_id, (extract(epoch from now() - created_at) * 1000)::float8 as age_ms
         from submission where id = ?`,
      [submissionId],
    );
    if (!submission) return { submissionId, skipped: 'the submission does not exist' };
    if (submission.status !== 'ingesting') return { submissionId, skipped: `the submission is already ${submission.status}` };
    const projectId = Number(submission.procore_project_id);
    // Sent before PROCORE_PROJECT_IDS changed: ended without asking Procore anything.
    if (!this.scope.includes(projectId)) {
      return (await this.fail(submissionId, this.scope.refusal(projectId))) ?? { submissionId, skipped: 'the submission changed meanwhile' };
    }

    try {
      // One piece of work per project at a time: an unlock in flight lands before this looks at the lock.
      return await this.projectLock.run(projectId, (held) => this.ingestHeld(submissionId, projectId, submission, held));
    } catch (error) {
      // Another run finished it meanwhile: nothing left to do.
      if (error instanceof ConflictError) return { submissionId, skipped: error.message };
      let reason = describeFailure(error);
      if (isTransient(error)) {
        // A rate limit spent until a known time is waited out, however long the send has waited.
        if (error instanceof ProcoreRateLimitError || !context.finalAttempt) throw error;
        const waitedMs = Number(submission.age_ms);
        if (waitedMs < this.giveUpAfterMs) throw error;
        reason =
          error instanceof BudgetChangedWhileReadError
            ? `The budget kept changing while it was read, for ${describeDuration(waitedMs)} after it was sent; send it again once nobody is editing it`
            : `Procore kept failing for ${describeDuration(waitedMs)} after the budget was sent; send it again once Procore answers. Last failure: ${reason}`;
      }
      // An unexpected error (a bug, the database) gets the queue's retries before it fails the send.
      else if (!isPermanent(error) && !context.finalAttempt) throw error;
      this.logger.warn(`Ingestion of submission ${submissionId} (Procore project ${projectId}) failed: ${reason}`);
      return (await this.fail(submissionId, reason)) ?? { submissionId, skipped: 'the submission changed meanwhile' };
    }
  }

  private async ingestHeld(submissionId: string, projectId: number, submission: SubmissionFacts, held: HeldProjectLock): Promise<IngestionResult> {
    // The lock may have been waited for: the submission may be done (or retrieved) by now.
    const [now] = await this.em.fork().execute<Array<{ status: string }>>(`select status from submission where id = ?`, [submissionId]);
    if (now?.status !== 'ingesting') return { submissionId, skipped: `the submission is already ${now?.status ?? 'gone'}` };
    await this.ensureLocked(submissionId, projectId);
    const read = await this.reader.read(projectId);
    const budget = this.map(read);
    await this.reader.confirmUnchanged(projectId, budget.fingerprint, (again) => this.map(again).fingerprint);
    // Unlocked meanwhile (someone in Procore, or an unlock that got past the project lock): lock and read again.
    if (!(await this.reader.isLocked(projectId))) {
      throw new TransientIngestionError(`The budget of Procore project ${projectId} was unlocked in Procore while it was read; it is locked and read again`);
    }
    const creator = await this.creators.procoreUserOf(projectId);
    const people = await this.users.resolve([creator]);
    const creatorId = (creator && people.get(creator)) || (submission.sent_by_id ? String(submission.sent_by_id) : null);
    let works: RecordedWork[] = [];
    held.assertHeld();
    await this.em.fork().transactional(async (em) => {
      works = await this.store.complete(em, submissionId, budget, { viewId: read.viewId, creatorId, actor: SYSTEM });
    });
    await this.workQueue.dispatch(this.em.fork(), works);
    return { submissionId, status: 'ready_to_export', lines: budget.lines.length, rows: budget.rows.length, problems: budget.problemCount };
  }

  private map(read: BudgetRead): MappedBudget {
    return mapBudget(read.source, this.mapping.current());
  }

  /** Locks the budget unless it is; the intent is recorded first, so a crash cannot forget it. */
  private async ensureLocked(submissionId: string, projectId: number): Promise<void> {
    if (await this.reader.isLocked(projectId)) return;
    await this.em.fork().nativeUpdate(Submission, { id: submissionId, status: 'ingesting' }, { lockedByConnector: true });
    await this.client.lockBudget(projectId);
    const em = this.em.fork();
    this.audit.record(em, { submissionId, actor: SYSTEM, action: 'procore.lock', note: `Locked the budget in Procore (project ${projectId})` });
    await em.flush();
  }

  private async fail(submissionId: string, reason: string): Promise<IngestionResult | undefined> {
    let works: RecordedWork[] = [];
    try {
      await this.em.fork().transactional(async (em) => {
        const [{ locked_by_connector: lockedByConnector }] = await em.execute<Array<{ locked_by_connector: boolean }>>(
          `select locked_by_connector from submission where id = ?`,
          [submissionId],
        );
        await this.stateMachine.transition(em, submissionId, { event: 'ingestFailed', actor: SYSTEM, note: reason, changes: { ingestError: reason } });
        if (lockedByConnector) {
          works = [await this.workQueue.record(em, JobName.UnlockBudget, { submissionId }, { dedupeKey: `unlock:${submissionId}` })];
        }
      });
    } catch (error) {
      if (error instanceof ConflictError) return undefined;
      throw error;
    }
    await this.workQueue.dispatch(this.em.fork(), works);
    return { submissionId, status: 'ingest_failed', reason };
  }
}
