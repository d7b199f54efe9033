import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { resetDatabase, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { useProcoreApp, waitForIdle, waitForIngestion, WEBHOOK_SECRET, FAST_PROCORE } from '../procore/procore-test-kit';
import { waitFor } from '../support/wait';

const REFUSAL = /You sent this budget.*REQUIRE_INDEPENDENT_APPROVER.*someone else.*You can still reject it/;

describe('separation of duties (REQUIRE_INDEPENDENT_APPROVER=true)', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let admin: UserWithToken;
  let approver: UserWithToken;
  let other: UserWithToken;

  useProcoreApp(standIn, { REQUIRE_INDEPENDENT_APPROVER: 'true' }, (app) => (t = app));
  beforeEach(async () => {
    await waitForIdle(); // e.g. the unlock a reject recorded: never truncate under a running job
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    admin = await createUser(t.em(), { erpPermission: 'admin' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Approver A' });
    other = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Approver B' });
  });

  it('an explicit send: the sender cannot accept (403 with the reason) but may reject', async () => {
    const sent = await api(t.url, approver.token).post('/api/v1/budgets', { procoreProjectId: String(SAMPLE_PROJECT_ID) });
    expect(sent.status).toBe(202);
    expect(await waitForIngestion(sent.body.id)).toMatchObject({ status: 'ready_to_export', sent_by_id: approver.user.id });
    const refused = await api(t.url, approver.token).post(`/api/v1/budgets/${sent.body.id}/accept`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', message: expect.stringMatching(REFUSAL) });
    expect(await sql(`select status, decided_by_id from submission where id = $1`, [sent.body.id])).toEqual([{ status: 'ready_to_export', decided_by_id: null }]);
    expect(await sql(`select job_name from pending_work where job_name = 'export-submission'`)).toEqual([]);
    const rejected = await api(t.url, approver.token).post(`/api/v1/budgets/${sent.body.id}/reject`, { reason: 'I sent the wrong version' });
    expect(rejected.status).toBe(200);
  });

  it('the same budget is accepted by someone else', async () => {
    const submission = await createSubmission(t.em(), { sentBy: approver.user });
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(403);
    expect((await api(t.url, other.token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(202);
  });

  it("a webhook: the sender is the connector user linked to the webhook's user_id", async () => {
    // The Procore accountant (7002) locks and sends the budget in Procore; they are an approver in the connector too.
    await t.get(Outbox).enqueue(JobName.SyncUsers, { window: `test-${Date.now()}` });
    await waitForIdle([JobName.SyncUsers]);
    const [accountant] = await sql<{ id: string }>(`select id::text from app_user where procore_user_id = $1`, [String(SAMPLE_USERS.accountant.id)]);
    const token = (await api(t.url, admin.token).post(`/api/v1/users/${accountant.id}/tokens`, {})).body.token;
    const destination = `${t.url}/webhooks/procore`;
    const payload = standIn.webhookPayload({ project_id: SAMPLE_PROJECT_ID, user_id: SAMPLE_USERS.accountant.id, resource_name: 'Budget View Snapshots', event_type: 'create' });
    expect(await standIn.deliverTo(destination, payload, { Authorization: WEBHOOK_SECRET })).toBe(202);
    const [submission] = await waitFor(async () => {
      const rows = await sql<{ id: string; status: string; sent_by_id: string }>(`select id::text, status, sent_by_id::text from submission where status = 'ready_to_export'`);
      return rows.length ? rows : undefined;
    }, 'the webhook to open a submission');
    expect(submission.sent_by_id).toBe(accountant.id);
    const refused = await api(t.url, token).post(`/api/v1/budgets/${submission.id}/accept`);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(REFUSAL);
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(202);
  });

  it('a poll-opened budget has no sender: the rule does not apply', async () => {
    await t.get(Outbox).enqueue(JobName.PollProjects, { window: `test-${Date.now()}` });
    await waitForIdle([JobName.PollProjects, JobName.IngestSubmission]);
    const [submission] = await sql<{ id: string; sent_by_id: string | null; source: string }>(`select id::text, sent_by_id, source from submission`);
    expect(submission).toMatchObject({ sent_by_id: null, source: 'poll' });
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(202);
  });
});

describe('separation of duties off (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ timings: FAST_PROCORE });
  });
  afterAll(() => t?.close());

  it('the sender may accept', async () => {
    expect(t.config.requireIndependentApprover).toBe(false);
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const submission = await createSubmission(t.em(), { sentBy: approver.user });
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(202);
  });
});
