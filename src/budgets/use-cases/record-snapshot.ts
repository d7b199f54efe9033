import { Injectable } from '@nestjs/common';
import { Actor } from '../../audit/actor';
import { Outbox } from '../../queue/outbox';
import { BudgetSnapshot } from '../budget-snapshot';
import { SnapshotRepository } from '../snapshot.repository';
import { SubmissionStateMachine, TransitionResult } from '../submission-state-machine';

export interface SnapshotCommand {
  submissionId: string;
  budget: BudgetSnapshot;
  /** The Procore budget view it was read from. */
  viewId: number;
  /** Connector user who created the budget in Procore (or the sender when unknown). */
  creatorId: string | null;
  actor: Actor;
}

/**
 * Stores a budget read from Procore in an `ingesting` submission and moves it to
 * `ready_to_export`. Lines and rows go in with a few multi-row INSERTs, and whatever an earlier,
 * interrupted run left is replaced, so running it again never duplicates. Rows an earlier export
 * of the project wrote that this version lacks are added as removed rows (zeroed by the export).
 */
@Injectable()
export class RecordSnapshot {
  constructor(
    private readonly outbox: Outbox,
    private readonly snapshots: SnapshotRepository,
    private readonly stateMachine: SubmissionStateMachine,
  ) {}

  execute(command: SnapshotCommand): Promise<TransitionResult> {
    return this.outbox.transaction(async () => {
      const { submissionId, budget } = command;
      const removed = await this.snapshots.replace(submissionId, budget);
      return this.stateMachine.transition(submissionId, {
        event: 'ingested',
        actor: command.actor,
        note:
          `${budget.lines.length} line(s) in ${budget.rows.length} Spectrum row(s)` +
          (removed ? `; ${removed} row(s) an earlier export wrote are not in this version and will be set to 0.00` : '') +
          (budget.problemCount ? `; ${budget.problemCount} problem(s) to fix in Procore before it can be accepted` : ''),
        changes: {
          projectName: budget.projectName,
          job: budget.job,
          budgetViewId: String(command.viewId),
          originalBudget: budget.totals.originalBudget,
          budgetChanges: budget.totals.budgetChanges,
          revisedEstimate: budget.totals.revisedEstimate,
          lineCount: budget.lines.length,
          rowCount: budget.rows.length + removed,
          problemCount: budget.problemCount,
          fingerprint: budget.fingerprint,
          createdBy: command.creatorId,
          ingestError: null,
          projectOriginId: budget.projectOriginId ?? null,
          projectNumber: budget.projectNumber ?? null,
          // Every mapping input is in the snapshot only when the budget was read from Procore as such.
          remappable: budget.projectOriginId !== undefined && budget.lines.every((line) => line.categoryCode !== undefined),
        },
      });
    });
  }
}
