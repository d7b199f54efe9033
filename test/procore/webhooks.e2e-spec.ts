import { request as httpRequest } from 'node:http';
import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';
import { ProjectPoller } from '../../src/procore/polling/project-poller.service';
import { WEBHOOK_BODY_TIMEOUT_MS } from '../../src/procore/webhooks/webhook-body';
import { WEBHOOK_DEBOUNCE_MS } from '../../src/procore/webhooks/webhook-receiver.service';
import { WEBHOOK_NAMESPACE } from '../../src/procore/webhooks/webhook-registration';
import { PendingWorkSweeper } from '../../src/queue/pending-work-sweeper';
import { sql, resetDatabase } from '../support/database';
import { databaseUrl } from '../support/test-env';
import { createSubmission, createUser } from '../support/factories';
import { api, request } from '../support/http';
import { TestApp, withTimings } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { startProcoreApp, WEBHOOK_SECRET, useProcoreApp, waitForIdle } from './procore-test-kit';
import { waitFor } from '../support/wait';

describe('POST /webhooks/procore', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let destination: string;

  useProcoreApp(standIn, { PROCORE_PER_PAGE: '10' }, (app) => {
    t = app;
    destination = `${t.url}/webhooks/procore`;
  });
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    standIn.addHook({ namespace: 'connector', destinationUrl: destination, destinationHeaders: { Authorization: WEBHOOK_SECRET } });
  });

  const deliver = (payload: unknown, authorization: string | undefined = WEBHOOK_SECRET) =>
    standIn.deliverTo(destination, payload, authorization === undefined ? {} : { Authorization: authorization });
  const snapshotEvent = (extra: Record<string, unknown> = {}) =>
    standIn.webhookPayload({ project_id: SAMPLE_PROJECT_ID, user_id: SAMPLE_USERS.projectManager.id, resource_name: 'Budget View Snapshots', event_type: 'create', ...extra });
  const deliverRaw = (rawBody: string) => request(t.url, 'POST', '/webhooks/procore', { rawBody, headers: { authorization: WEBHOOK_SECRET } });
  const events = () => sql(`select id, dedupe_key, project_id, procore_user_id, outcome, processed_at from webhook_event order by id`);
  const processed = () => waitFor(async () => (await sql(`select id from webhook_event where status = 'received'`)).length === 0, 'every event to be processed');

  it('the same delivery 5 times in a row and 5 times at once → one event row, one submission (sent by the webhook user)', async () => {
    const payload = snapshotEvent();
    for (let i = 0; i < 5; i++) expect(await deliver(payload)).toBe(202);
    expect(await Promise.all(Array.from({ length: 5 }, () => deliver(payload)))).toEqual([202, 202, 202, 202, 202]);
    await processed();
    await waitForIdle();

    const stored = await events();
    expect(stored).toEqual([
      expect.objectContaining({ dedupe_key: `ulid:${payload.ulid}`, project_id: String(SAMPLE_PROJECT_ID), procore_user_id: String(SAMPLE_USERS.projectManager.id) }),
    ]);
    const submissions = await sql(`select s.id, s.status, s.source, u.email as sender from submission s left join app_user u on u.id = s.sent_by_id`);
    expect(submissions).toEqual([{ id: expect.any(String), status: 'ready_to_export', source: 'webhook', sender: SAMPLE_USERS.projectManager.email }]);
    expect(stored[0].outcome).toBe(`started submission ${submissions[0].id}: 38 line(s), 0 problem(s)`);
    expect(await sql(`select job_name from pending_work where job_name = 'process-webhook-event'`)).toHaveLength(1);
    // Webhook ingestion never locks: the project manager locked the budget.
    expect(standIn.countRequests({ path: '/budget/lock' })).toBe(0);
  });

  it('a delivery without a ulid is deduplicated by its id', async () => {
    const payload = { ...snapshotEvent(), ulid: undefined };
    expect(await Promise.all([deliver(payload), deliver(payload), deliver(payload)])).toEqual([202, 202, 202]);
    expect(await sql(`select dedupe_key from webhook_event`)).toEqual([{ dedupe_key: `id:${payload.id}` }]);
  });

  it('a wrong or missing secret → 401 and nothing stored', async () => {
    const payload = snapshotEvent();
    for (const authorization of [undefined, '', 'wrong', `${WEBHOOK_SECRET} `.repeat(2), WEBHOOK_SECRET.slice(0, -1), `Bearer ${WEBHOOK_SECRET}`]) {
      const res = await request(t.url, 'POST', '/webhooks/procore', { body: payload, headers: authorization === undefined ? {} : { authorization } });
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/webhook secret/) });
      expect(res.text).not.toContain(WEBHOOK_SECRET);
    }
    // Checked before the body is read or parsed: neither a broken nor an oversized body gets a say.
    for (const rawBody of ['{"id": 1,', JSON.stringify({ ...payload, metadata: { note: 'x'.repeat(2_000_000) } })]) {
      const res = await request(t.url, 'POST', '/webhooks/procore', { rawBody, headers: { authorization: 'wrong' } });
      expect(res.status).toBe(401);
    }
    expect(await sql(`select * from webhook_event`)).toEqual([]);
    expect(await sql(`select * from pending_work`)).toEqual([]);
  });

  it('authenticated deliveries it cannot use → 202, stored as unusable with the reason, no submission, listed for admins newest first', async () => {
    const valid = snapshotEvent();
    // A delivery of its own each (a shared ulid would make the later ones duplicates of the first).
    const v = (ulid: string, patch: Record<string, unknown>) => JSON.stringify({ ...valid, ulid, ...patch });
    const cases: Array<[string, string, RegExp]> = [
      ['not JSON', '{"id": 1,', /^the body is not valid JSON: /],
      ['not an object', JSON.stringify([valid]), /^the body must be a JSON object \(a Procore webhook event\), not a list$/],
      ['an unknown resource', v('rfi', { resource_name: 'RFIs' }), /^"RFIs" events are not ones the connector subscribes to$/],
      ['missing fields', v('missing', { resource_name: undefined, event_type: undefined }), /^resource_name is missing; event_type is missing$/],
      ['a budget event without a project', v('no-project', { project_id: null }), /^a "Budget View Snapshots" event needs project_id$/],
      ['another company', v('other-company', { company_id: 99 }), /^company 99 is not the configured company \(PROCORE_COMPANY_ID\)$/],
      ['text PostgreSQL cannot store', v('nul', { metadata: { note: 'line\u0000note' } }), /NUL character/],
      ['over the size limit', v('large', { metadata: { note: 'x'.repeat(1_100_000) } }), /^the body is larger than the 1024 kB limit$/],
    ];
    for (const [label, rawBody, reason] of cases) {
      const res = await request(t.url, 'POST', '/webhooks/procore', { rawBody, headers: { authorization: WEBHOOK_SECRET } });
      expect({ label, status: res.status }).toEqual({ label, status: 202 });
      expect(res.body).toMatchObject({ received: true, status: 'unusable', reason: expect.stringMatching(reason) });
    }
    const stored = await sql(`select status, outcome, payload, raw_body from webhook_event order by id`);
    expect(stored.map((row) => row.status)).toEqual(cases.map(() => 'unusable'));
    stored.forEach((row, i) => expect(row.outcome).toMatch(cases[i][2]));
    // What arrived is kept: the JSON when it can be stored as such, else the first 100 kB as text.
    expect(stored[0]).toMatchObject({ payload: null, raw_body: '{"id": 1,' });
    expect(stored[2]).toMatchObject({ payload: expect.objectContaining({ resource_name: 'RFIs' }), raw_body: null });
    expect(String(stored[7].raw_body)).toHaveLength(100 * 1024);
    await waitForIdle();
    expect(await sql(`select * from submission`)).toEqual([]);
    expect(await sql(`select * from pending_work`)).toEqual([]);
    expect(standIn.requests).toEqual([]);

    const admin = await createUser(t.em(), { erpPermission: 'admin' });
    const page = await api(t.url, admin.token).get('/api/v1/webhook-events?status=unusable&perPage=3');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ page: 1, perPage: 3, total: cases.length });
    expect(page.body.data.map((event: { outcome: string }) => event.outcome)).toEqual([
      expect.stringMatching(cases[7][2]),
      expect.stringMatching(cases[6][2]),
      expect.stringMatching(cases[5][2]),
    ]);
    expect(page.body.data[0]).toMatchObject({ status: 'unusable', body: expect.stringMatching(/^\{"id":/), receivedAt: expect.any(String) });
    const last = await api(t.url, admin.token).get('/api/v1/webhook-events?status=unusable&perPage=3&page=3');
    expect(last.body.data.map((event: { body: string }) => event.body)).toEqual([JSON.stringify([valid]), '{"id": 1,']);
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    expect((await api(t.url, approver.token).get('/api/v1/webhook-events')).status).toBe(403);
    expect((await api(t.url, admin.token).get('/api/v1/webhook-events?status=lost')).status).toBe(400);
  });

  it("Procore's 64-bit event id is kept to the digit: with a ulid the event is processed normally; without one it dedupes by the id as text", async () => {
    // The id of Procore's published example event (test/fixtures/procore/webhook-event.json): beyond 2^53, a double would round it.
    const withUlid = JSON.stringify(snapshotEvent({ id: 0 })).replace('"id":0', '"id":5982324300946918154');
    expect(await deliverRaw(withUlid)).toMatchObject({ status: 202, body: { status: 'received', duplicate: false } });
    await processed();
    await waitForIdle();
    const [event] = await sql(`select procore_event_id, status, outcome, payload::text as payload from webhook_event`);
    expect(event.procore_event_id).toBe('5982324300946918154');
    expect(event.payload).toContain('"id": 5982324300946918154');
    expect(event.status).toBe('processed');
    const [submission] = await sql(`select id, status from submission`);
    expect(submission.status).toBe('ready_to_export');
    expect(event.outcome).toMatch(new RegExp(`^started submission ${submission.id}: `));

    const { ulid: _ulid, ...noUlid } = snapshotEvent({ id: 0 });
    const bare = JSON.stringify(noUlid).replace('"id":0', '"id":5982324300946918155');
    expect(await deliverRaw(bare)).toMatchObject({ status: 202, body: { status: 'received', duplicate: false } });
    expect(await deliverRaw(bare)).toMatchObject({ status: 202, body: { duplicate: true } });
    expect(await sql(`select dedupe_key from webhook_event where ulid is null`)).toEqual([{ dedupe_key: 'id:5982324300946918155' }]);
  });

  it('a redelivery after the event was processed (long after the debounce) is recognised and runs nothing again', async () => {
    const payload = snapshotEvent();
    expect(await deliver(payload)).toBe(202);
    await processed();
    await waitForIdle();
    const [{ id: submissionId }] = await sql(`select id from submission`);
    standIn.clearLog();
    const again = await deliverRaw(JSON.stringify(payload));
    expect(again).toMatchObject({ status: 202, body: { duplicate: true, status: 'processed' } });
    // The processing job, had one been recorded, would have run after the debounce by now.
    await new Promise((resolve) => setTimeout(resolve, WEBHOOK_DEBOUNCE_MS * 2));
    await waitForIdle();
    expect(await sql(`select count(*)::int as events from webhook_event`)).toEqual([{ events: 1 }]);
    expect(await sql(`select count(*)::int as jobs from pending_work where job_name = 'process-webhook-event'`)).toEqual([{ jobs: 1 }]);
    expect(await sql(`select id from submission`)).toEqual([{ id: submissionId }]);
    expect(standIn.requests).toEqual([]);
  });

  it('a check failing again and again is given up after a bounded age: unusable with the reason, never re-run by the sweeper', async () => {
    await withTimings(t, { webhookGiveUpAfterMs: 0 }, async () => {
      standIn.failNext(100_000, 500, { path: '/budget' });
      expect(await deliver(snapshotEvent())).toBe(202);
      const [event] = await waitFor(async () => {
        const rows = await sql(`select id, status, outcome from webhook_event where status <> 'received'`);
        return rows.length ? rows : undefined;
      }, 'the event to be given up', 30_000);
      expect(event.status).toBe('unusable');
      expect(event.outcome).toMatch(/^gave up after \d+ seconds of failures \(the polling sweep covers the project\): Could not read the budget from Procore: .*500/);
      await waitForIdle();
      const [work] = await sql(`select state, attempts from pending_work where job_name = 'process-webhook-event'`);
      expect(work).toEqual({ state: 'done', attempts: 5 });
      const calls = standIn.requests.length;
      await t.get(PendingWorkSweeper).sweep(0);
      await waitForIdle();
      expect(standIn.requests.length).toBe(calls);
      expect(await sql(`select * from submission`)).toEqual([]);
    }).finally(() => standIn.clearFaults());
  });

  it('a deterministic failure (the project is unknown to Procore) is shown as unusable at once', async () => {
    expect(await deliver(snapshotEvent({ project_id: 424242 }))).toBe(202);
    await processed();
    const [event] = await events();
    expect(await sql(`select status, outcome from webhook_event`)).toEqual([
      { status: 'unusable', outcome: 'Procore project 424242 was not found, or the connector\'s service account cannot see it' },
    ]);
    expect(event.processed_at).not.toBeNull();
  });

  it('the Authorization header is checked before the body is read: a wrong one is answered while the body is still arriving', async () => {
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(destination, { method: 'POST', headers: { authorization: 'wrong', 'content-type': 'application/json', 'content-length': '1000000' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      req.write('{"id": 1, "ulid": "'); // …and the rest never comes
    });
    expect(status).toBe(401);
    // Answered without waiting for the body (reading it would have waited for the read timeout).
    expect(Date.now() - started).toBeLessThan(WEBHOOK_BODY_TIMEOUT_MS);
    expect(await sql(`select * from webhook_event`)).toEqual([]);
  });

  it('many deliveries at once are all answered 2xx (no rate limit on the webhook route)', async () => {
    const statuses = await Promise.all(Array.from({ length: 100 }, () => deliver(snapshotEvent({ resource_name: 'Budget Line Items', event_type: 'update' }))));
    expect(new Set(statuses)).toEqual(new Set([202]));
    expect(await sql(`select count(*)::int as count from webhook_event`)).toEqual([{ count: 100 }]);
    await processed();
  });

  it('events older than WEBHOOK_RETENTION_DAYS (default 30) are deleted by the polling sweep', async () => {
    for (const ulid of ['OLD1', 'OLD2', 'NEW1']) await deliver(snapshotEvent({ ulid, resource_name: 'Line Item Types', project_id: null }));
    await processed();
    await sql(`update webhook_event set received_at = now() - interval '31 days' where ulid like 'OLD%'`);
    await sql(`update webhook_event set received_at = now() - interval '29 days' where ulid = 'NEW1'`);
    const result = await t.get(ProjectPoller).sweep();
    expect(result.webhookEventsDeleted).toBe(2);
    expect(await sql(`select ulid from webhook_event`)).toEqual([{ ulid: 'NEW1' }]);
  });

  it('extra payload fields are kept', async () => {
    const payload = { ...snapshotEvent(), delivery_attempt: 3, metadata: { source: 'budget' } };
    expect(await deliver(payload)).toBe(202);
    const [row] = await sql(`select payload from webhook_event`);
    expect(row.payload).toMatchObject({ delivery_attempt: 3, metadata: { source: 'budget' }, ulid: payload.ulid });
  });

  it('a budget that is not locked, or unchanged since the last submission, only records the outcome', async () => {
    standIn.setLocked(SAMPLE_PROJECT_ID, false);
    await deliver(snapshotEvent({ resource_name: 'Budget Line Items', event_type: 'update' }));
    await processed();
    expect((await events())[0].outcome).toBe('the budget is not locked in Procore; nothing to send');
    expect(await sql(`select * from submission`)).toEqual([]);

    standIn.setLocked(SAMPLE_PROJECT_ID, true);
    await deliver(snapshotEvent());
    await processed();
    const [first] = await sql(`select id from submission`);
    standIn.clearLog();
    await deliver(snapshotEvent());
    await processed();
    expect((await events())[2].outcome).toBe(`the budget is unchanged since submission ${first.id} (ready to export); nothing created`);
    expect(await sql(`select id, status from submission`)).toEqual([{ id: first.id, status: 'ready_to_export' }]);
    // The unchanged check read the budget (to compare) but did not ask for its creator again.
    expect(standIn.countRequests({ path: '/budget_line_items/' })).toBe(0);
  });

  it('a changed budget supersedes a ready_to_export submission; a busy one blocks and nothing is created', async () => {
    await deliver(snapshotEvent());
    await processed();
    const [first] = await sql(`select id from submission`);
    const [line] = await sql(`select procore_line_id from submission_line order by position limit 1`);
    standIn.updateBudgetLine(Number(line.procore_line_id), { originalBudget: '412600.00' });
    await deliver(snapshotEvent({ resource_name: 'Budget Line Items', event_type: 'update' }));
    await processed();
    const submissions = await sql(`select id, status from submission order by id`);
    expect(submissions).toEqual([
      { id: first.id, status: 'superseded' },
      { id: expect.any(String), status: 'ready_to_export' },
    ]);

    await sql(`update submission set status = 'exporting' where id = $1`, [submissions[1].id]);
    standIn.clearLog();
    await deliver(snapshotEvent());
    await processed();
    expect((await events())[2].outcome).toBe(`submission ${submissions[1].id} is exporting; nothing created`);
    expect(await sql(`select count(*)::int as count from submission`)).toEqual([{ count: 2 }]);
    expect(standIn.requests).toEqual([]); // decided without asking Procore
  });

  it('a flagged submission is superseded once what its flag named is fixed in Procore (a category code)', async () => {
    const other = standIn.lineItemTypesList().find((type) => type.name === 'Other')!;
    standIn.updateLineItemType(other.id, { code: 'OTHR' });
    await deliver(snapshotEvent());
    await processed();
    const [flagged] = await sql(`select id, status, problem_count from submission`);
    expect(flagged).toMatchObject({ status: 'ready_to_export', problem_count: 1 });
    const [problem] = await sql<{ problems: string[] }>(`select problems from submission_row where submission_id = $1 and cost_type = 'OTHR' order by position limit 1`, [flagged.id]);
    expect(problem.problems[0]).toMatch(/cost type "OTHR" is longer than Spectrum's 3 characters/);

    // The user fixes exactly that in Procore; nothing else about the budget changes.
    standIn.updateLineItemType(other.id, { code: 'O' });
    await deliver(snapshotEvent({ resource_name: 'Budget Line Items', event_type: 'update' }));
    await processed();
    expect(await sql(`select id, status, problem_count from submission order by id`)).toEqual([
      { id: flagged.id, status: 'superseded', problem_count: 1 },
      { id: expect.any(String), status: 'ready_to_export', problem_count: 0 },
    ]);
    expect((await events())[1].outcome).toMatch(/^started submission \d+: 38 line\(s\), 0 problem\(s\)$/);
  });

  it('a burst of distinct events for one project is debounced into one check', async () => {
    const burst = [
      snapshotEvent({ resource_name: 'Budget Line Items', event_type: 'update' }),
      snapshotEvent({ resource_name: 'Budget Modifications', event_type: 'create' }),
      snapshotEvent({ resource_name: 'Budget Changes', event_type: 'update' }),
      snapshotEvent({ resource_name: 'Budget Line Items', event_type: 'delete' }),
      snapshotEvent(),
    ];
    expect(await Promise.all(burst.map((payload) => deliver(payload)))).toEqual([202, 202, 202, 202, 202]);
    await processed();
    await waitForIdle();
    const stored = await events();
    const [submission] = await sql(`select id from submission`);
    const latest = stored[stored.length - 1];
    expect(latest.outcome).toBe(`started submission ${submission.id}: 38 line(s), 0 problem(s)`);
    for (const event of stored.slice(0, -1)) {
      expect([`covered by the check of webhook event ${latest.id}`, latest.outcome]).toContain(event.outcome);
    }
    expect(standIn.detailRowPageRequests()).toBe(8); // one check: the budget read twice (38 lines, 10 per page)
  });

  it('a Projects create event registers the new project\'s own hook where company scope lacks the budget resources; once', async () => {
    // The connector's company hook (it receives the Projects events); company scope offers no budget resources (the stand-in's default, as a sandbox showed).
    standIn.addHook({ namespace: WEBHOOK_NAMESPACE, destinationUrl: destination, destinationHeaders: { Authorization: WEBHOOK_SECRET } });
    standIn.addProject({ id: 1077, name: 'New Clinic', project_number: '26-177' });
    const created = () => standIn.webhookPayload({ resource_name: 'Projects', event_type: 'create', resource_id: 1077, project_id: null, user_id: SAMPLE_USERS.projectManager.id });
    expect(await deliver(created())).toBe(202);
    await processed();
    const projectHooks = standIn.hooks().filter((hook) => hook.project_id === 1077);
    expect(projectHooks).toEqual([expect.objectContaining({ namespace: WEBHOOK_NAMESPACE, destination_url: destination, destination_headers: { Authorization: WEBHOOK_SECRET } })]);
    const triggers = standIn.triggers(projectHooks[0].id).map((trigger) => `${trigger.resource_name} ${trigger.event_type}`.toLowerCase());
    expect(triggers).toEqual(expect.arrayContaining(['budget line items update', 'budget view snapshots create']));
    const [event] = await events();
    expect(event.outcome).toBe(`registered project-level hook ${projectHooks[0].id} (${triggers.length} trigger(s) added); the budget is not locked in Procore; nothing to send`);

    // A second create event (a redelivery under another id) finds the hook: nothing new.
    expect(await deliver(created())).toBe(202);
    await processed();
    expect(standIn.hooks().filter((hook) => hook.project_id === 1077)).toHaveLength(1);
    expect((await events())[1].outcome).toMatch(new RegExp(`^its project-level hook ${projectHooks[0].id} was already registered \\(0 trigger\\(s\\) added\\)`));
  });

  it('company-level changes are recorded as ignored', async () => {
    await deliver(standIn.webhookPayload({ resource_name: 'Line Item Types', event_type: 'update', project_id: null }));
    await processed();
    expect(await sql(`select status, outcome from webhook_event`)).toEqual([
      { status: 'processed', outcome: 'ignored: a company-level change; it applies to the budgets sent from now on' },
    ]);
    expect(standIn.requests).toEqual([]);
  });

  it('a delivery for an existing open project through the stand-in hook reaches the connector', async () => {
    await createSubmission(t.em(), { status: 'failed_to_export', procoreProjectId: String(SAMPLE_PROJECT_ID) });
    expect(await standIn.deliverWebhook({ project_id: SAMPLE_PROJECT_ID, user_id: 7001 })).toEqual([202]);
    await processed();
    expect((await events())[0].outcome).toMatch(/is failed to export; nothing created$/);
  });
});

