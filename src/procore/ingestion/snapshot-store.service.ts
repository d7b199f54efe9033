import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor } from '../../audit/audit.service';
import { SubmissionStateMachine } from '../../budgets/submission-state-machine';
import { formatMoney } from '../../common/money';
import { Notifier } from '../../notifications/notifier';
import { RecordedWork } from '../../queue/work-queue.service';
import { addRemovedRows, WrittenRow } from '../../spectrum/removed-rows';
import { MappedBudget } from '../mapping/budget-mapping';

/** Lines or rows per INSERT statement: one JSON parameter each, so no bind-parameter limit. */
const CHUNK = 5000;

export interface SnapshotDetails {
  viewId: number;
  /** Connector user who created the budget in Procore (or the sender when unknown). */
  creatorId: string | null;
  actor: Actor;
}

/**
 * Writes a budget snapshot into an `ingesting` submission and moves it to `ready_to_export`, in the
 * caller's transaction. Lines and rows go in with a few multi-row INSERTs (jsonb_to_recordset), and
 * whatever an earlier, interrupted run left is replaced, so running it again never duplicates.
 */
@Injectable()
export class SnapshotStore {
  constructor(
    private readonly stateMachine: SubmissionStateMachine,
    private readonly notifier: Notifier,
  ) {}

  /** Returns the work to dispatch after commit (re-sent emails). */
  async complete(em: EntityManager, submissionId: string, budget: MappedBudget, details: SnapshotDetails): Promise<RecordedWork[]> {
    if (!em.isInTransaction()) throw new Error('SnapshotStore.complete must run inside a transaction');
    // Rows an earlier export of this project wrote and this version lacks: zeroed by the export.
    const removed = await this.writeRows(em, submissionId, budget);

    const transition = await this.stateMachine.transition(em, submissionId, {
      event: 'ingested',
      actor: details.actor,
      note:
        `${budget.lines.length} line(s) in ${budget.rows.length} Spectrum row(s)` +
        (removed ? `; ${removed} row(s) an earlier export wrote are not in this version and will be set to 0.00` : '') +
        (budget.problemCount ? `; ${budget.problemCount} problem(s) to fix in Procore before it can be accepted` : ''),
      changes: {
        projectName: budget.projectName,
        job: budget.job,
        budgetViewId: String(details.viewId),
        originalBudget: budget.totals.originalBudget,
        budgetChanges: budget.totals.budgetChanges,
        revisedEstimate: budget.totals.revisedEstimate,
        lineCount: budget.lines.length,
        rowCount: budget.rows.length + removed,
        problemCount: budget.problemCount,
        fingerprint: budget.fingerprint,
        createdBy: details.creatorId,
        ingestError: null,
        projectOriginId: budget.projectOriginId ?? null,
        projectNumber: budget.projectNumber ?? null,
        // Every mapping input is in the snapshot only when the budget was read from Procore as such.
        remappable: budget.projectOriginId !== undefined && budget.lines.every((line) => line.categoryCode !== undefined),
      },
    });

    // A project whose last submission was rejected or retrieved is being sent again: tell approvers.
    const [previous] = await em.execute<Array<{ status: string }>>(
      `select status from submission
       where procore_project_id = (select procore_project_id from submission where id = ?) and id < ? and status <> 'ingest_failed'
       order by id desc limit 1`,
      [submissionId, submissionId],
    );
    if (previous && (previous.status === 'rejected' || previous.status === 'retrieved')) {
      return this.notifier.resent(em, submissionId, transition.auditEventId);
    }
    return [];
  }

