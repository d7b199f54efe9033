import { BudgetCheck } from '../../src/procore/ingestion/budget-check.service';
import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { resetDatabase, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { useProcoreApp, waitForIdle, waitForIngestion, WEBHOOK_SECRET } from '../procore/procore-test-kit';
import { waitFor } from '../support/wait';

const OUTSIDE = 1002;
const REFUSAL = `Procore project ${OUTSIDE} is not one of the projects this connector handles (PROCORE_PROJECT_IDS); nothing was sent, read or locked`;

describe('project scope (PROCORE_PROJECT_IDS set)', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let sender: UserWithToken;
  let colleague: UserWithToken;

  useProcoreApp(standIn, { PROCORE_PROJECT_IDS: String(SAMPLE_PROJECT_ID) }, (app) => (t = app));
  beforeEach(async () => {
    await waitForIdle();
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    standIn.addProject({ id: OUTSIDE, name: 'Not ours', project_number: '26-102' });
    standIn.setBudgetLines(OUTSIDE, [{ costCode: '01-100', category: 'L', originalBudget: '10.00' }]);
    standIn.setLocked(OUTSIDE, true);
    sender = await createUser(t.em(), { erpPermission: 'standard', name: 'Sam Sender', email: 'sam@example.com' });
    colleague = await createUser(t.em(), { erpPermission: 'standard', name: 'Cora Colleague', email: 'cora@example.com' });
    standIn.clearLog();
  });

  const procoreWasAsked = () => standIn.requests.filter((entry) => !entry.path.includes('/oauth/'));

  it('a send for a project outside it: 403 naming the project; nothing stored, nothing asked of Procore', async () => {
    standIn.setLocked(OUTSIDE, false);
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: OUTSIDE });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: REFUSAL });
    expect(await sql(`select * from submission`)).toEqual([]);
    expect(procoreWasAsked()).toEqual([]);
    expect(standIn.isLocked(OUTSIDE)).toBe(false);
    // In scope, as before.
    expect((await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: SAMPLE_PROJECT_ID })).status).toBe(202);
  });

  it('a webhook for a project outside it: acknowledged, stored as ignored, nothing asked of Procore', async () => {
    const destination = `${t.url}/webhooks/procore`;
    const events = [
      standIn.webhookPayload({ project_id: OUTSIDE, user_id: SAMPLE_USERS.projectManager.id, resource_name: 'Budget View Snapshots', event_type: 'create' }),
      standIn.webhookPayload({ project_id: OUTSIDE, resource_name: 'Projects', resource_id: OUTSIDE, event_type: 'create' }),
    ];
    for (const payload of events) expect(await standIn.deliverTo(destination, payload, { Authorization: WEBHOOK_SECRET })).toBe(202);
    await waitFor(async () => (await sql(`select id from webhook_event where status = 'received'`)).length === 0, 'the events to be processed');
    expect(await sql(`select status, outcome from webhook_event order by id`)).toEqual([
      { status: 'processed', outcome: `ignored: ${REFUSAL}` },
      { status: 'processed', outcome: `ignored: ${REFUSAL}` },
    ]);
    expect(await sql(`select * from submission`)).toEqual([]);
    expect(procoreWasAsked()).toEqual([]);
  });

  it('a poll visits only the projects in scope, and a check of another project is refused without Procore', async () => {
    await t.get(Outbox).enqueue(JobName.PollProjects, { window: `test-${Date.now()}` });
    await waitForIdle([JobName.PollProjects]);
    expect(await sql(`select procore_project_id from submission`)).toEqual([{ procore_project_id: String(SAMPLE_PROJECT_ID) }]);
    standIn.clearLog();
    expect(await t.get(BudgetCheck).check(OUTSIDE, { source: 'poll', actor: { label: 'system' }, note: 'test' })).toEqual({ outcome: `ignored: ${REFUSAL}` });
    expect(procoreWasAsked()).toEqual([]);
  });

  it('a send recorded before the scope changed ends ingest_failed without locking anything', async () => {
    standIn.setLocked(OUTSIDE, false);
    const submission = await createSubmission(t.em(), { status: 'ingesting', procoreProjectId: String(OUTSIDE), sentBy: sender.user });
    await t.get(Outbox).enqueue(JobName.IngestSubmission, { submissionId: submission.id }, { dedupeKey: `ingest:${submission.id}` });
    expect(await waitForIngestion(submission.id)).toMatchObject({ status: 'ingest_failed', ingest_error: REFUSAL, locked_by_connector: false });
    expect(standIn.isLocked(OUTSIDE)).toBe(false);
    expect(procoreWasAsked()).toEqual([]);
  });

  describe("superseding someone else's budget", () => {
    async function sendAndWait(who: UserWithToken) {
      const res = await api(t.url, who.token).post('/api/v1/budgets', { procoreProjectId: SAMPLE_PROJECT_ID });
      expect(res.status).toBe(202);
      expect(await waitForIngestion(res.body.id)).toMatchObject({ status: 'ready_to_export' });
      return res.body;
    }
    async function changeTheBudget(amount: string) {
      const [line] = await sql(`select procore_line_id from submission_line order by id limit 1`);
      standIn.updateBudgetLine(Number(line.procore_line_id), { originalBudget: amount });
    }

    it('says so in the answer and in the audit trail of both submissions', async () => {
      const first = await sendAndWait(sender);
      await changeTheBudget('412600.00');
      const second = await api(t.url, colleague.token).post('/api/v1/budgets', { procoreProjectId: SAMPLE_PROJECT_ID });
      expect(second.status).toBe(202);
      expect(second.body).toMatchObject({
        supersededSubmissionId: first.id,
        supersededSentBy: { id: sender.user.id, name: 'Sam Sender', email: 'sam@example.com' },
        notice: expect.stringMatching(new RegExp(`^This replaces budget submission ${first.id}, which Sam Sender <sam@example.com> sent at .* and which was awaiting acceptance$`)),
      });
      const [supersede] = await sql<{ note: string; data: Record<string, unknown>; actor_id: string }>(
        `select note, data, actor_id from audit_event where submission_id = $1 and action = 'supersede'`,
        [first.id],
      );
      expect(supersede.actor_id).toBe(colleague.user.id);
      expect(supersede.note).toContain(second.body.notice);
      expect(supersede.data).toMatchObject({ supersededSentBy: { id: sender.user.id }, newSenderId: colleague.user.id });
      const [send] = await sql<{ note: string }>(`select note from audit_event where submission_id = $1 and action = 'send'`, [second.body.id]);
      expect(send.note).toContain(second.body.notice);
    });

    it('one\u2019s own earlier send is replaced without a notice', async () => {
      const first = await sendAndWait(sender);
      await changeTheBudget('412700.00');
      const second = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: SAMPLE_PROJECT_ID });
      expect(second.body).toMatchObject({ supersededSubmissionId: first.id });
      expect(second.body.notice).toBeUndefined();
      expect(second.body.supersededSentBy).toBeUndefined();
    });
  });
});
