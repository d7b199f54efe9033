import { sql, resetDatabase } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp, withTimings } from '../support/test-app';
import { BudgetIngestion } from '../../src/procore/ingestion/budget-ingestion.service';
import type { Counter } from 'prom-client';
import { MetricsService } from '../../src/observability/metrics.service';
import { ProcoreStandIn, SAMPLE_BUDGET_LINES, SAMPLE_PROJECT_ID, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { useProcoreApp, waitForIngestion, WEBHOOK_SECRET } from './procore-test-kit';
import { waitFor } from '../support/wait';

/** The sample budget as Procore's Budget Updates shows it (226480.125 rounded to the cent): budget
 * modifications, approved change orders and an approved budget change are all in the view's
 * "Revised Budget", which is what the revised estimate is read from. */
const SAMPLE_TOTALS = { originalBudget: '8704976.28', budgetChanges: '155840.50', revisedEstimate: '8860816.78' };
const PER_PAGE = 10; // 38 lines → 4 pages

describe('explicit send → ingestion from Procore (stand-in)', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let sender: UserWithToken;

  useProcoreApp(standIn, { PROCORE_PER_PAGE: String(PER_PAGE) }, (app) => (t = app));
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn);
    sender = await createUser(t.em(), { erpPermission: 'standard', name: 'Integration Sender' });
  });

  async function send(): Promise<string> {
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(SAMPLE_PROJECT_ID) });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  /** One submission, ready to export, holding exactly the sample budget. */
  async function expectOneCorrectSubmission(id: string): Promise<void> {
    const row = await waitForIngestion(id);
    expect(row).toMatchObject({ status: 'ready_to_export', line_count: 38, row_count: 38, problem_count: 0, job: '26-101' });
    const submissions = await sql(`select id from submission`);
    expect(submissions).toEqual([{ id }]);
    const [{ lines, distinct }] = await sql(`select count(*)::int as lines, count(distinct procore_line_id)::int as distinct from submission_line`);
    expect({ lines, distinct }).toEqual({ lines: 38, distinct: 38 });
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${id}`);
    expect(details.body.totals).toEqual(SAMPLE_TOTALS);
    expect(details.body.rows).toHaveLength(38);
  }

  it('answers 202 with the submission ingesting; the job locks the budget and reads every page of the view', async () => {
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: SAMPLE_PROJECT_ID });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'ingesting',
      procoreProjectId: String(SAMPLE_PROJECT_ID),
      source: 'api',
      sentBy: { id: sender.user.id, name: 'Integration Sender', email: sender.user.email },
    });

    await expectOneCorrectSubmission(res.body.id);
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    // Read twice (4 pages each): two reads that agree prove nobody changed the budget meanwhile.
    expect(standIn.detailRowPageRequests()).toBe(8);
    expect(standIn.countRequests({ method: 'POST', path: '/budget/lock' })).toBe(1);

    const [row] = await sql(`select locked_by_connector, fingerprint, budget_view_id, project_name from submission`);
    expect(row).toMatchObject({ locked_by_connector: true, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), budget_view_id: '2001' });
    expect(row.project_name).toBe('Riverside Medical Office Building');

    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${res.body.id}`);
    // No budget-snapshot webhook event names a creator: the sender stands in.
    expect(details.body.createdBy).toMatchObject({ id: sender.user.id });
    expect(details.body.sentBy).toMatchObject({ id: sender.user.id });
    expect(details.body.lines[0]).toEqual({
      procoreLineId: expect.any(String),
      costCode: '01-100',
      category: 'Labor',
      description: 'General Conditions',
      originalBudget: '412500.00',
      budgetChanges: '0.00',
      revisedEstimate: '412500.00',
      job: '26-101',
      phase: '01100',
      costType: 'L',
      problems: [],
      notes: [],
    });
    const lighting = details.body.lines.find((line: { costCode: string; category: string }) => line.costCode === '26-500' && line.category === 'Material');
    expect(lighting).toMatchObject({
      originalBudget: '226480.13',
      notes: ['Original budget 226480.125 was rounded to 226480.13', 'Revised budget 226480.125 was rounded to 226480.13'],
      problems: [],
    });
    const hvac = details.body.lines.find((line: { costCode: string; category: string }) => line.costCode === '23-700' && line.category === 'Material');
    expect(hvac).toMatchObject({ originalBudget: '684350.00', budgetChanges: '25000.00', revisedEstimate: '709350.00' });
    expect(details.body.history.map((h: { action: string }) => h.action)).toEqual(['send', 'procore.lock', 'ingested']);
    expect(SAMPLE_BUDGET_LINES).toHaveLength(38);
  });

  it("the budget's creator is the Procore user whose snapshot event came last, not the sender; a rejection emails both", async () => {
    // The project manager's action created a budget snapshot (the budget was not yet locked then).
    const event = standIn.webhookPayload({ project_id: SAMPLE_PROJECT_ID, user_id: SAMPLE_USERS.projectManager.id, resource_name: 'Budget View Snapshots', event_type: 'create' });
    expect(await standIn.deliverTo(`${t.url}/webhooks/procore`, event, { Authorization: WEBHOOK_SECRET })).toBe(202);
    await waitFor(async () => (await sql(`select 1 from webhook_event where status = 'processed'`)).length > 0, 'the event to be processed');
    const id = await send();
    await expectOneCorrectSubmission(id);
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${id}`);
    expect(details.body.createdBy).toMatchObject({ email: SAMPLE_USERS.projectManager.email });
    expect(details.body.sentBy).toMatchObject({ id: sender.user.id });

    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${id}/reject`, { reason: 'Split the concrete line' })).status).toBe(200);
    const emails = await sql(`select recipient_email from notification where kind = 'rejected' order by recipient_email`);
    expect(emails.map((e) => e.recipient_email).sort()).toEqual([SAMPLE_USERS.projectManager.email, sender.user.email].map((e) => e.toLowerCase()).sort());
  });

  it('a 429 mid-ingest waits for the reset, then finishes with one correct submission (and /metrics counts it)', async () => {
    const metrics = t.get(MetricsService);
    const count = async (counter: Counter, status?: string) =>
      (await counter.get()).values.filter((v) => status === undefined || v.labels.status === status).reduce((total, v) => total + v.value, 0);
    const before = { limited: await count(metrics.procoreRateLimited), answered429: await count(metrics.procoreRequests, '429'), ok: await count(metrics.procoreRequests, '200') };
    standIn.failNext(1, 429, { path: 'detail_rows', skip: 1, resetInSeconds: 1 });
    const id = await send();
    await expectOneCorrectSubmission(id);
    expect(standIn.rateLimitedResponses).toBe(1);
    expect(await count(metrics.procoreRateLimited)).toBe(before.limited + 1);
    expect(await count(metrics.procoreRequests, '429')).toBe(before.answered429 + 1);
    expect(await count(metrics.procoreRequests, '200')).toBeGreaterThan(before.ok);
    // The latest answer's X-Rate-Limit-Remaining / -Limit, as Procore sent them.
    const remaining = (await metrics.procoreRateRemaining.get()).values[0]?.value;
    const limit = (await metrics.procoreRateLimit.get()).values[0]?.value;
    expect(remaining).toEqual(expect.any(Number));
    expect(limit).toBeGreaterThanOrEqual(remaining);
    const refused = standIn.requests.find((entry) => entry.status === 429)!;
    const retried = standIn.requests.find((entry) => entry.status === 200 && entry.path.endsWith('detail_rows') && entry.query.page === refused.query.page)!;
    expect(Math.floor(retried.at / 1000)).toBeGreaterThan(Math.floor(refused.at / 1000));
  });

  it('an access token expiring mid-ingest is replaced once, and the ingestion finishes', async () => {
    // Page 2 is held until every token has expired (released then; 20 s at most, within the
    // client's timeout), so it meets a 401 however slow the machine.
    standIn.delayNext(1, 20_000, { path: 'detail_rows', skip: 1 });
    const id = await send();
    await waitFor(() => standIn.requests.some((entry) => entry.path.endsWith('detail_rows') && entry.query.page === '2' && entry.status === 0), 'the read of page 2 to be held');
    standIn.expireAllTokens();
    standIn.releaseHeld();
    await expectOneCorrectSubmission(id);
    // The held page met the expired token once, and went through with a new one.
    expect(standIn.countRequests({ path: 'detail_rows', status: 401 })).toBe(1);
    const refusedAt = standIn.requests.findIndex((entry) => entry.status === 401 && entry.path.endsWith('detail_rows'));
    expect(standIn.requests.slice(refusedAt).filter((entry) => entry.path === '/oauth/token')).toHaveLength(1);
  });

  it('a 5xx burst longer than the client retries: the queue runs the job again and it ends with one correct submission', async () => {
    // Three attempts per call in tests: four 503s fail the first run of the job.
    standIn.failNext(4, 503, { path: 'detail_rows', skip: 2 });
    standIn.failNext(2, 502, { path: 'line_item_types' });
    const id = await send();
    await expectOneCorrectSubmission(id);
    const [work] = await sql(`select state, attempts from pending_work where job_name = 'ingest-submission'`);
    expect(work).toMatchObject({ state: 'done' });
    expect(work.attempts).toBeGreaterThanOrEqual(2);
  });

  it('Procore failing past the give-up bound → on the queue run\'s final attempt the send ends ingest_failed, and what the connector locked is unlocked', async () => {
    // Production: an hour of failures across sweeps.
    await withTimings(t, { ingestGiveUpAfterMs: 0 }, async () => {
      standIn.failNext(100_000, 503, { path: 'detail_rows' });
      const id = await send();
      const row = await waitForIngestion(id, 30_000);
      expect(row).toMatchObject({ status: 'ingest_failed', locked_by_connector: true });
      expect(row.ingest_error).toMatch(
        /^Procore kept failing for \d+ seconds after the budget was sent; send it again once Procore answers\. Last failure: Could not read the budget from Procore: .*503/,
      );
      // The worker marks its work done just after the job's own commit: wait for it.
      await waitFor(async () => (await sql(`select 1 from pending_work where job_name = 'ingest-submission' and state = 'done'`)).length > 0, 'the ingestion work to be done');
      const [work] = await sql(`select state, attempts from pending_work where job_name = 'ingest-submission'`);
      expect(work).toEqual({ state: 'done', attempts: 5 });
      standIn.clearFaults();
      // The unlock's audit event is written once Procore answered: wait for it, not for the stand-in.
      await waitFor(async () => (await sql(`select 1 from audit_event where submission_id = $1 and action = 'procore.unlock'`, [id])).length > 0, 'the unlock on the record');
      expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(false);
      const events = await sql(`select action from audit_event where submission_id = $1 order by id`, [id]);
      expect(events.map((e) => e.action)).toEqual(['send', 'procore.lock', 'ingestFailed', 'procore.unlock']);
    }).finally(() => standIn.clearFaults());
  });

  it('running the job again after a crash replaces what a partial run left and never duplicates', async () => {
    const id = await send();
    await expectOneCorrectSubmission(id);
    // Put it back as if the worker died after writing but before the status change.
    await sql(`update submission set status = 'ingesting' where id = $1`, [id]);
    await sql(`update submission_line set description = 'stale' where submission_id = $1`, [id]);
    const ingestion = t.get(BudgetIngestion);
    const result = await ingestion.ingest(id, { finalAttempt: false });
    expect(result).toMatchObject({ status: 'ready_to_export', lines: 38 });
    await expectOneCorrectSubmission(id);
    expect(await sql(`select count(*)::int as stale from submission_line where description = 'stale'`)).toEqual([{ stale: 0 }]);
    // Once done, another run is a no-op.
    expect(await ingestion.ingest(id, { finalAttempt: false })).toEqual({ submissionId: id, skipped: 'the submission is already ready_to_export' });
  });

  it('a project Procore does not know → ingest_failed with the reason, nothing locked', async () => {
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: '424242' });
    expect(res.status).toBe(202);
    const row = await waitForIngestion(res.body.id);
    expect(row).toMatchObject({ status: 'ingest_failed', locked_by_connector: false });
    expect(row.ingest_error).toMatch(/Procore project 424242 was not found/);
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${res.body.id}`);
    expect(details.body).toMatchObject({ status: 'ingest_failed', ingestError: row.ingest_error });
    expect(await sql(`select job_name from pending_work where job_name = 'unlock-budget'`)).toEqual([]);
  });

  it('a failure after the connector locked the budget unlocks it again', async () => {
    const project = standIn.addProject({ id: 1002, name: 'No views', project_number: '26-102', withDefaultView: false });
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(project.id) });
    const row = await waitForIngestion(res.body.id);
    expect(row).toMatchObject({ status: 'ingest_failed', locked_by_connector: true });
    expect(row.ingest_error).toBe('Procore project 1002 has no budget views; create one, or set PROCORE_BUDGET_VIEW_ID');
    // The unlock's audit event is committed after Procore answered: wait for both.
    const unlocked = async () => (await sql(`select 1 from audit_event where submission_id = $1 and action = 'procore.unlock'`, [res.body.id])).length > 0;
    await waitFor(async () => !standIn.isLocked(1002) && (await unlocked()), 'the budget unlocked in Procore and on the record');
    const events = await sql(`select action, note from audit_event where submission_id = $1 order by id`, [res.body.id]);
    expect(events.map((e) => e.action)).toEqual(['send', 'procore.lock', 'ingestFailed', 'procore.unlock']);
  });
});

describe('explicit send under a spike rate limit (a client that meets it from its first call)', () => {
  const standIn = new ProcoreStandIn({ rateLimits: { spike: { limit: 5, windowSeconds: 1 } } });
  let t: TestApp;
  let sender: UserWithToken;

  useProcoreApp(standIn, { PROCORE_PER_PAGE: String(PER_PAGE) }, (app) => (t = app));
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn);
    sender = await createUser(t.em(), { erpPermission: 'standard' });
  });

  it('with a 5xx burst too: the failed calls count against the limit like any other, and it ends with one correct submission and no 429', async () => {
    // Four 503s: more than the client's three attempts per call, so the queue runs the job again.
    standIn.failNext(4, 503, { path: 'detail_rows', skip: 1 });
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(SAMPLE_PROJECT_ID) });
    expect(res.status).toBe(202);
    const row = await waitForIngestion(res.body.id, 30_000);
    expect(row).toMatchObject({ status: 'ready_to_export', line_count: 38, row_count: 38, problem_count: 0 });
    expect(await sql(`select count(*)::int as lines from submission_line`)).toEqual([{ lines: 38 }]);
    const calls = standIn.requests.filter((entry) => entry.path.startsWith('/rest/'));
    expect(calls.filter((entry) => entry.status === 503)).toHaveLength(4);
    // The 503s carried the limit's headers like every answer, and the client paced itself on them.
    expect(standIn.rateLimitedResponses).toBe(0);
    expect(calls.length).toBeGreaterThan(10); // more than two windows' worth: the limit was in play
  });
});