  /**
   * Replaces a submission's lines and rows with `budget`'s, then adds its removed rows: rows an
   * earlier export of the project wrote that this version lacks, and `alsoWritten` — rows this very
   * submission wrote before (a remap). Returns how many removed rows it added. In the caller's
   * transaction; the submission's status is the caller's business.
   */
  async writeRows(em: EntityManager, submissionId: string, budget: MappedBudget, options: { alsoWritten?: WrittenRow[] } = {}): Promise<number> {
    if (!em.isInTransaction()) throw new Error('SnapshotStore.writeRows must run inside a transaction');
    await em.execute(`delete from submission_line where submission_id = ?`, [submissionId]);
    await em.execute(`delete from submission_row where submission_id = ?`, [submissionId]);

    const rowIds = new Map<number, string>();
    for (let start = 0; start < budget.rows.length; start += CHUNK) {
      const chunk = budget.rows.slice(start, start + CHUNK).map((row) => ({
        position: row.position,
        job: row.job,
        phase: row.phase,
        cost_type: row.costType,
        description: row.description,
        original_budget: formatMoney(row.originalBudget),
        revised_estimate: formatMoney(row.revisedEstimate),
        line_count: row.lineCount,
        problems: row.problems,
      }));
      const inserted = await bulk<{ id: string; position: number }>(
        em,
        `insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget, revised_estimate,
                                     line_count, problems, export_state, export_attempts)
         select ?, r.position, r.job, r.phase, r.cost_type, r.description, r.original_budget, r.revised_estimate,
                r.line_count, r.problems, 'pending', 0
         from jsonb_to_recordset(?::jsonb) as r(position int, job text, phase text, cost_type text, description text,
                                                 original_budget numeric, revised_estimate numeric, line_count int, problems jsonb)
         returning id, position`,
        [submissionId, JSON.stringify(chunk)],
      );
      for (const row of inserted) rowIds.set(Number(row.position), String(row.id));
    }

    for (let start = 0; start < budget.lines.length; start += CHUNK) {
      const chunk = budget.lines.slice(start, start + CHUNK).map((line) => ({
        position: line.position,
        procore_line_id: line.procoreLineId,
        cost_code_id: line.costCodeId,
        cost_code: line.costCode,
        category_id: line.categoryId,
        category: line.category,
        description: line.description,
        original_budget: formatMoney(line.originalBudget),
        budget_changes: formatMoney(line.budgetChanges),
        revised_estimate: formatMoney(line.revisedEstimate),
        job: line.job,
        phase: line.phase,
        cost_type: line.costType,
        row_id: line.rowPosition === null ? null : rowIds.get(line.rowPosition),
        problems: line.problems,
        notes: line.notes,
        cost_code_origin_id: line.costCodeOriginId ?? null,
        category_code: line.categoryCode ?? null,
        category_origin_id: line.categoryOriginId ?? null,
        amount_problem: line.amountProblem ?? null,
      }));
      await bulk(
        em,
        `insert into submission_line (submission_id, position, procore_line_id, cost_code_id, cost_code, category_id, category, description,
                                      original_budget, budget_changes, revised_estimate, job, phase, cost_type, row_id, problems, notes,
                                      cost_code_origin_id, category_code, category_origin_id, amount_problem)
         select ?, l.position, l.procore_line_id, l.cost_code_id, l.cost_code, l.category_id, l.category, l.description,
                l.original_budget, l.budget_changes, l.revised_estimate, l.job, l.phase, l.cost_type, l.row_id, l.problems, l.notes,
                l.cost_code_origin_id, l.category_code, l.category_origin_id, l.amount_problem
         from jsonb_to_recordset(?::jsonb) as l(position int, procore_line_id bigint, cost_code_id bigint, cost_code text, category_id bigint,
                                                 category text, description text, original_budget numeric, budget_changes numeric,
                                                 revised_estimate numeric, job text, phase text, cost_type text, row_id bigint,
                                                 problems jsonb, notes jsonb, cost_code_origin_id text, category_code text,
                                                 category_origin_id text, amount_problem text)`,
        [submissionId, JSON.stringify(chunk)],
      );
    }

    return addRemovedRows(em, submissionId, { alsoWritten: options.alsoWritten });
  }
}

/**
 * Runs a statement with real bind parameters on the transaction's connection. (`em.execute` inlines
 * parameters into the SQL text, which for a megabyte of JSON costs seconds and hundreds of MB.)
 */
async function bulk<T>(em: EntityManager, sql: string, bindings: unknown[]): Promise<T[]> {
  const query = em.getKnex().raw(sql, bindings as never[]);
  const transaction = em.getTransactionContext();
  if (transaction) query.transacting(transaction);
  const result = (await query) as { rows: T[] };
  return result.rows;
}
