import { Injectable } from '@nestjs/common';
import { Actor } from '../../audit/actor';
import { Outbox } from '../../queue/outbox';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';

export interface FailIngestionCommand {
  submissionId: string;
  /** Why, in words a person can act on (shown on the submission). */
  reason: string;
  actor: Actor;
}

/**
 * Ends an `ingesting` submission `ingest_failed` with the reason; a budget the connector locked
 * itself is unlocked again (the transitions table's `unlockIfConnectorLocked`).
 */
@Injectable()
export class FailIngestion {
  constructor(
    private readonly outbox: Outbox,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute(command: FailIngestionCommand): Promise<TransitionResult> {
    return this.outbox.transaction(() =>
      this.stateMachine.transition(command.submissionId, {
        event: 'ingestFailed',
        actor: command.actor,
        note: command.reason,
        changes: { ingestError: command.reason },
      }),
    );
  }
}
