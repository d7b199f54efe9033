import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Outbox } from '../../queue/outbox';
import { barredAsSender } from '../../users/permissions';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { SnapshotRepository } from '../snapshot.repository';
import { SubmissionRepository } from '../submission.repository';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';
import { DecisionCommand, submissionToDecide } from './decisions';

/** Separation of duties (REQUIRE_INDEPENDENT_APPROVER): the sender may reject, never accept. */
export const INDEPENDENT_APPROVER_REFUSAL =
  'You sent this budget, and this connector requires an independent approver (REQUIRE_INDEPENDENT_APPROVER): someone else with "Can Push to Accounting" must accept it. You can still reject it';

/** An approver accepts a budget without problems: it is exported to Spectrum (ready_to_export → exporting). */
@Injectable()
export class AcceptSubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly stateMachine: SubmissionStateMachine,
    private readonly config: AppConfig,
  ) {}

  execute({ submissionId, user }: DecisionCommand): Promise<TransitionResult> {
    return this.outbox.transaction(async () => {
      const submission = await submissionToDecide(this.submissions, submissionId);
      if (SubmissionStateMachine.allows('accept', submission.status)) {
        if (barredAsSender(this.config.requireIndependentApprover, user, submission.sentBy?.id)) {
          throw new BudgetsException(BudgetsExceptionCode.SenderMayNotAccept, INDEPENDENT_APPROVER_REFUSAL);
        }
        if (submission.problemCount > 0) {
          const problems = await this.snapshots.problems(submissionId);
          throw new BudgetsException(
            BudgetsExceptionCode.HasProblems,
            `This budget has ${problems.length} problem(s) and cannot be accepted: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}. Fix them in Procore and send the budget again.`,
            { problems },
          );
        }
      }
      return this.stateMachine.transition(submissionId, { event: 'accept', actor: { user }, changes: { decidedBy: user, decidedAt: new Date() } });
    });
  }
}
