/**
 * Issue 8, the Procore side, end to end against the stand-ins (Procore's published shapes, and a
 * Spectrum stand-in): the revised estimate is the view's "Revised Budget" column (approved change
 * orders and budget changes included) all the way to Spectrum; a view without it is refused, on
 * every path; and every unlock the connector makes keeps the budget's modifications.
 */
import { parseMoney, formatMoney } from '../../src/common/money';
import { ProjectPoller } from '../../src/procore/polling/project-poller.service';
import { sql, resetDatabase, resetRedis } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { JOB, SPECTRUM_JOBS, resetSpectrum, spectrumEnv, startSpectrum } from '../export/export-kit';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { BudgetLineInput, ProcoreStandIn, SAMPLE_USERS, generateBudgetLines } from '../stand-ins/procore';
import { FAST_PROCORE, PROCORE_JOBS, WEBHOOK_SECRET, waitForIngestion } from './procore-test-kit';
import { waitFor } from '../support/wait';

const PROJECT = 1001;
const NO_REVISED = 1002;

/** 60 lines; approved change orders on every third, approved budget changes on every other one,
 * budget modifications (which an unlock must keep) on every fourth. */
function busyBudget(): BudgetLineInput[] {
  return generateBudgetLines(60, 11).map((line, i) => ({
    ...line,
    approvedCos: i % 3 === 0 ? `${1000 + i}.25` : '0.00',
    approvedBudgetChanges: i % 2 === 0 ? `${-500 + i * 7}.10` : '0.00',
    budgetModifications: i % 4 === 0 ? `${250 + i}.40` : '0.00',
  }));
}

