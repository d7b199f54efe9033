import { Injectable } from '@nestjs/common';
import { SYSTEM } from '../../audit/actor';
import { AuditEventRepository } from '../../audit/audit-event.repository';

export type ProcoreUnlockOutcome = 'unlocked' | 'already_unlocked' | 'kept_locked' | 'failed';

export interface ProcoreUnlockCommand {
  submissionId: string;
  outcome: ProcoreUnlockOutcome;
  /** What happened, in words. */
  note: string;
}

const ACTIONS: Record<ProcoreUnlockOutcome, string> = {
  unlocked: 'procore.unlock',
  already_unlocked: 'procore.unlock',
  kept_locked: 'procore.unlock_skipped',
  failed: 'procore.unlock_failed',
};

/** What the UnlockBudget job did in Procore (src/procore/unlock), on the submission's record. */
@Injectable()
export class RecordProcoreUnlock {
  constructor(private readonly audit: AuditEventRepository) {}

  async execute(command: ProcoreUnlockCommand): Promise<void> {
    await this.audit.record({ submissionId: command.submissionId, actor: SYSTEM, action: ACTIONS[command.outcome], note: command.note });
  }
}
