import { Inject, Injectable, Logger } from '@nestjs/common';
import { SYSTEM } from '../../audit/actor';
import { movedOnMeanwhile } from '../../budgets/budgets.exception';
import { SubmissionRepository } from '../../budgets/submission.repository';
import { FailIngestion } from '../../budgets/use-cases/fail-ingestion';
import { RecordProcoreLock } from '../../budgets/use-cases/record-procore-lock';
import { RecordSnapshot } from '../../budgets/use-cases/record-snapshot';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../../config/runtime-options';
import { JobContext } from '../../queue/job-handler.decorator';
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

export type IngestionResult =
  | { submissionId: string; status: 'ready_to_export'; lines: number; rows: number; problems: number }
  | { submissionId: string; status: 'ingest_failed'; reason: string }
  | { submissionId: string; skipped: string };

interface SubmissionFacts {
  id: string;
  procoreProjectId: string;
  sentById: string | null;
  /** Milliseconds since the send (by the database's clock). */
  ageMs: number;
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
 * but not forever: on a queue run's final attempt, once the send is older than INGEST_GIVE_UP_AFTER_MS,
 * it ends `ingest_failed` with what kept going wrong. A spent rate limit with a known reset is the
 * exception: that work waits for the reset (see ProcoreJobs).
 */
@Injectable()
export class BudgetIngestion {
  private readonly logger = new Logger(BudgetIngestion.name);
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly client: ProcoreClient,
    private readonly reader: BudgetReader,
    private readonly users: ProcoreUserSync,
    private readonly mapping: MappingStore,
    private readonly creators: BudgetCreator,
    private readonly projectLock: ProjectLock,
    private readonly recordSnapshot: RecordSnapshot,
    private readonly failIngestion: FailIngestion,
    private readonly recordLock: RecordProcoreLock,
    private readonly scope: ProjectScope,
    @Inject(RUNTIME_OPTIONS) private readonly runtime: Pick<RuntimeOptions, 'timings'>,
  ) {}

  async ingest(submissionId: string, context: Pick<JobContext, 'finalAttempt'>): Promise<IngestionResult> {
    const found = await this.submissions.findById(submissionId);
    if (!found) return { submissionId, skipped: 'the submission does not exist' };
    if (found.status !== 'ingesting') return { submissionId, skipped: `the submission is already ${found.status}` };
    const submission: SubmissionFacts = {
      id: submissionId,
      procoreProjectId: found.procoreProjectId,
      sentById: found.sentBy?.id ?? null,
      ageMs: (await this.submissions.ageMs(submissionId)) ?? 0,
    };
    const projectId = Number(submission.procoreProjectId);
    // Sent before PROCORE_PROJECT_IDS changed: ended without asking Procore anything.
    if (!this.scope.includes(projectId)) {
      return (await this.fail(submissionId, this.scope.refusal(projectId))) ?? { submissionId, skipped: 'the submission changed meanwhile' };
    }

    try {
      // One piece of work per project at a time: an unlock in flight lands before this looks at the lock.
      return await this.projectLock.run(projectId, (held) => this.ingestHeld(submissionId, projectId, submission, held));
    } catch (error) {
      // Another run finished it meanwhile: nothing left to do.
      if (movedOnMeanwhile(error)) return { submissionId, skipped: error.message };
      let reason = describeFailure(error);
      if (isTransient(error)) {
        // A rate limit spent until a known time is waited out, however long the send has waited.
        if (error instanceof ProcoreRateLimitError || !context.finalAttempt) throw error;
        const waitedMs = submission.ageMs;
        if (waitedMs < (this.runtime.timings.ingestGiveUpAfterMs ?? INGEST_GIVE_UP_AFTER_MS)) throw error;
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
    const now = await this.submissions.statusOf(submissionId);
    if (now !== 'ingesting') return { submissionId, skipped: `the submission is already ${now ?? 'gone'}` };
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
    const creatorId = (creator && people.get(creator)) || submission.sentById;
    held.assertHeld();
    await this.recordSnapshot.execute({ submissionId, budget, viewId: read.viewId, creatorId, actor: SYSTEM });
    return { submissionId, status: 'ready_to_export', lines: budget.lines.length, rows: budget.rows.length, problems: budget.problemCount };
  }

  private map(read: BudgetRead): MappedBudget {
    return mapBudget(read.source, this.mapping.current());
  }

  /** Locks the budget unless it is; the intent is recorded first, so a crash cannot forget it. */
  private async ensureLocked(submissionId: string, projectId: number): Promise<void> {
    if (await this.reader.isLocked(projectId)) return;
    await this.recordLock.execute({ submissionId, procoreProjectId: projectId, step: 'intent' });
    await this.client.lockBudget(projectId);
    await this.recordLock.execute({ submissionId, procoreProjectId: projectId, step: 'locked' });
  }

  private async fail(submissionId: string, reason: string): Promise<IngestionResult | undefined> {
    try {
      await this.failIngestion.execute({ submissionId, reason, actor: SYSTEM });
    } catch (error) {
      if (movedOnMeanwhile(error)) return undefined;
      throw error;
    }
    return { submissionId, status: 'ingest_failed', reason };
  }
}