describe('Procore as published, end to end', () => {
  const procore = new ProcoreStandIn();
  let spectrum: SpectrumStandIn;
  let t: TestApp;
  let sender: UserWithToken;
  let approver: UserWithToken;

  beforeAll(async () => {
    await procore.start();
    spectrum = await startSpectrum();
    await resetDatabase();
    await resetRedis();
    t = await startTestApp({
      env: { ...procore.environment(), ...spectrumEnv(spectrum), PROCORE_WEBHOOK_SECRET: WEBHOOK_SECRET, PROCORE_PER_PAGE: '25' },
      runWorkers: true,
      jobs: [...PROCORE_JOBS, ...SPECTRUM_JOBS],
      timings: FAST_PROCORE,
    });
  });
  afterAll(async () => {
    await t?.close();
    await procore.stop();
    await spectrum?.stop();
  });
  beforeEach(async () => {
    await resetDatabase();
    procore.reset();
    resetSpectrum(spectrum);
    procore.addUser(SAMPLE_USERS.projectManager);
    procore.addProject({ id: PROJECT, name: 'Riverside Medical Office Building', project_number: JOB, budgetViewId: 2001 });
    procore.setBudgetLines(PROJECT, busyBudget());
    procore.addProject({ id: NO_REVISED, name: 'Cost view only', project_number: '26-102', withDefaultView: false });
    procore.addBudgetView(NO_REVISED, { id: 2002, name: 'Cost to complete', columns: ['Approved COs', 'Direct Costs', 'Projected Budget'] });
    procore.setBudgetLines(NO_REVISED, [
      { costCode: '01-100', category: 'L', originalBudget: '45000.00', approvedCos: '5000.00', budgetModifications: '1200.00' },
      { costCode: '03-300', category: 'M', originalBudget: '1000.00', budgetModifications: '-50.00' },
    ]);
    sender = await createUser(t.em(), { erpPermission: 'standard', name: 'Sender' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Approver' });
  });

  const send = async (projectId: number) => {
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(projectId) });
    expect(res.status).toBe(202);
    return waitForIngestion(res.body.id);
  };
  const statusOf = async (id: string) => (await sql(`select status from submission where id = $1`, [id]))[0].status;
  const modifications = (projectId: number) => procore.budgetLines(projectId).map((line) => line.budget_modifications);
  const unlockedKeepingModifications = async (projectId: number, before: string[]) => {
    await waitFor(async () => !procore.isLocked(projectId), 'the budget to be unlocked in Procore');
    expect(procore.unlockRequests).toEqual([{ projectId, destroyAllBudgetLineItemTransfers: 'false', destroyedModifications: false }]);
    expect(modifications(projectId)).toEqual(before);
    expect(before.some((m) => m !== '0.00')).toBe(true);
  };

  it('every exported Current_Est_Cost is the view’s "Revised Budget" to the cent; the API totals are the view’s; unlock after synced keeps the modifications', async () => {
    const lines = procore.budgetLines(PROJECT);
    const column = (line: { id: number }, name: string) => parseMoney(procore.columnAmounts(line.id)[name]).cents;
    // Approved COs and budget changes are in the revised column and nowhere in original + modifications.
    expect(lines.filter((l) => column(l, 'Approved COs') !== 0n).length).toBeGreaterThan(10);
    expect(lines.filter((l) => l.approved_budget_changes !== '0.00').length).toBeGreaterThan(10);
    const viewRevised = lines.reduce((sum, l) => sum + column(l, 'Revised Budget'), 0n);
    const viewOriginal = lines.reduce((sum, l) => sum + parseMoney(l.original_budget_amount).cents, 0n);
    const sumOfModifications = lines.reduce((sum, l) => sum + parseMoney(l.original_budget_amount).cents + parseMoney(l.budget_modifications).cents, 0n);
    expect(viewRevised).not.toBe(sumOfModifications);

    const submission = await send(PROJECT);
    expect(submission.status).toBe('ready_to_export');
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${submission.id}`);
    expect(details.body.totals).toEqual({
      originalBudget: formatMoney(viewOriginal),
      budgetChanges: formatMoney(viewRevised - viewOriginal),
      revisedEstimate: formatMoney(viewRevised),
    });

    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(202);
    await waitFor(async () => (await statusOf(submission.id)) === 'synced', 'the budget to be exported and reconciled', 30_000);

    // Each Spectrum row: the sum of its lines' "Revised Budget" (and original budget), to the cent.
    const expected = new Map<string, { current: bigint; original: bigint }>();
    for (const line of lines) {
      const key = `${line.cost_code.split(' - ')[0].replace(/-/g, '')}/${procore.lineItemTypesList().find((t) => t.id === line.category_id)?.code}`;
      const row = expected.get(key) ?? { current: 0n, original: 0n };
      row.current += column(line, 'Revised Budget');
      row.original += parseMoney(line.original_budget_amount).cents;
      expected.set(key, row);
    }
    const written = new Map(spectrum.listPhases(JOB).map((p) => [`${p.phaseCode}/${p.costType}`, { current: p.currentEstCost, original: p.originalEstCost }]));
    expect(written.size).toBe(expected.size);
    for (const [key, row] of expected) expect({ key, ...written.get(key) }).toEqual({ key, ...row });

    const before = modifications(PROJECT);
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/unlock`)).status).toBe(202);
    await unlockedKeepingModifications(PROJECT, before);
  });

  it('reject unlocks, keeping the modifications (the stand-in saw destroy_all_budget_line_item_transfers=false)', async () => {
    const submission = await send(PROJECT);
    const before = modifications(PROJECT);
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/reject`, { reason: 'Wrong phases' })).status).toBe(200);
    await unlockedKeepingModifications(PROJECT, before);
  });

  it('retrieve unlocks, keeping the modifications', async () => {
    const submission = await send(PROJECT);
    const before = modifications(PROJECT);
    expect((await api(t.url, sender.token).post(`/api/v1/budgets/${submission.id}/retrieve`)).status).toBe(200);
    await unlockedKeepingModifications(PROJECT, before);
  });

  it('a view without the revised column: ingest_failed naming the view and its columns; the budget the connector locked is unlocked, modifications kept', async () => {
    const before = modifications(NO_REVISED);
    const submission = await send(NO_REVISED);
    expect(submission.status).toBe('ingest_failed');
    expect(submission.ingest_error).toBe(
      'Budget view "Cost to complete" (2002) of Procore project 1002 has no "Revised Budget" column, so the budget\'s revised estimate cannot be read ' +
        '(its columns are "Approved COs", "Direct Costs", "Projected Budget"). Show the column in the view, or set PROCORE_REVISED_COLUMN to the name the view gives it.',
    );
    expect(await sql(`select count(*)::int as n from submission_line`)).toEqual([{ n: 0 }]);
    await unlockedKeepingModifications(NO_REVISED, before);
  });

  it('the polling and webhook paths open the submission and end it ingest_failed with the message, once', async () => {
    procore.setLocked(NO_REVISED, true);
    await t.get(ProjectPoller).sweep();
    const [failed] = await sql(`select id, status, source, ingest_error from submission where procore_project_id = '${NO_REVISED}'`);
    expect(failed).toMatchObject({ status: 'ingest_failed', source: 'poll', ingest_error: expect.stringMatching(/^Budget view "Cost to complete" \(2002\) .* has no "Revised Budget" column/) });

    // Nothing new while the budget still cannot be read: not by the next sweep, nor by a webhook.
    await t.get(ProjectPoller).sweep();
    procore.addHook({ namespace: 'connector', destinationUrl: `${t.url}/webhooks/procore`, destinationHeaders: { Authorization: WEBHOOK_SECRET }, projectId: NO_REVISED });
    expect(await procore.deliverWebhook({ project_id: NO_REVISED, user_id: SAMPLE_USERS.projectManager.id, resource_name: 'Budget View Snapshots', event_type: 'create' })).toEqual([202]);
    await waitFor(async () => (await sql(`select id from webhook_event where processed_at is null`)).length === 0 && (await sql(`select id from webhook_event`)).length === 1, 'the webhook to be processed');
    expect(await sql(`select outcome from webhook_event`)).toEqual([{ outcome: `the budget still cannot be read (submission ${failed.id}); nothing created` }]);
    expect(await sql(`select status from submission where procore_project_id = '${NO_REVISED}'`)).toEqual([{ status: 'ingest_failed' }]);
    // The connector did not lock it, so it leaves it locked.
    expect(procore.isLocked(NO_REVISED)).toBe(true);
    expect(procore.unlockRequests).toEqual([]);
  });
});
