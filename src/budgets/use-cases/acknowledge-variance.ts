import { Injectable } from '@nestjs/common';
import { Outbox } from '../../queue/outbox';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';
import { ReasonedDecisionCommand } from './decisions';

/** An admin accepts the listed variance of an out-of-sync budget, with a reason (out_of_sync → synced). */
@Injectable()
export class AcknowledgeVariance {
  constructor(
    private readonly outbox: Outbox,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute({ submissionId, user, reason }: ReasonedDecisionCommand): Promise<TransitionResult> {
    return this.outbox.transaction(() => this.stateMachine.transition(submissionId, { event: 'acknowledge', actor: { user }, note: reason }));
  }
}
