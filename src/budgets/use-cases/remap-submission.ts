import { Injectable } from '@nestjs/common';
import { AuditEventRepository } from '../../audit/audit-event.repository';
import type { User } from '../../users/user.entity';
import { BudgetSnapshot, StoredSnapshot } from '../budget-snapshot';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { SnapshotRepository } from '../snapshot.repository';
import { SubmissionRepository } from '../submission.repository';
import { REMAPPABLE_STATUSES, statusInWords, SubmissionStatus } from '../submission-status';
import { Outbox } from '../../queue/outbox';
import { notFound } from './decisions';

export interface RemapCommand {
  submissionId: string;
  user: User;
  /** The mapping in force applied to the stored snapshot (the caller owns the mapping), and its version. */
  map: (snapshot: StoredSnapshot) => { budget: BudgetSnapshot; version: string };
}

export interface RemapResult {
  id: string;
  status: SubmissionStatus;
  job: string | null;
  rowCount: number;
  problemCount: number;
  /** Rows this submission (or an earlier export of the project) wrote that the new mapping lacks: set to 0.00 by the next export. */
  removedRows: number;
  /** The mapping applied (a hash of MAPPING_FILE). */
  mappingVersion: string;
}

/**
 * Maps a submission awaiting acceptance or failed to export again, from its stored snapshot alone
 * — no Procore read, no re-send — so a fixed mapping takes effect on the next accept or retry. Rows
 * the submission already wrote to Spectrum under the old mapping that the new one lacks become
 * removed rows, set to 0.00 by the next export (docs/architecture.md, "Remap"). The status does not change;
 * the audit trail records who remapped, with which mapping, and what changed. The submission's row
 * stays locked to the end: an accept or retry of it waits for the remap, and sees its rows.
 */
@Injectable()
export class RemapSubmission {
  constructor(
    private readonly outbox: Outbox,
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly audit: AuditEventRepository,
  ) {}

  execute({ submissionId: id, user, map }: RemapCommand): Promise<RemapResult> {
    return this.outbox.transaction(async () => {
      const current = await this.submissions.statusVersion(id, { forUpdate: true });
      if (!current) throw notFound(id);
      const submission = (await this.submissions.findById(id))!;
      if (!REMAPPABLE_STATUSES.includes(current.status)) {
        throw new BudgetsException(
          BudgetsExceptionCode.NotRemappable,
          `Only a budget awaiting acceptance or failed to export can be remapped; this one is ${statusInWords(current.status)}`,
          { status: current.status },
        );
      }
      if (!submission.remappable) {
        throw new BudgetsException(
          BudgetsExceptionCode.NotRemappable,
          'This budget was stored without every mapping input (before remapping existed); send it again from Procore instead',
          { status: current.status },
        );
      }
      const { budget, version } = map((await this.snapshots.stored(id))!);
      const removed = await this.snapshots.replace(id, budget, { alsoWritten: await this.snapshots.writtenRows(id) });
      const rowCount = budget.rows.length + removed;
      await this.submissions.update(id, { job: budget.job, rowCount, problemCount: budget.problemCount });
      await this.audit.record({
        submissionId: id,
        actor: { user },
        action: 'remap',
        note:
          `Mapped again with the mapping in force (${version}): ${budget.rows.length} Spectrum row(s) (were ${submission.rowCount}), ` +
          `${budget.problemCount} problem(s) (were ${submission.problemCount})` +
          (removed ? `; ${removed} row(s) written to Spectrum before and not in this mapping will be set to 0.00 by the next export` : ''),
        data: { mappingVersion: version, rows: budget.rows.length, problems: budget.problemCount, removedRows: removed },
      });
      return { id, status: current.status, job: budget.job, rowCount, problemCount: budget.problemCount, removedRows: removed, mappingVersion: version };
    });
  }
}
