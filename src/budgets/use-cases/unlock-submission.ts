import { Injectable } from '@nestjs/common';
import { Outbox } from '../../queue/outbox';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { ReconciliationGate } from '../reconciliation-gate';
import { SubmissionRepository } from '../submission.repository';
import { SubmissionStateMachine } from '../submission-state-machine';
import { statusInWords } from '../submission-status';
import { DecisionCommand, submissionToDecide } from './decisions';

export interface UnlockRequested {
  status: 'synced';
  unlockRequestedAt: string;
}

/**
 * Unlocks the budget in Procore, once Spectrum shows the exported amounts: the `unlock` event on a
 * synced submission (it stays synced, `unlocked_at`/`unlocked_by` set, audited, once), which
 * causes the UnlockBudget job.
 */
@Injectable()
export class UnlockSubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly gate: ReconciliationGate,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute({ submissionId, user }: DecisionCommand): Promise<UnlockRequested> {
    const now = new Date();
    return this.outbox.transaction(async () => {
      const submission = await submissionToDecide(this.submissions, submissionId);
      if (submission.status !== 'synced') {
        throw new BudgetsException(
          BudgetsExceptionCode.UnlockRefused,
          `The budget can be unlocked only once Spectrum shows the exported amounts (status synced); it is ${statusInWords(submission.status)}`,
          { status: submission.status },
        );
      }
      const refusal = await this.gate.unlockRefusal(submissionId);
      if (refusal) throw new BudgetsException(BudgetsExceptionCode.UnlockRefused, refusal, { status: submission.status });
      await this.stateMachine.transition(submissionId, {
        event: 'unlock',
        actor: { user },
        changes: { unlockedAt: now, unlockedBy: user },
        guard: { notUnlocked: true },
      });
      return { status: 'synced', unlockRequestedAt: now.toISOString() };
    });
  }
}
