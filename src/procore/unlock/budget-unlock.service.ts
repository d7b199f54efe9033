import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService, SYSTEM } from '../../audit/audit.service';
import { OPEN_STATUSES } from '../../budgets/submission-status';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreError } from '../client/procore-errors';
import { HeldProjectLock, ProjectLock } from '../ingestion/project-lock';

export interface UnlockResult {
  submissionId: string;
  outcome: 'unlocked' | 'already_unlocked' | 'kept_locked' | 'failed' | 'missing';
  note?: string;
}

/**
 * The UnlockBudget job (after a reject, a retrieve, a failed ingestion or an unlock): unlocks the
 * project's budget in Procore and records it on the audit trail. Transient failures are thrown so
 * the queue retries (the work stays pending in PostgreSQL until it succeeds); a permanent one is
 * recorded and ends the work. A newer open submission of the project keeps the budget locked; the
 * check and the call hold the project's lock (ProjectLock), so a newer send's ingestion never
 * looks at the budget's lock while an unlock is in flight.
 */
@Injectable()
export class BudgetUnlock {
  private readonly logger = new Logger(BudgetUnlock.name);

  constructor(
    private readonly em: EntityManager,
    private readonly client: ProcoreClient,
    private readonly audit: AuditService,
    private readonly projectLock: ProjectLock,
  ) {}

  async unlock(submissionId: string): Promise<UnlockResult> {
    const em = this.em.fork();
    const [submission] = await em.execute<Array<{ id: string; procore_project_id: string }>>(
      `select id, procore_project_id from submission where id = ?`,
      [submissionId],
    );
    if (!submission) return { submissionId, outcome: 'missing' };
    const projectId = Number(submission.procore_project_id);
    // The newer-submission check and the call, with no send's ingestion of the project in between.
    return this.projectLock.run(projectId, (held) => this.unlockHeld(em, submissionId, projectId, held));
  }

  private async unlockHeld(em: EntityManager, submissionId: string, projectId: number, held: HeldProjectLock): Promise<UnlockResult> {
    const [newer] = await em.execute<Array<{ id: string; status: string }>>(
      `select id, status from submission where procore_project_id = ? and id > ? and status in (${OPEN_STATUSES.map(() => '?').join(',')})
       order by id desc limit 1`,
      [projectId, submissionId, ...OPEN_STATUSES],
    );
    if (newer) {
      const note = `Left the budget locked in Procore: the newer submission ${newer.id} (${newer.status.replace(/_/g, ' ')}) holds it`;
      return this.record(em, submissionId, 'procore.unlock_skipped', note, { submissionId, outcome: 'kept_locked', note });
    }

    held.assertHeld();
    try {
      const change = await this.client.unlockBudget(projectId);
      const note = change.changed ? `Unlocked the budget in Procore (project ${projectId})` : `The budget was already unlocked in Procore (project ${projectId})`;
      return this.record(em, submissionId, 'procore.unlock', note, {
        submissionId,
        outcome: change.changed ? 'unlocked' : 'already_unlocked',
        note,
      });
    } catch (error) {
      if (error instanceof ProcoreError && error.transient) throw error;
      if (!(error instanceof ProcoreError)) throw error;
      const note = `Could not unlock the budget in Procore (project ${projectId}): ${error.message}`;
      this.logger.warn(`Submission ${submissionId}: ${note}`);
      return this.record(em, submissionId, 'procore.unlock_failed', note, { submissionId, outcome: 'failed', note });
    }
  }

  private async record(em: EntityManager, submissionId: string, action: string, note: string, result: UnlockResult): Promise<UnlockResult> {
    this.audit.record(em, { submissionId, actor: SYSTEM, action, note });
    await em.flush();
    return result;
  }
}
