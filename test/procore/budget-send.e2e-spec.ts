import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, resetDatabase } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, seedSampleProject } from '../stand-ins/procore';
import { startProcoreApp, waitForIngestion } from './procore-test-kit';

const MAPPING = `
# Two cost codes of project 1003 share one Spectrum phase.
projects:
  "1003":
    phases:
      02-100: "02000"
      02-200: "02000"
`;

describe('POST /api/v1/budgets: supersede, 409, flagged rows and exact money', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let sender: UserWithToken;
  let approver: UserWithToken;

  beforeAll(async () => {
    await standIn.start();
    await resetDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'connector-mapping-'));
    writeFileSync(join(dir, 'mapping.yaml'), MAPPING);
    t = await startProcoreApp(standIn, { MAPPING_FILE: join(dir, 'mapping.yaml') });
  });
  afterAll(async () => {
    await t?.close();
    await standIn.stop();
  });
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    sender = await createUser(t.em(), { erpPermission: 'standard' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Approver' });
  });

  const send = (projectId: number | string, token = sender.token) => api(t.url, token).post('/api/v1/budgets', { procoreProjectId: String(projectId) });

  it('a ready_to_export submission is superseded by a send of a changed budget, and the answer says so', async () => {
    const first = await send(SAMPLE_PROJECT_ID);
    await waitForIngestion(first.body.id);
    const [line] = await sql(`select procore_line_id from submission_line where submission_id = $1 order by position limit 1`, [first.body.id]);
    standIn.updateBudgetLine(Number(line.procore_line_id), { originalBudget: '412600.00' });
    const second = await send(SAMPLE_PROJECT_ID);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ status: 'ingesting', unchanged: false, supersededSubmissionId: first.body.id });
    expect(await waitForIngestion(second.body.id)).toMatchObject({ status: 'ready_to_export' });
    expect(await sql(`select id, status from submission order by id`)).toEqual([
      { id: first.body.id, status: 'superseded' },
      { id: second.body.id, status: 'ready_to_export' },
    ]);
    const [event] = await sql(`select action, from_status, to_status, actor_id from audit_event where submission_id = $1 and action = 'supersede'`, [
      first.body.id,
    ]);
    expect(event).toEqual({ action: 'supersede', from_status: 'ready_to_export', to_status: 'superseded', actor_id: sender.user.id });
    // The budget was locked by the project manager, so the connector never locked it.
    expect(standIn.countRequests({ path: '/budget/lock' })).toBe(0);
  });

  it('sending the budget the ready_to_export submission already holds (a double click) → 200 with that submission, unchanged, nothing created', async () => {
    const first = await send(SAMPLE_PROJECT_ID);
    expect(first.body).toMatchObject({ unchanged: false, supersededSubmissionId: null });
    await waitForIngestion(first.body.id);
    const again = await send(SAMPLE_PROJECT_ID);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, status: 'ready_to_export', unchanged: true });
    expect(await sql(`select id, status from submission`)).toEqual([{ id: first.body.id, status: 'ready_to_export' }]);
    expect(await sql(`select count(*)::int as jobs from pending_work where job_name = 'ingest-submission'`)).toEqual([{ jobs: 1 }]);
    const history = await sql(`select action, actor_id from audit_event where submission_id = $1 order by id`, [first.body.id]);
    expect(history).toEqual([
      { action: 'send', actor_id: sender.user.id },
      { action: 'ingested', actor_id: null },
      { action: 'send_unchanged', actor_id: sender.user.id },
    ]);

    // Unlocked in Procore meanwhile: the send goes ahead (its ingestion locks the budget again).
    standIn.setLocked(SAMPLE_PROJECT_ID, false);
    const relock = await send(SAMPLE_PROJECT_ID);
    expect(relock.status).toBe(202);
    expect(relock.body).toMatchObject({ unchanged: false, supersededSubmissionId: first.body.id });
    expect(await waitForIngestion(relock.body.id)).toMatchObject({ status: 'ready_to_export', locked_by_connector: true });
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
  });

  it('any other open submission → 409 with the reason, and nothing is created', async () => {
    const exporting = await createSubmission(t.em(), { status: 'exporting', procoreProjectId: String(SAMPLE_PROJECT_ID) });
    const res = await send(SAMPLE_PROJECT_ID);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      statusCode: 409,
      error: 'Conflict',
      message: `Project ${SAMPLE_PROJECT_ID} already has budget submission ${exporting.id}, which is exporting: it is being exported to Spectrum. A new budget can be sent once it is done.`,
      submissionId: exporting.id,
      status: 'exporting',
    });
    expect(await sql(`select id, status from submission`)).toEqual([{ id: exporting.id, status: 'exporting' }]);
    expect(await sql(`select * from pending_work`)).toEqual([]);
  });

  it('concurrent sends of one project: one 202, the others 409', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => send(SAMPLE_PROJECT_ID)));
    const statuses = results.map((res) => res.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409, 409, 409]);
    const accepted = results.find((res) => res.status === 202)!;
    await waitForIngestion(accepted.body.id);
    expect(await sql(`select count(*)::int as count from submission`)).toEqual([{ count: 1 }]);
  });

  it('needs send permission and a Procore project id', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    expect((await send(SAMPLE_PROJECT_ID, viewer.token)).status).toBe(403);
    for (const body of [{}, { procoreProjectId: 'abc' }, { procoreProjectId: -5 }, { procoreProjectId: 1.5 }, { procoreProjectId: '1001', extra: 1 }]) {
      const res = await api(t.url, sender.token).post('/api/v1/budgets', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await api(t.url).post('/api/v1/budgets', { procoreProjectId: '1001' })).status).toBe(401);
    expect(await sql(`select * from submission`)).toEqual([]);
  });

  it('re-sending a project whose last submission was rejected emails the approvers', async () => {
    await createSubmission(t.em(), { status: 'rejected', procoreProjectId: String(SAMPLE_PROJECT_ID) });
    const res = await send(SAMPLE_PROJECT_ID);
    await waitForIngestion(res.body.id);
    const emails = await sql(`select kind, recipient_email, submission_id from notification`);
    expect(emails).toEqual([{ kind: 'resent', recipient_email: approver.user.email, submission_id: res.body.id }]);
    const [ingested] = await sql(`select id from audit_event where submission_id = $1 and action = 'ingested'`, [res.body.id]);
    expect(await sql(`select audit_event_id from notification`)).toEqual([{ audit_event_id: ingested.id }]);
  });

  it('an unmappable category, a phase too long and an amount too large are flagged, naming the lines; accept → 409 with the reasons', async () => {
    standIn.addProject({ id: 1004, name: 'Flagged', project_number: '26-104' });
    standIn.addLineItemType({ code: '', name: 'Widgets' });
    standIn.setBudgetLines(1004, [
      { costCode: '01-100', costCodeName: 'General Conditions', category: 'L', originalBudget: '1000.00' },
      { costCode: '02-200', costCodeName: 'Sitework', category: 'Widgets', originalBudget: '500.00' },
      { costCode: '01-1000-2000-3000-4000-5000', costCodeName: 'Deep code', category: 'L', originalBudget: '10.00' },
      { costCode: '03-100', costCodeName: 'Concrete', category: 'M', originalBudget: '600000000.00' },
      { costCode: '03-100', costCodeName: 'Concrete', category: 'M', originalBudget: '500000000.00' },
    ]);
    standIn.setLocked(1004, true);
    const res = await send(1004);
    const row = await waitForIngestion(res.body.id);
    expect(row).toMatchObject({ status: 'ready_to_export', line_count: 5, row_count: 3, problem_count: 3 });

    const problems = [
      `Row 26-104/0110002000300040005000/L (line 3: 01-1000-2000-3000-4000-5000 Labor): phase "0110002000300040005000" is longer than Spectrum's 20 characters`,
      `Row 26-104/03100/M (lines 4, 5: 03-100 Material): the original budget 1100000000.00 does not fit Spectrum's 12 characters (at most 999999999.99); the revised estimate 1100000000.00 does not fit Spectrum's 12 characters (at most 999999999.99)`,
      'Line 2 (02-200 Widgets): category "Widgets" maps to no Spectrum cost type: add it under costTypes in the mapping file, or give the category a code in Procore',
    ];
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${res.body.id}`);
    expect(details.body.problems).toEqual(problems);
    expect(details.body.lines[1]).toMatchObject({ category: 'Widgets', phase: '02200', costType: null, problems: [problems[2]] });
    expect(details.body.lines[3].problems).toEqual([problems[1]]);

    const accept = await api(t.url, approver.token).post(`/api/v1/budgets/${res.body.id}/accept`);
    expect(accept.status).toBe(409);
    expect(accept.body.message).toMatch(/^This budget has 3 problem\(s\) and cannot be accepted: /);
    expect(accept.body.problems).toEqual(problems);
    expect(await sql(`select status from submission`)).toEqual([{ status: 'ready_to_export' }]);
  });

  it('0.10 + 0.20 and 1,234,567.89 survive to the cent, amounts arriving as JSON numbers', async () => {
    standIn.addProject({ id: 1003, name: 'Exact money', project_number: '26-103', withDefaultView: false });
    standIn.addBudgetView(1003, { name: 'Original, COs and revised', columns: ['Approved COs', 'Revised Budget'] });
    standIn.setAmountFormat('number');
    standIn.setBudgetLines(1003, [
      { costCode: '02-100', costCodeName: 'Demolition', category: 'L', originalBudget: '0.10', budgetModifications: '0.10', approvedCos: '0.20' },
      { costCode: '02-200', costCodeName: 'Earthwork', category: 'L', originalBudget: '0.20', budgetModifications: '0.20', approvedCos: '0.10' },
      { costCode: '03-300', costCodeName: 'Concrete', category: 'S', originalBudget: '1234567.89', approvedCos: '0.01' },
    ]);
    standIn.setLocked(1003, true);
    const res = await send(1003);
    await waitForIngestion(res.body.id);
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${res.body.id}`);
    expect(details.body.lines.map((l: Record<string, string>) => [l.costCode, l.originalBudget, l.budgetChanges, l.revisedEstimate, l.phase])).toEqual([
      ['02-100', '0.10', '0.30', '0.40', '02000'],
      ['02-200', '0.20', '0.30', '0.50', '02000'],
      ['03-300', '1234567.89', '0.01', '1234567.90', '03300'],
    ]);
    expect(details.body.rows.map((r: Record<string, string>) => [r.phase, r.costType, r.originalBudget, r.revisedEstimate])).toEqual([
      ['02000', 'L', '0.30', '0.90'],
      ['03300', 'S', '1234567.89', '1234567.90'],
    ]);
    expect(details.body.totals).toEqual({ originalBudget: '1234568.19', budgetChanges: '0.61', revisedEstimate: '1234568.80' });
    expect(await sql(`select original_budget::text, revised_estimate::text from submission_row order by position`)).toEqual([
      { original_budget: '0.30', revised_estimate: '0.90' },
      { original_budget: '1234567.89', revised_estimate: '1234567.90' },
    ]);
  });
});
