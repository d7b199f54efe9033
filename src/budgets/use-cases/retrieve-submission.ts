import { Injectable } from '@nestjs/common';
import { Outbox } from '../../queue/outbox';
import { mayRetrieve, RETRIEVE_REFUSAL } from '../../users/permissions';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { SubmissionRepository } from '../submission.repository';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';
import { DecisionCommand, submissionToDecide } from './decisions';

/** The sender (or an admin) takes the budget back before anyone responded: it is unlocked in Procore. */
@Injectable()
export class RetrieveSubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute({ submissionId, user }: DecisionCommand): Promise<TransitionResult> {
    return this.outbox.transaction(async () => {
      const submission = await submissionToDecide(this.submissions, submissionId);
      if (SubmissionStateMachine.allows('retrieve', submission.status) && !mayRetrieve(user, submission.sentBy?.id)) {
        throw new BudgetsException(BudgetsExceptionCode.MayNotRetrieve, RETRIEVE_REFUSAL);
      }
      return this.stateMachine.transition(submissionId, { event: 'retrieve', actor: { user } });
    });
  }
}
