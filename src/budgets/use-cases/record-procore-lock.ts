import { Injectable } from '@nestjs/common';
import { SYSTEM } from '../../audit/actor';
import { AuditEventRepository } from '../../audit/audit-event.repository';
import { SubmissionRepository } from '../submission.repository';

export interface ProcoreLockCommand {
  submissionId: string;
  procoreProjectId: number | string;
  /**
   * `intent`: the connector is about to lock the budget itself (recorded first, so a crash cannot
   * forget that it must unlock it on failure); `locked`: Procore confirmed.
   */
  step: 'intent' | 'locked';
}

/** The connector locks a sent budget in Procore itself (src/procore/ingestion): what it did, on the record. */
@Injectable()
export class RecordProcoreLock {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly audit: AuditEventRepository,
  ) {}

  async execute(command: ProcoreLockCommand): Promise<void> {
    if (command.step === 'intent') return this.submissions.markLockedByConnector(command.submissionId);
    await this.audit.record({
      submissionId: command.submissionId,
      actor: SYSTEM,
      action: 'procore.lock',
      note: `Locked the budget in Procore (project ${command.procoreProjectId})`,
    });
  }
}
