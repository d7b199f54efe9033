import { Injectable } from '@nestjs/common';
import { SYSTEM } from '../../audit/actor';
import { Outbox } from '../../queue/outbox';
import { SnapshotRepository } from '../snapshot.repository';
import { RowExportError } from '../submission-row.entity';
import { SubmissionStateMachine } from '../submission-state-machine';

export interface ExportOutcomeCommand {
  submissionId: string;
  /** One line each for the audit note (transfer files written, …). */
  notes: string[];
  /** The queue's last attempt: rows still pending fail with this error first. */
  giveUp?: RowExportError;
}

export type ExportOutcome =
  | { status: 'exported' | 'failed_to_export'; written: number; failed: number }
  /** Rows are still pending: nothing concluded (the writers never leave this; the queue tries again). */
  | { pending: number };

/**
 * Concludes an export run from its ledger: every row written → `exported` (its reconciliation is
 * queued); any row failed → `failed_to_export` (approvers and the sender are emailed). The export
 * itself (src/spectrum) writes the ledger and calls this once per run.
 */
@Injectable()
export class RecordExportOutcome {
  constructor(
    private readonly outbox: Outbox,
    private readonly snapshots: SnapshotRepository,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute(command: ExportOutcomeCommand): Promise<ExportOutcome> {
    const { submissionId } = command;
    return this.outbox.transaction(async () => {
      if (command.giveUp) await this.snapshots.failPending(submissionId, command.giveUp);
      const { written, failed, pending } = await this.snapshots.rowCounts(submissionId);
      if (pending > 0) return { pending };
      if (failed > 0) {
        const note = await this.failureNote(submissionId, written, failed);
        await this.stateMachine.transition(submissionId, { event: 'exportFailed', actor: SYSTEM, note, data: { written, failed } });
        return { status: 'failed_to_export', written, failed };
      }
      await this.stateMachine.transition(submissionId, {
        event: 'exported',
        actor: SYSTEM,
        changes: { exportedAt: new Date() },
        note: [`${written} row(s) written to Spectrum`, ...command.notes].join('; '),
        data: { written },
      });
      return { status: 'exported', written, failed };
    });
  }

  private async failureNote(submissionId: string, written: number, failed: number): Promise<string> {
    const examples = await this.snapshots.failedRows(submissionId, 3);
    const described = examples.map((row) => {
      const error = row.exportError;
      const column = error?.column ? ` [${error.column}]` : '';
      return `${row.phase || '?'}/${row.costType || '?'}: ${error?.code ?? ''} ${error?.message ?? 'no detail'}${column}`;
    });
    return `${failed} of ${written + failed} row(s) not written to Spectrum: ${described.join('; ')}${failed > described.length ? '; …' : ''}`;
  }
}