describe('POST /webhooks/procore: secret rotation and an unreachable database', () => {
  const standIn = new ProcoreStandIn();
  const PREVIOUS = 'the-secret-being-rotated-out-0123456789';
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    await standIn.start();
    await resetDatabase();
    proxy = await TcpProxy.start(new URL(databaseUrl()).port || '5432');
    const url = new URL(databaseUrl());
    url.port = String(proxy.port);
    t = await startProcoreApp(standIn, { PROCORE_WEBHOOK_SECRET_PREVIOUS: PREVIOUS, DATABASE_URL: url.toString() });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await standIn.stop();
  });

  const deliver = (authorization: string) =>
    request(t.url, 'POST', '/webhooks/procore', { body: standIn.webhookPayload({ resource_name: 'Line Item Types', project_id: null }), headers: { authorization } });

  it('the previous secret is accepted too while PROCORE_WEBHOOK_SECRET_PREVIOUS is set; anything else is 401', async () => {
    expect((await deliver(WEBHOOK_SECRET)).status).toBe(202);
    expect((await deliver(PREVIOUS)).status).toBe(202);
    expect((await deliver(`${PREVIOUS}x`)).status).toBe(401);
    expect(await sql(`select count(*)::int as count from webhook_event`)).toEqual([{ count: 2 }]);
  });

  it('PostgreSQL unreachable → 503 (nothing can be stored; Procore delivers again), and the redelivery is stored once it is back', async () => {
    const payload = standIn.webhookPayload({ resource_name: 'Line Item Types', project_id: null });
    proxy.refuse();
    const started = Date.now();
    const refused = await request(t.url, 'POST', '/webhooks/procore', { body: payload, headers: { authorization: WEBHOOK_SECRET } });
    expect(refused.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(refused.body.message).toMatch(/could not be stored/);
    proxy.accept();
    const stored = await waitFor(async () => {
      const res = await request(t.url, 'POST', '/webhooks/procore', { body: payload, headers: { authorization: WEBHOOK_SECRET } });
      return res.status === 202 ? res : undefined;
    }, 'the database to be reachable again');
    expect(stored.body).toMatchObject({ duplicate: false, status: 'received' });
    expect(await sql(`select count(*)::int as count from webhook_event where ulid = $1`, [payload.ulid])).toEqual([{ count: 1 }]);
  });
});

/** A TCP forwarder in front of PostgreSQL that a test can make refuse connections (and cut the open ones). */
class TcpProxy {
  private refusing = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: string): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.refusing) return client.destroy();
      const upstream = connect(Number(targetPort), '127.0.0.1');
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('close', () => proxy?.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  refuse(): void {
    this.refusing = true;
    for (const socket of this.sockets) socket.destroy();
  }

  accept(): void {
    this.refusing = false;
  }

  close(): Promise<void> {
    this.refuse();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
