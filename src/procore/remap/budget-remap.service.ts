import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { SubmissionStatus } from '../../budgets/submission-status';
import { ConflictError, NotFoundError } from '../../common/app-error';
import { toCents } from '../../common/money';
import { writtenRowsOf } from '../../spectrum/removed-rows';
import { User } from '../../users/user.entity';
import { SnapshotStore } from '../ingestion/snapshot-store.service';
import { mapReadBudget, ReadBudget, ReadLine } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';

/** Statuses whose rows may be mapped again: nothing is being written to Spectrum for them. */
export const REMAPPABLE_STATUSES: readonly SubmissionStatus[] = ['ready_to_export', 'failed_to_export'];

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

interface SnapshotFacts {
  status: SubmissionStatus;
  procore_project_id: string;
  project_name: string;
  project_origin_id: string | null;
  project_number: string | null;
  fingerprint: string | null;
  remappable: boolean;
  row_count: number;
  problem_count: number;
}

interface StoredLine {
  procore_line_id: string;
  cost_code_id: string | null;
  cost_code: string;
  category_id: string | null;
  category: string;
  description: string;
  original_budget: string;
  budget_changes: string;
  revised_estimate: string;
  notes: string[];
  cost_code_origin_id: string | null;
  category_code: string | null;
  category_origin_id: string | null;
  amount_problem: string | null;
}

/**
 * Applies the mapping in force (MAPPING_FILE as now read) to a submission awaiting acceptance or
 * failed to export, from its stored snapshot alone — no Procore read, no re-send — so a fixed
 * mapping takes effect on the next accept or retry. Rows the submission already wrote to Spectrum
 * under the old mapping that the new one lacks become removed rows, set to 0.00 by the next export
 * (DECISIONS.md, "Remap"). The status does not change; the audit trail records who remapped, with
 * which mapping, and what changed.
 */
@Injectable()
export class BudgetRemap {
  constructor(
    private readonly em: EntityManager,
    private readonly mapping: MappingStore,
    private readonly store: SnapshotStore,
    private readonly audit: AuditService,
  ) {}

  async remap(id: string, user: User): Promise<RemapResult> {
    return this.em.fork().transactional(async (em) => {
      // Held to the end: an accept or retry of this submission waits for the remap, and sees its rows.
      const [facts] = await em.execute<SnapshotFacts[]>(
        `select status, procore_project_id, project_name, project_origin_id, project_number, fingerprint, remappable, row_count, problem_count
         from submission where id = ? for update`,
        [id],
      );
      if (!facts) throw new NotFoundError(`Budget submission ${id} does not exist`);
      if (!REMAPPABLE_STATUSES.includes(facts.status)) {
        throw new ConflictError(
          `Only a budget awaiting acceptance or failed to export can be remapped; this one is ${facts.status.replace(/_/g, ' ')}`,
          { status: facts.status },
        );
      }
      if (!facts.remappable) {
        throw new ConflictError('This budget was stored without every mapping input (before remapping existed); send it again from Procore instead', {
          status: facts.status,
        });
      }
      const lines = await em.execute<StoredLine[]>(
        `select procore_line_id, cost_code_id, cost_code, category_id, category, description, original_budget::text, budget_changes::text,
                revised_estimate::text, notes, cost_code_origin_id, category_code, category_origin_id, amount_problem
         from submission_line where submission_id = ? order by position`,
        [id],
      );
      const mapped = mapReadBudget(snapshotBudget(facts, lines), this.mapping.current());
      const written = await writtenRowsOf(em, id);
      const removed = await this.store.writeRows(em, id, mapped, { alsoWritten: written });
      const rowCount = mapped.rows.length + removed;
      await em.execute(`update submission set job = ?, row_count = ?, problem_count = ?, updated_at = now() where id = ?`, [
        mapped.job,
        rowCount,
        mapped.problemCount,
        id,
      ]);
      const version = this.mapping.version();
      this.audit.record(em, {
        submissionId: id,
        actor: { user },
        action: 'remap',
        note:
          `Mapped again with the mapping in force (${version}): ${mapped.rows.length} Spectrum row(s) (were ${facts.row_count}), ` +
          `${mapped.problemCount} problem(s) (were ${facts.problem_count})` +
          (removed ? `; ${removed} row(s) written to Spectrum before and not in this mapping will be set to 0.00 by the next export` : ''),
        data: { mappingVersion: version, rows: mapped.rows.length, problems: mapped.problemCount, removedRows: removed },
      });
      await em.flush();
      return { id, status: facts.status, job: mapped.job, rowCount, problemCount: mapped.problemCount, removedRows: removed, mappingVersion: version };
    });
  }
}

/** The budget as its snapshot holds it: every mapping input, read from Procore when it was sent. */
function snapshotBudget(facts: SnapshotFacts, lines: StoredLine[]): ReadBudget {
  return {
    project: { id: String(facts.procore_project_id), name: facts.project_name, originId: facts.project_origin_id, projectNumber: facts.project_number },
    lines: lines.map(
      (line): ReadLine => ({
        procoreLineId: String(line.procore_line_id),
        costCodeId: line.cost_code_id === null ? null : String(line.cost_code_id),
        fullCode: line.cost_code || null,
        description: line.description,
        costCodeOriginId: line.cost_code_origin_id,
        categoryId: line.category_id === null ? null : String(line.category_id),
        category: line.category,
        categoryType: line.category_id === null ? null : { name: line.category, code: line.category_code, originId: line.category_origin_id },
        originalBudget: toCents(line.original_budget),
        budgetChanges: toCents(line.budget_changes),
        revisedEstimate: toCents(line.revised_estimate),
        amountProblem: line.amount_problem,
        notes: line.notes ?? [],
      }),
    ),
    fingerprint: facts.fingerprint ?? '',
  };
}
