import { EntityManager } from '@mikro-orm/postgresql';

/**
 * What other workflows ask of the reconciliation ledger, as plain SQL in the caller's transaction
 * (no module dependency): may the budget be unlocked, and which rows does a retry write again.
 */

/** How the explanation of a reconciliation that could not read Spectrum starts. */
export const SPECTRUM_UNREADABLE = 'Spectrum could not be read:';

/**
 * Why an unlock is refused, or null when the latest reconciliation result is synced — or was out
 * of sync and an admin acknowledged the variance after it (an acknowledged variance counts as synced).
 */
export async function unlockRefusal(em: EntityManager, submissionId: string): Promise<string | null> {
  const [latest] = await em.execute<Array<{ outcome: string; ran_at: Date }>>(
    `select outcome, ran_at from reconciliation where submission_id = ? order by ran_at desc, id desc limit 1`,
    [submissionId],
  );
  if (!latest) {
    return 'The budget can be unlocked only once a reconciliation has shown Spectrum holds the exported amounts, and none has run for it';
  }
  if (latest.outcome === 'synced') return null;
  const [entered] = await em.execute<Array<{ action: string }>>(
    `select action from audit_event
      where submission_id = ? and to_status = 'synced' and from_status is distinct from 'synced'
      order by id desc limit 1`,
    [submissionId],
  );
  if (latest.outcome === 'out_of_sync' && entered?.action === 'acknowledge') return null;
  return `The budget can be unlocked only when the latest reconciliation is synced; the latest (${new Date(latest.ran_at).toISOString()}) is ${latest.outcome.replace(/_/g, ' ')}`;
}

/**
 * Before a retry from out_of_sync: the rows the latest reconciliation found differing or missing in
 * Spectrum go back to `pending`, so the export writes them again (the others stay written and are
 * not sent). Returns how many rows were reset.
 */
export async function resetRowsToRewrite(em: EntityManager, submissionId: string): Promise<number> {
  const result = await em.execute<{ affectedRows?: number; rowCount?: number }>(
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

/**
 * Why a retry from out_of_sync would write nothing (resetRowsToRewrite found no row to write
 * again), as the 409 message: every variance of the latest reconciliation is on the Spectrum side
 * (rows the budget lacks), or Spectrum could not be read.
 */
export async function nothingToRewrite(em: EntityManager, submissionId: string): Promise<string> {
  const [latest] = await em.execute<Array<{ outcome: string; explanation: string; not_in_budget: string | number }>>(
    `select outcome, explanation,
            (select count(*) from jsonb_array_elements(rows) as e where e->>'status' = 'not_in_budget') as not_in_budget
       from reconciliation where submission_id = ? order by ran_at desc, id desc limit 1`,
    [submissionId],
  );
  const base = 'Retrying would write nothing: every row of this budget is already written to Spectrum as exported';
  if (!latest) return `${base}. Reject the budget, or have an admin acknowledge the variance.`;
  if (latest.explanation.startsWith(SPECTRUM_UNREADABLE)) {
    return `${base}, and the latest reconciliation could not read Spectrum (${latest.explanation}). Reconciliation reads Spectrum again on its schedule; an admin may acknowledge the variance with a reason.`;
  }
  const extra = Number(latest.not_in_budget);
  const why = extra
    ? `; the variance is ${extra} Spectrum row(s) that carry an estimate but are not in this budget, which an export does not touch`
    : '';
  return `${base}${why}. Reject the budget and send a corrected one, or have an admin acknowledge the variance.`;
}
