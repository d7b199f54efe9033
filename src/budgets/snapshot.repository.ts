import { Injectable } from '@nestjs/common';
import { formatMoney, toCents } from '../common/money';
import { bound, Repository } from '../database/repository';
import { BudgetSnapshot, SnapshotLine, StoredSnapshot } from './budget-snapshot';
import { addRemovedRowsSql } from './removed-rows.sql';
import { problemsSql } from './snapshot-summary.sql';
import { json, LineRecord, lineOnPage, ROW_COLUMNS, RowRecord, spectrumRow, storedLine, StoredLineRecord } from './snapshot-records';
import { RowExportError, RowExportState, SpectrumAction, SpectrumRow, WrittenRow } from './submission-row.entity';

/** Lines or rows per INSERT statement: one JSON parameter each, so no bind-parameter limit. */
const CHUNK = 5000;

/** A line as the API and the console page it. */
export type LineOnPage = Pick<SnapshotLine, 'costCode' | 'category' | 'description' | 'originalBudget' | 'budgetChanges' | 'revisedEstimate' | 'job' | 'phase' | 'costType' | 'problems' | 'notes'> & {
  procoreLineId: string | null;
};

/** One row's outcome of one AddPhase (or of a transfer file). */
export type LedgerEntry =
  | { rowId: string; outcome: 'written'; action: SpectrumAction | null; at: Date }
  | { rowId: string; outcome: 'failed'; error: RowExportError }
  /** Tried, not written (a transient failure): stays pending with the attempt counted. */
  | { rowId: string; outcome: 'attempted' };

export interface RowCounts {
  total: number;
  written: number;
  failed: number;
  pending: number;
}

/**
 * A submission's snapshot: its Procore lines (`submission_line`) and Spectrum rows
 * (`submission_row`) with the export ledger on them. Plain SQL throughout: a budget has up to tens
 * of thousands of lines, written with a few multi-row INSERTs and read a page at a time, and the
 * ledger's outcomes land in batched UPDATEs. Part of the submission aggregate (SubmissionRepository).
 */
@Injectable()
export class SnapshotRepository extends Repository {
  /**
   * Replaces a submission's lines and rows with `budget`'s, then adds its removed rows (see
   * removed-rows.sql.ts): rows an earlier export of the project wrote that this version lacks, and
   * `alsoWritten` — rows this very submission wrote before (a remap). Returns how many removed rows
   * it added. In the surrounding transaction: re-running it never duplicates.
   */
  async replace(submissionId: string, budget: BudgetSnapshot, options: { alsoWritten?: WrittenRow[] } = {}): Promise<number> {
    const em = this.tx;
    await em.execute(`delete from submission_line where submission_id = ?`, [submissionId]);
    await em.execute(`delete from submission_row where submission_id = ?`, [submissionId]);
    const rowIds = await this.insertRows(submissionId, budget);
    await this.insertLines(submissionId, budget, rowIds);
    return this.addRemovedRows(submissionId, options.alsoWritten);
  }

  /**
   * Adds the removed rows of a submission whose own rows are in place (removed-rows.sql.ts);
   * `alsoWritten`: rows this very submission wrote before its rows were replaced. Rows it already
   * has are left alone, so calling it again adds nothing twice. Returns how many it added.
   */
  async addRemovedRows(submissionId: string, alsoWritten: WrittenRow[] = []): Promise<number> {
    const own = alsoWritten.map((row) => ({
      job: row.job,
      phase: row.phase,
      cost_type: row.costType,
      description: row.description,
      revised_estimate: formatMoney(row.revisedEstimate),
      removed: row.removed,
      written_at: row.writtenAt.toISOString(),
    }));
    const inserted = await bound<{ id: string }>(this.em, addRemovedRowsSql, [submissionId, JSON.stringify(own), submissionId]);
    return inserted.length;
  }

