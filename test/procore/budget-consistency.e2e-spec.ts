import { BudgetCheck } from '../../src/procore/ingestion/budget-check.service';
import { resetDatabase, sql } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp, withTimings } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, seedSampleProject } from '../stand-ins/procore';
import { useProcoreApp, waitForIdle, waitForIngestion, WEBHOOK_SECRET } from './procore-test-kit';
import { waitFor } from '../support/wait';

/**
 * Issue 9, items 2, 3 and 7: one project's budget checks, sends and unlocks never interleave, and a
 * budget changed while it is read is never stored mixed.
 */
describe('one project at a time, and budgets changed while read', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let sender: UserWithToken;
  let approver: UserWithToken;

  useProcoreApp(standIn, { PROCORE_PER_PAGE: '10' }, (app) => (t = app));
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    sender = await createUser(t.em(), { erpPermission: 'standard' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });
  afterEach(() => standIn.clearFaults());

  const budgetPath = new RegExp(`/projects/${SAMPLE_PROJECT_ID}/budget$`);
  /** Resolves once `count` requests matching `path` have arrived at the stand-in (answered or not). */
  const arrived = (path: string | RegExp, count: number, method = 'GET') =>
    waitFor(async () => standIn.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path.includes(path) : path.test(r.path))).length >= count, `request ${count} to ${path}`);
  const send = () => api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(SAMPLE_PROJECT_ID) });
  const firstLine = () => standIn.budgetLines(SAMPLE_PROJECT_ID)[0];
  const snapshotOf = async (status: string) =>
    sql(`select l.procore_line_id, l.original_budget::text as original from submission s join submission_line l on l.submission_id = s.id where s.status = $1 order by l.position`, [status]);

  it('an older read never supersedes a newer one: checks of one project wait for each other, and the newest read wins (9.2)', async () => {
    const line = firstLine();
    standIn.updateBudgetLine(line.id, { originalBudget: '111.11' });
    // Check A reads 111.11 through, then is held at its last look at the budget's lock.
    standIn.delayNext(1, 3000, { path: budgetPath, skip: 1 });
    const check = t.get(BudgetCheck);
    const trigger = (note: string) => ({ source: 'webhook' as const, actor: { label: 'procore' }, note });
    const a = check.check(SAMPLE_PROJECT_ID, trigger('check A'));
    await arrived(budgetPath, 2);
    // The line changes; check B runs meanwhile.
    standIn.updateBudgetLine(line.id, { originalBudget: '222.22' });
    const b = check.check(SAMPLE_PROJECT_ID, trigger('check B'));
    const [resultA, resultB] = await Promise.all([a, b]);
    expect(resultA.outcome).toMatch(/^started submission/);
    expect(resultB.outcome).toMatch(/^started submission/);
    const ready = await snapshotOf('ready_to_export');
    expect(ready[0]).toEqual({ procore_line_id: String(line.id), original: '222.22' });
    expect(await sql(`select status from submission order by id`)).toEqual([{ status: 'superseded' }, { status: 'ready_to_export' }]);
  });

  it('a send while the unlock after a reject is in flight: the unlock lands first, then the send locks the budget again (9.3)', async () => {
    const first = await send();
    expect(await waitForIngestion(first.body.id)).toMatchObject({ status: 'ready_to_export', locked_by_connector: false });
    standIn.delayNext(1, 3000, { method: 'DELETE', path: '/budget/lock' });
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${first.body.id}/reject`, { reason: 'Phase 03-300 is double counted' })).status).toBe(200);
    await arrived('/budget/lock', 1, 'DELETE');

    const second = await send();
    expect(second.status).toBe(202);
    expect(await waitForIngestion(second.body.id, 20_000)).toMatchObject({ status: 'ready_to_export', locked_by_connector: true });
    await waitForIdle();
    // The open submission's budget is locked in Procore.
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    const unlock = standIn.requests.find((r) => r.method === 'DELETE' && r.path.endsWith('/budget/lock'))!;
    const lock = standIn.requests.find((r) => r.method === 'POST' && r.path.endsWith('/budget/lock'))!;
    expect(lock.at).toBeGreaterThanOrEqual(unlock.at + unlock.durationMs);
    expect((await sql(`select action from audit_event where submission_id = $1 order by id`, [first.body.id])).map((e) => e.action)).toContain('procore.unlock');
  });

  it('an unlock finding a newer open submission leaves the budget locked', async () => {
    const first = await send();
    await waitForIngestion(first.body.id);
    // The unlock waits for the project while a check holds it; a new send's submission exists by then.
    standIn.delayNext(1, 1500, { path: budgetPath });
    const check = t.get(BudgetCheck).check(SAMPLE_PROJECT_ID, { source: 'poll', actor: { label: 'system' }, note: 'poll' });
    await arrived(budgetPath, 1);
    await api(t.url, approver.token).post(`/api/v1/budgets/${first.body.id}/reject`, { reason: 'Redo the concrete' });
    const second = await send();
    await check;
    await waitForIngestion(second.body.id);
    await waitForIdle();
    expect(standIn.countRequests({ method: 'DELETE', path: '/budget/lock' })).toBe(0);
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    const [skipped] = await sql(`select note from audit_event where submission_id = $1 and action = 'procore.unlock_skipped'`, [first.body.id]);
    // Whichever got the project first, the unlock or the send's ingestion, the newer submission was open.
    expect(skipped.note).toMatch(new RegExp(`^Left the budget locked in Procore: the newer submission ${second.body.id} \\((ingesting|ready to export)\\) holds it$`));
  });

  /**
   * Holds the first page of the second detail-row read (the read that confirms the budget did not
   * change) and unlocks the budget in Procore while it is held, as someone in Procore might.
   */
  const unlockDuringSecondRead = async () => {
    const pages = Math.ceil(standIn.budgetLines(SAMPLE_PROJECT_ID).length / 10);
    expect(pages).toBeGreaterThan(1);
    standIn.delayNext(1, 1500, { path: 'detail_rows', skip: pages });
    await arrived('detail_rows', pages + 1);
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    standIn.setLocked(SAMPLE_PROJECT_ID, false);
    return { pages, unlockedAt: Date.now() };
  };

  it('a send whose budget is unlocked in Procore while it is read: locked again and read again, ready_to_export with the budget locked (9.3)', async () => {
    const res = await send();
    expect(res.status).toBe(202);
    const { pages, unlockedAt } = await unlockDuringSecondRead();
    const row = await waitForIngestion(res.body.id, 20_000);
    // Not stored from the read the unlock happened under: the budget was locked by the connector and read again.
    expect(row).toMatchObject({ status: 'ready_to_export', locked_by_connector: true });
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    const locks = standIn.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/budget/lock'));
    expect(locks).toHaveLength(1);
    expect(locks[0].at).toBeGreaterThanOrEqual(unlockedAt);
    expect(standIn.countRequests({ method: 'GET', path: 'detail_rows' })).toBeGreaterThanOrEqual(4 * pages);
    await waitForIdle();
    const [work] = await sql(`select state, attempts from pending_work where job_name = 'ingest-submission'`);
    expect(work.state).toBe('done');
    expect(Number(work.attempts)).toBeGreaterThanOrEqual(2);
  });

  it('a webhook check whose budget is unlocked in Procore while it is read creates nothing and records why (9.3)', async () => {
    standIn.addHook({ namespace: 'connector', destinationUrl: `${t.url}/webhooks/procore`, destinationHeaders: { Authorization: WEBHOOK_SECRET }, projectId: SAMPLE_PROJECT_ID });
    const delivered = standIn.deliverWebhook({ project_id: SAMPLE_PROJECT_ID, resource_name: 'Budget View Snapshots', event_type: 'create' });
    expect(await delivered).toEqual([202]);
    await unlockDuringSecondRead();
    const [event] = await waitFor(async () => {
      const rows = await sql(`select status, outcome from webhook_event where processed_at is not null`);
      return rows.length ? rows : undefined;
    }, 'the webhook to be processed');
    expect(event).toEqual({ status: 'processed', outcome: 'the budget was unlocked in Procore while it was read; nothing created' });
    expect(await sql(`select id from submission`)).toEqual([]);
    // The connector did not lock it, so it does not lock it again either.
    expect(standIn.countRequests({ method: 'POST', path: '/budget/lock' })).toBe(0);
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(false);
  });

  it('a line deleted on page 1 and one added elsewhere while the pages are read: retried, stored as Procore has it, never mixed (9.7)', async () => {
    const before = standIn.budgetLines(SAMPLE_PROJECT_ID);
    // Page 2 of the first read is held; meanwhile a line of page 1 goes and another comes at the end.
    standIn.delayNext(1, 1500, { path: 'detail_rows', skip: 1 });
    const res = await send();
    await arrived('detail_rows', 2);
    standIn.removeBudgetLine(before[0].id);
    standIn.addBudgetLines(SAMPLE_PROJECT_ID, [{ costCode: '33-100', costCodeName: 'Utilities', category: 'L', originalBudget: before[0].original_budget_amount }]);
    const row = await waitForIngestion(res.body.id, 20_000);
    expect(row).toMatchObject({ status: 'ready_to_export', line_count: 38 });
    const stored = (await sql<{ procore_line_id: string }>(`select procore_line_id from submission_line where submission_id = $1`, [res.body.id])).map((l) => l.procore_line_id).sort();
    expect(stored).toEqual(standIn.budgetLines(SAMPLE_PROJECT_ID).map((l) => String(l.id)).sort());
    await waitForIdle(); // the job's work is marked done just after the submission's commit
    const [work] = await sql(`select state, attempts from pending_work where job_name = 'ingest-submission'`);
    expect(work.state).toBe('done');
    expect(Number(work.attempts)).toBeGreaterThanOrEqual(2);
  });

  it('a budget that keeps changing while it is read ends ingest_failed once the give-up age is reached, saying so', async () => {
    const line = firstLine();
    let cents = 100_000;
    const editor = setInterval(() => standIn.updateBudgetLine(line.id, { originalBudget: ((cents += 1) / 100).toFixed(2) }), 1);
    try {
      await withTimings(t, { ingestGiveUpAfterMs: 0 }, async () => {
        const res = await send();
        const row = await waitForIngestion(res.body.id, 30_000);
        expect(row.status).toBe('ingest_failed');
        expect(row.ingest_error).toMatch(/^The budget kept changing while it was read, for \d+ seconds after it was sent; send it again once nobody is editing it$/);
        expect(await sql(`select count(*)::int as lines from submission_line`)).toEqual([{ lines: 0 }]);
      });
    } finally {
      clearInterval(editor);
    }
  });
});
