import { Injectable, Logger } from '@nestjs/common';
import { SubmissionRepository } from '../../budgets/submission.repository';
import { statusInWords } from '../../budgets/submission-status';
import { ProcoreUnlockOutcome, RecordProcoreUnlock } from '../../budgets/use-cases/record-procore-unlock';
import { HeldProjectLock, ProjectLock } from '../ingestion/project-lock';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreError } from '../client/procore-errors';

export interface UnlockResult {
  submissionId: string;
  outcome: ProcoreUnlockOutcome | 'missing';
  note?: string;
}

/**
 * The UnlockBudget job (after a reject, a retrieve, a failed ingestion or an unlock): unlocks the
 * project's budget in Procore and records it on the audit trail (RecordProcoreUnlock). Transient
 * failures are thrown so the queue retries (the work stays pending in PostgreSQL until it
 * succeeds); a permanent one is recorded and ends the work. A newer open submission of the
 * project keeps the budget locked; the check and the call hold the project's lock (ProjectLock),
 * so a newer send's ingestion never looks at the budget's lock while an unlock is in flight.
 */
@Injectable()
export class BudgetUnlock {
  private readonly logger = new Logger(BudgetUnlock.name);

  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly client: ProcoreClient,
    private readonly projectLock: ProjectLock,
    private readonly recordUnlock: RecordProcoreUnlock,
  ) {}

  async unlock(submissionId: string): Promise<UnlockResult> {
    const submission = await this.submissions.findById(submissionId);
    if (!submission) return { submissionId, outcome: 'missing' };
    const projectId = Number(submission.procoreProjectId);
    // The newer-submission check and the call, with no send's ingestion of the project in between.
    return this.projectLock.run(projectId, (held) => this.unlockHeld(submissionId, projectId, held));
  }

  private async unlockHeld(submissionId: string, projectId: number, held: HeldProjectLock): Promise<UnlockResult> {
    const newer = await this.submissions.newerOpen(String(projectId), submissionId);
    if (newer) {
      const note = `Left the budget locked in Procore: the newer submission ${newer.id} (${statusInWords(newer.status)}) holds it`;
      return this.record({ submissionId, outcome: 'kept_locked', note });
    }

    held.assertHeld();
    try {
      const change = await this.client.unlockBudget(projectId);
      const note = change.changed ? `Unlocked the budget in Procore (project ${projectId})` : `The budget was already unlocked in Procore (project ${projectId})`;
      return this.record({ submissionId, outcome: change.changed ? 'unlocked' : 'already_unlocked', note });
    } catch (error) {
      if (!(error instanceof ProcoreError) || error.transient) throw error;
      const note = `Could not unlock the budget in Procore (project ${projectId}): ${error.message}`;
      this.logger.warn(`Submission ${submissionId}: ${note}`);
      return this.record({ submissionId, outcome: 'failed', note });
    }
  }

  private async record(result: UnlockResult & { outcome: ProcoreUnlockOutcome; note: string }): Promise<UnlockResult> {
    await this.recordUnlock.execute(result);
    return result;
  }
}