  private async insertRows(submissionId: string, budget: BudgetSnapshot): Promise<Map<number, string>> {
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
      const inserted = await bound<{ id: string; position: number }>(
        this.tx,
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
    return rowIds;
  }

  private async insertLines(submissionId: string, budget: BudgetSnapshot, rowIds: Map<number, string>): Promise<void> {
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
      await bound(
        this.tx,
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
  }

  /** The stored snapshot with every mapping input (a remap), when the submission has one. */
  async stored(submissionId: string): Promise<StoredSnapshot | null> {
    const [facts] = await this.em.execute<Array<{ procore_project_id: string; project_name: string; project_origin_id: string | null; project_number: string | null; fingerprint: string | null }>>(
      `select procore_project_id, project_name, project_origin_id, project_number, fingerprint from submission where id = ?`,
      [submissionId],
    );
    if (!facts) return null;
    const lines = await this.em.execute<StoredLineRecord[]>(
      `select procore_line_id, cost_code_id, cost_code, category_id, category, description, original_budget::text, budget_changes::text,
              revised_estimate::text, notes, cost_code_origin_id, category_code, category_origin_id, amount_problem
       from submission_line where submission_id = ? order by position`,
      [submissionId],
    );
    return {
      procoreProjectId: String(facts.procore_project_id),
      projectName: facts.project_name,
      projectOriginId: facts.project_origin_id,
      projectNumber: facts.project_number,
      fingerprint: facts.fingerprint,
      lines: lines.map(storedLine),
    };
  }

  // ---- lines -----------------------------------------------------------------------------------

  /** One page of lines in order, with how many there are; `onlyProblems` keeps the flagged ones. */
  async lines(submissionId: string, page: number, perPage: number, options: { onlyProblems?: boolean } = {}): Promise<{ items: LineOnPage[]; total: number }> {
    const [items, total] = await Promise.all([
      this.linesOnPage(submissionId, page, perPage, options),
      this.count('submission_line', submissionId, options.onlyProblems ? FLAGGED : ''),
    ]);
    return { items, total };
  }

  /** One page of lines in order (an index scan of (submission_id, position)), without counting them. */
  async linesOnPage(submissionId: string, page: number, perPage: number, options: { onlyProblems?: boolean } = {}): Promise<LineOnPage[]> {
    const records = await this.em.execute<LineRecord[]>(
      `select procore_line_id, cost_code, category, description, original_budget::text as original_budget, budget_changes::text as budget_changes,
              revised_estimate::text as revised_estimate, job, phase, cost_type, problems, notes
         from submission_line where submission_id = ? ${options.onlyProblems ? FLAGGED : ''} order by position limit ? offset ?`,
      [submissionId, perPage, (page - 1) * perPage],
    );
    return records.map(lineOnPage);
  }

  /** How many lines, or rows, a submission's snapshot holds; null when there is no such submission. One statement. */
  async totalOf(table: 'submission_line' | 'submission_row', submissionId: string): Promise<number | null> {
    const [record] = await this.em.execute<Array<{ total: string }>>(
      `select (select count(*) from ${table} where submission_id = s.id) as total from submission s where s.id = ?`,
      [submissionId],
    );
    return record ? Number(record.total) : null;
  }

  /** Lines with notes that do not block export (an amount rounded to the cent, …). */
  noteCount(submissionId: string): Promise<number> {
    return this.count('submission_line', submissionId, 'and jsonb_array_length(notes) > 0');
  }

  /** Every reason the submission cannot be accepted, one sentence each, in line order, each once. */
  async problems(submissionId: string): Promise<string[]> {
    const found = await this.em.execute<Array<{ problem: string }>>(problemsSql('?'), [submissionId, submissionId]);
    return found.map((row) => row.problem);
  }

  // ---- rows ------------------------------------------------------------------------------------

  /** One page of rows in order, with how many there are; `failed` keeps rows Spectrum refused, `problems` flagged rows. */
  async rowPage(submissionId: string, page: number, perPage: number, only: 'failed' | 'problems' | null = null): Promise<{ items: SpectrumRow[]; total: number }> {
    const [items, total] = await Promise.all([this.rowsOnPage(submissionId, page, perPage, only), this.count('submission_row', submissionId, rowFilter(only, ''))]);
    return { items, total };
  }

  /** One page of rows in order (an index scan of (submission_id, position)), without counting them. */
  async rowsOnPage(submissionId: string, page: number, perPage: number, only: 'failed' | 'problems' | null = null): Promise<SpectrumRow[]> {
    const records = await this.em.execute<RowRecord[]>(
      `select ${ROW_COLUMNS} from submission_row r join submission s on s.id = r.submission_id
        where r.submission_id = ? ${rowFilter(only, 'r.')} order by r.position limit ? offset ?`,
      [submissionId, perPage, (page - 1) * perPage],
    );
    return records.map(spectrumRow);
  }

  /** The submission's rows in position order (`states`: only those export states). 20 000 rows in milliseconds. */
  async rows(submissionId: string, states?: RowExportState[]): Promise<SpectrumRow[]> {
    const filter = states?.length ? `and r.export_state in (${states.map(() => '?').join(', ')})` : '';
    const records = await this.em.execute<RowRecord[]>(
      `select ${ROW_COLUMNS} from submission_row r join submission s on s.id = r.submission_id
        where r.submission_id = ? ${filter} order by r.position, r.id`,
      [submissionId, ...(states ?? [])],
    );
    return records.map(spectrumRow);
  }

  /** The rows of a submission that its exports wrote (a remap reads them before it replaces the rows). */
  async writtenRows(submissionId: string): Promise<WrittenRow[]> {
    const records = await this.em.execute<Array<{ job: string; phase: string; cost_type: string; description: string; revised_estimate: string; removed: boolean; written_at: Date | string }>>(
      `select btrim(coalesce(r.job, s.job)) as job, btrim(r.phase) as phase, btrim(r.cost_type) as cost_type, r.description,
              r.revised_estimate::text as revised_estimate, r.removed, r.written_at
         from submission_row r join submission s on s.id = r.submission_id
        where r.submission_id = ? and r.export_state = 'written' and r.phase is not null and r.cost_type is not null
          and coalesce(r.job, s.job) is not null`,
      [submissionId],
    );
    return records.map((record) => ({
      job: record.job,
      phase: record.phase,
      costType: record.cost_type,
      description: record.description,
      revisedEstimate: toCents(record.revised_estimate),
      removed: record.removed,
      writtenAt: new Date(record.written_at),
    }));
  }

  /**
   * The Spectrum jobs of each submission's rows (trimmed, in order): those rows name a job (or
   * their submission does), a phase and a cost type.
   */
  async jobsOf(submissionIds: string[]): Promise<Map<string, string[]>> {
    if (!submissionIds.length) return new Map();
    const records = await this.em.execute<Array<{ submission_id: string; job: string }>>(
      `select distinct r.submission_id, btrim(coalesce(r.job, s.job)) as job
         from submission_row r join submission s on s.id = r.submission_id
        where r.submission_id in (${submissionIds.map(() => '?').join(', ')}) and r.phase is not null and r.cost_type is not null
          and btrim(coalesce(r.job, s.job, '')) <> ''
        order by 1, 2`,
      submissionIds,
    );
    const jobs = new Map<string, string[]>();
    for (const record of records) jobs.set(String(record.submission_id), [...(jobs.get(String(record.submission_id)) ?? []), record.job]);
    return jobs;
  }

  /** Rows per export state. */
  async rowCounts(submissionId: string): Promise<RowCounts> {
    const states = await this.em.execute<Array<{ export_state: string; count: string }>>(
      `select export_state, count(*) as count from submission_row where submission_id = ? group by export_state`,
      [submissionId],
    );
    const count = (state: string) => Number(states.find((s) => s.export_state === state)?.count ?? 0);
    return { total: states.reduce((sum, s) => sum + Number(s.count), 0), written: count('written'), failed: count('failed'), pending: count('pending') };
  }

  /** The first failed rows (rows blocked by others' flags last), for a message. */
  async failedRows(submissionId: string, limit: number): Promise<Array<Pick<SpectrumRow, 'phase' | 'costType' | 'exportError'>>> {
    const rows = await this.em.execute<Array<{ phase: string | null; cost_type: string | null; export_error: RowExportError | string | null }>>(
      `select phase, cost_type, export_error from submission_row
        where submission_id = ? and export_state = 'failed'
        order by (export_error->>'code') = 'blocked', position limit ?`,
      [submissionId, limit],
    );
    return rows.map((row) => ({ phase: row.phase ?? '', costType: row.cost_type ?? '', exportError: json(row.export_error) }));
  }

  // ---- the export ledger -----------------------------------------------------------------------

  /**
   * Writes a batch of export outcomes onto their rows. Only rows still `pending` change: a row
   * marked written is never changed again, however late an outcome arrives.
   */
  async recordOutcomes(batch: LedgerEntry[]): Promise<void> {
    const values: string[] = [];
    const params: unknown[] = [];
    for (const entry of batch) {
      values.push('(?, ?, ?, ?, ?)');
      if (entry.outcome === 'written') params.push(entry.rowId, 'written', null, entry.at.toISOString(), entry.action);
      else if (entry.outcome === 'failed') params.push(entry.rowId, 'failed', JSON.stringify(entry.error), null, null);
      else params.push(entry.rowId, 'pending', null, null, null);
    }
    await this.em.execute(
      `update submission_row r
          set export_state = v.state,
              export_error = case when v.state = 'pending' then r.export_error else v.error::jsonb end,
              written_at = v.written_at::timestamptz,
              spectrum_action = v.action,
              export_attempts = r.export_attempts + 1
         from (values ${values.join(', ')}) as v(id, state, error, written_at, action)
        where r.id = v.id::bigint and r.export_state = 'pending'`,
      params,
    );
  }

  /** The rows still pending fail with `error` (the queue's last attempt); returns how many. */
  async failPending(submissionId: string, error: RowExportError): Promise<void> {
    await this.em.execute(
      `update submission_row set export_state = 'failed', export_error = ?::jsonb where submission_id = ? and export_state = 'pending'`,
      [JSON.stringify(error), submissionId],
    );
  }

  /** Failed rows become pending again (a retry); returns how many. */
  async resetFailed(submissionId: string): Promise<number> {
    const result = await this.em.execute<{ affectedRows?: number; rowCount?: number }>(
      `update submission_row set export_state = 'pending', export_error = null, export_attempts = 0 where submission_id = ? and export_state = 'failed'`,
      [submissionId],
      'run',
    );
    return Number(result.affectedRows ?? result.rowCount ?? 0);
  }

  /**
   * Before a retry from out_of_sync: the rows the latest reconciliation found differing or missing
   * in Spectrum go back to `pending`, so the export writes them again (the others stay written and
   * are not sent). Returns how many rows were reset.
   */
  async resetToRewrite(submissionId: string): Promise<number> {
    const result = await this.em.execute<{ affectedRows?: number; rowCount?: number }>(
      `with latest as (
         select rows from reconciliation where submission_id = ? order by ran_at desc, id desc limit 1
       ), redo as (
         select upper(btrim(e->>'job')) as job, upper(btrim(e->>'phase')) as phase, upper(btrim(e->>'costType')) as cost_type
           from latest, jsonb_array_elements(latest.rows) as e
          where e->>'status' in ('amount_differs', 'missing_in_spectrum')
       )
       update submission_row r
          set export_state = 'pending', written_at = null, spectrum_action = null, export_error = null, export_attempts = 0
         from submission s, redo
        where s.id = r.submission_id and r.submission_id = ? and r.export_state = 'written'
          and redo.job = upper(btrim(coalesce(r.job, s.job))) and redo.phase = upper(btrim(r.phase))
          and redo.cost_type = upper(btrim(r.cost_type))`,
      [submissionId, submissionId],
      'run',
    );
    return Number(result.affectedRows ?? result.rowCount ?? 0);
  }

  private async count(table: 'submission_line' | 'submission_row', submissionId: string, filter: string): Promise<number> {
    const [{ count }] = await this.em.execute<Array<{ count: string }>>(`select count(*) as count from ${table} where submission_id = ? ${filter}`, [submissionId]);
    return Number(count);
  }
}

/** Keeps flagged lines or rows (the partial indexes `submission_line_flagged`, `submission_row_flagged`). */
const FLAGGED = 'and jsonb_array_length(problems) > 0';

function rowFilter(only: 'failed' | 'problems' | null, r: string): string {
  return only === 'failed' ? `and ${r}export_state = 'failed'` : only === 'problems' ? `and jsonb_array_length(${r}problems) > 0` : '';
}
