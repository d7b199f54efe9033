import { Injectable } from '@nestjs/common';
import { SYSTEM } from '../../audit/actor';
import { Cents } from '../../common/money';
import { Outbox } from '../../queue/outbox';
import { ReconciliationOutcome, ReconciliationRowResult } from '../reconciliation.entity';
import { ReconciliationRepository } from '../reconciliation.repository';
import { SubmissionRepository } from '../submission.repository';
import { SubmissionStateMachine } from '../submission-state-machine';
import { RECONCILED_STATUSES, SubmissionStatus } from '../submission-status';

/** What reading Spectrum back concluded (src/reconciliation), or that it could not read it. */
export type ReconciliationFacts =
  | {
      kind: 'compared';
      outcome: ReconciliationOutcome;
      procoreRevisedTotal: Cents;
      spectrumEstimatedTotal: Cents;
      varianceCount: number;
      explanation: string;
      rows: ReconciliationRowResult[];
    }
  /** The reads kept failing (or failed for good): the explanation says why. */
  | { kind: 'unreadable'; explanation: string };

export interface RecordReconciliationCommand {
  submissionId: string;
  /** The submission's status version when Spectrum was read (SubmissionRepository.statusVersion). */
  version: string;
  companyCode: string;
  /** The jobs read, for the report. */
  job: string;
  tolerance: Cents;
  facts: ReconciliationFacts;
}

export type RecordedReconciliation =
  | { reportId: string; status: SubmissionStatus; outcome: ReconciliationOutcome; varianceCount: number }
  | { skipped: string };

/**
 * Stores a reconciliation's conclusion as a report and moves the submission on: exported → synced
 * or out_of_sync (emails), out_of_sync → synced once Spectrum matches (never out_of_sync twice).
 * A Spectrum that could not be read moves an exported budget to out_of_sync with the reason (a
 * report without rows), so it has a way out (docs/architecture.md, "Spectrum unreadable"). The status may have moved
 * while Spectrum was read (a retry, a reject, a new export, even away and back): then the read may
 * predate what Spectrum holds now, and nothing is concluded from it.
 */
@Injectable()
export class RecordReconciliation {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly reconciliations: ReconciliationRepository,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute(command: RecordReconciliationCommand): Promise<RecordedReconciliation> {
    return this.outbox.transaction(async () => {
      const current = await this.submissions.statusVersion(command.submissionId, { forUpdate: true });
      const unreadable = command.facts.kind === 'unreadable';
      const judged = unreadable ? current?.status === 'exported' : !!current && RECONCILED_STATUSES.includes(current.status);
      if (!current || current.version !== command.version || !judged) return { skipped: skippedBecause(current?.status, unreadable) };
      return unreadable ? this.unreadable(command, command.facts.explanation) : this.compared(command, current.status);
    });
  }

  private async compared(command: RecordReconciliationCommand, status: SubmissionStatus): Promise<RecordedReconciliation> {
    const facts = command.facts as Extract<ReconciliationFacts, { kind: 'compared' }>;
    const reportId = await this.reconciliations.insert({ ...this.reportBase(command), ...facts });
    const data = { reconciliationId: reportId, varianceCount: facts.varianceCount };
    const event = facts.outcome === 'synced' ? 'reconciledSynced' : facts.outcome === 'out_of_sync' && status === 'exported' ? 'reconciledOutOfSync' : null;
    if (event) status = (await this.stateMachine.transition(command.submissionId, { event, actor: SYSTEM, note: facts.explanation, data })).to;
    return { reportId, status, outcome: facts.outcome, varianceCount: facts.varianceCount };
  }

  private async unreadable(command: RecordReconciliationCommand, explanation: string): Promise<RecordedReconciliation> {
    const submission = (await this.submissions.findById(command.submissionId))!;
    const reportId = await this.reconciliations.insert({
      ...this.reportBase(command),
      outcome: 'out_of_sync',
      procoreRevisedTotal: submission.revisedEstimate,
      spectrumEstimatedTotal: 0n,
      varianceCount: 0,
      explanation,
      rows: [],
    });
    const data = { reconciliationId: reportId, unreadable: true };
    await this.stateMachine.transition(command.submissionId, { event: 'reconciledOutOfSync', actor: SYSTEM, note: explanation, data });
    return { reportId, status: 'out_of_sync', outcome: 'out_of_sync', varianceCount: 0 };
  }

  private reportBase(command: RecordReconciliationCommand) {
    return { submissionId: command.submissionId, companyCode: command.companyCode, job: command.job, tolerance: command.tolerance };
  }
}

function skippedBecause(status: SubmissionStatus | undefined, unreadable: boolean): string {
  if (unreadable) return `the submission's status changed while Spectrum was read (now ${status ?? 'gone'})`;
  return status
    ? `the submission's status changed while Spectrum was read (now ${status}); its next reconciliation judges it`
    : 'the submission was deleted while Spectrum was read';
}
