import { sql, resetDatabase } from '../support/database';
import { createSubmission } from '../support/factories';
import { request } from '../support/http';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { WEBHOOK_SECRET, useProcoreApp, waitFor, waitForIdle } from './procore-test-kit';

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
  const events = () => sql(`select id, dedupe_key, project_id, procore_user_id, outcome, processed_at from webhook_event order by id`);
  const processed = () => waitFor(async () => (await sql(`select id from webhook_event where processed_at is null`)).length === 0, 'every event to be processed');

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
    expect(await sql(`select * from webhook_event`)).toEqual([]);
    expect(await sql(`select * from pending_work`)).toEqual([]);
  });

  it('a malformed payload → 400 naming the problem, nothing stored', async () => {
    const valid = snapshotEvent();
    const cases: Array<[unknown, RegExp]> = [
      [[valid], /must be a JSON object/],
      [{ ...valid, id: 'x1', ulid: undefined }, /id must be a positive whole number/],
      [{ ...valid, project_id: '1001' }, /project_id must be a positive whole number/],
      [{ ...valid, resource_name: 42 }, /resource_name must be non-empty text/],
      [{ ...valid, ulid: ['01J'] }, /ulid must be text/],
      [{ ...valid, id: undefined, ulid: undefined }, /needs an id or a ulid/],
      // A null ulid without an id would be stored under `id:null` and every later such event dropped as a duplicate.
      [{ ...valid, id: undefined, ulid: null }, /needs an id or a ulid/],
      [{ ...valid, id: null, ulid: null }, /needs an id or a ulid/],
      // PostgreSQL cannot store a NUL character: a 500 here would have Procore deliver it again forever.
      [{ ...valid, metadata: { note: 'line\u0000note' } }, /NUL character/],
      [{ ...valid, resource_name: 'Budget Line Items\u0000' }, /NUL character/],
    ];
    for (const [body, message] of cases) {
      const res = await request(t.url, 'POST', '/webhooks/procore', { body, headers: { authorization: WEBHOOK_SECRET } });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.message).toMatch(message);
    }
    const broken = await request(t.url, 'POST', '/webhooks/procore', { rawBody: '{"id": 1,', headers: { authorization: WEBHOOK_SECRET } });
    expect(broken.status).toBe(400);
    expect(await sql(`select * from webhook_event`)).toEqual([]);
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
    expect(standIn.detailRowPageRequests()).toBe(4); // one read of the budget (38 lines, 10 per page)
  });

  it('events that do not concern a project budget are recorded as ignored', async () => {
    await deliver(snapshotEvent({ resource_name: 'RFIs', event_type: 'create' }));
    await deliver(standIn.webhookPayload({ resource_name: 'Line Item Types', event_type: 'update', project_id: null }));
    await deliver(snapshotEvent({ company_id: 99 }));
    await processed();
    expect((await events()).map((event) => event.outcome)).toEqual([
      'ignored: "RFIs" events do not affect budgets',
      'ignored: a company-level change; it applies to the budgets sent from now on',
      'ignored: company 99 is not the configured company (PROCORE_COMPANY_ID)',
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
