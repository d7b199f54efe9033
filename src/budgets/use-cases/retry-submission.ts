import { Injectable } from '@nestjs/common';
import { Outbox } from '../../queue/outbox';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { ReconciliationGate } from '../reconciliation-gate';
import { SnapshotRepository } from '../snapshot.repository';
import { SubmissionRepository } from '../submission.repository';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';
import { DecisionCommand, submissionToDecide } from './decisions';

/**
 * Export again after a failure or a variance (→ exporting): failed rows go back to pending; from
 * out_of_sync, so do the written rows the latest reconciliation found differing or missing. With
 * nothing to write again the retry is refused (an export would change nothing in Spectrum and end
 * out of sync again, with a second round of emails), saying what can be done instead.
 */
@Injectable()
export class RetrySubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly gate: ReconciliationGate,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute({ submissionId, user }: DecisionCommand): Promise<TransitionResult> {
    return this.outbox.transaction(async () => {
      const submission = await submissionToDecide(this.submissions, submissionId);
      if (SubmissionStateMachine.allows('retry', submission.status)) {
        const failed = await this.snapshots.resetFailed(submissionId);
        if (submission.status === 'out_of_sync' && failed + (await this.snapshots.resetToRewrite(submissionId)) === 0) {
          throw new BudgetsException(BudgetsExceptionCode.NothingToRewrite, await this.gate.nothingToRewrite(submissionId), { status: submission.status });
        }
      }
      return this.stateMachine.transition(submissionId, { event: 'retry', actor: { user } });
    });
  }
}
