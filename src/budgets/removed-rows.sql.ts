/**
 * Removed rows (docs/architecture.md, "Policies"; the contract between the snapshot and the export): a Spectrum row
 * that an earlier export of the same project wrote and the new version of the budget lacks. The new
 * submission carries it as a row of its own, marked `removed`, with a revised estimate of 0.00: the
 * export sets Spectrum's current estimate to 0.00 (the original estimate is left as it is), the
 * ledger records it like any row, the preview shows it as `removed` with the amount it drops, and
 * reconciliation expects 0.00. So Spectrum ends with what the newest version says.
 *
 * "Wrote" means the export ledger recorded the row `written` (AddPhase succeeded, or the transfer
 * file was in place), whatever became of that submission afterwards: synced, out of sync,
 * acknowledged, or rejected after a partial export — its written rows are in Spectrum all the same.
 * Per Spectrum row (job / phase / cost type, compared trimmed and upper-cased) the latest write
 * counts: a row an earlier version already zeroed, or wrote as 0.00, has nothing left to drop.
 * Only the jobs the new version writes to are considered ("the same project and job").
 */

/**
 * Adds the removed rows to a submission whose own rows are already in place. Each gets a position
 * after the submission's rows, the description the earlier export had, revised and original
 * estimates of 0.00 (only the current estimate is sent), and `removed_estimate` = the current
 * estimate it drops. Rows the submission already has are left alone, so running it again adds
 * nothing twice. Parameters: the submission id, `alsoWritten` (rows this very submission wrote
 * before its rows were replaced — a remap — as JSON), the submission id again. Returns the ids added.
 */
export const addRemovedRowsSql = `with target as (
       select id, procore_project_id, job from submission where id = ?
     ), jobs as (
       select distinct upper(btrim(coalesce(r.job, t.job))) as job
         from submission_row r join target t on t.id = r.submission_id
        where coalesce(r.job, t.job) is not null and not r.removed
     ), written as (
       select coalesce(r.job, s.job) as job, r.phase, r.cost_type, r.description, r.revised_estimate, r.removed,
              r.written_at, s.id as submission_id, r.id as row_id
         from target t
         join submission s on s.procore_project_id = t.procore_project_id and s.id <> t.id
         join submission_row r on r.submission_id = s.id
        where r.export_state = 'written' and r.phase is not null and r.cost_type is not null and coalesce(r.job, s.job) is not null
       union all
       select e.job, e.phase, e.cost_type, e.description, e.revised_estimate, e.removed, e.written_at, t.id, 0
         from target t, jsonb_to_recordset(?::jsonb) as e(job text, phase text, cost_type text, description text,
                                                         revised_estimate numeric, removed boolean, written_at timestamptz)
     ), latest as (
       select distinct on (upper(btrim(job)), upper(btrim(phase)), upper(btrim(cost_type))) *
         from written
        order by upper(btrim(job)), upper(btrim(phase)), upper(btrim(cost_type)), written_at desc nulls last, submission_id desc, row_id desc
     ), base as (
       select coalesce(max(position) + 1, 0) as next from submission_row where submission_id = ?
     )
     insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget, revised_estimate,
                                 line_count, problems, export_state, export_attempts, removed, removed_estimate)
     select t.id, b.next + row_number() over (order by upper(btrim(l.job)), upper(btrim(l.phase)), upper(btrim(l.cost_type))) - 1,
            btrim(l.job), btrim(l.phase), btrim(l.cost_type), l.description, 0, 0, 0, '[]'::jsonb, 'pending', 0, true, l.revised_estimate
       from latest l cross join target t cross join base b
      where not l.removed and l.revised_estimate <> 0
        and upper(btrim(l.job)) in (select job from jobs)
        and not exists (
          select 1 from submission_row n
           where n.submission_id = t.id and upper(btrim(coalesce(n.job, t.job))) = upper(btrim(l.job))
             and upper(btrim(n.phase)) = upper(btrim(l.phase)) and upper(btrim(n.cost_type)) = upper(btrim(l.cost_type)))
     returning id`;
