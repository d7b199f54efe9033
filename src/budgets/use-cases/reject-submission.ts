import { Injectable } from '@nestjs/common';
import { Outbox } from '../../queue/outbox';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';
import { ReasonedDecisionCommand } from './decisions';

/** An approver rejects a budget with a reason: it is unlocked in Procore and its creator and sender are told why. */
@Injectable()
export class RejectSubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute({ submissionId, user, reason }: ReasonedDecisionCommand): Promise<TransitionResult> {
    return this.outbox.transaction(() =>
      this.stateMachine.transition(submissionId, {
        event: 'reject',
        actor: { user },
        changes: { decidedBy: user, decidedAt: new Date(), rejectionReason: reason },
        note: reason,
      }),
    );
  }
}
