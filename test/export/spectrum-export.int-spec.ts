import { SpectrumExporter } from '../../src/spectrum/spectrum-exporter.service';
import { ExportBusyError } from '../../src/spectrum/export.errors';
import { resetDatabase, sql } from '../support/database';
import { createSubmission, createUser, LineSpec, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestWorker, TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, expectExactInSpectrum, JOB, ledger, manyLines, resetSpectrum, sendsAfterSeenSuccess, SPECTRUM_JOBS, spectrumEnv, useSpectrumApp, waitForStatus } from './export-kit';
import { waitFor } from '../support/wait';

/**
 * The export's pending work once the worker marked it done: the status changes inside the job, the
 * work is marked done after the job returns, so a test waits for it rather than reading it at once.
 */
async function exportWorkDone(): Promise<{ attempts: number; state: string }> {
  const [work] = await waitFor(
    () => sql<{ attempts: number; state: string }>(`select attempts, state from pending_work where job_name = 'export-submission'`),
    'the export work to be marked done',
    { until: ([w]) => w?.state === 'done' },
  );
  return work;
}

/** Export to Spectrum over real SOAP (stand-in), through the real app, queue, PostgreSQL and Redis. */
describe('export to Spectrum', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let approver: UserWithToken;

  useSpectrumApp((spectrum, app) => {
    standIn = spectrum;
    t = app;
  });
  beforeEach(async () => {
    await resetDatabase();
    resetSpectrum(standIn);
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });

  it('writes every row exactly to the cent with the right AddPhase fields, then reconciles it synced', async () => {
    standIn.setPhase({ jobNumber: JOB, phaseCode: '03300', costType: 'M', description: 'Cast-in-Place Concrete', priceMethodCode: 'J', originalEstCost: '1000.00' });
    const lines: LineSpec[] = [
      { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1250_00n, changes: 25_50n, description: 'General Conditions' },
      { costCode: '01-110', category: 'Labor', phase: '01100', costType: 'L', original: 10_01n, changes: -1n, description: 'Site supervision' },
      { costCode: '01-100', category: 'Material', phase: '01100', costType: 'M', original: 333_33n, description: 'General Conditions' },
      { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 98765_43n, changes: 1234_56n, description: 'Concrete (budget text)' },
      { costCode: '03-300', category: 'Subcontract', phase: '03300', costType: 'S', original: 5000_00n, changes: -1n, description: 'Concrete (budget text)' },
      { costCode: '08-100', category: 'Material', phase: '08100', costType: 'M', original: 0n, changes: 1_00n, description: 'Doors & Frames <Type A> — Béton coulé' },
    ];
    const submission = await createSubmission(t.em(), { lines, sentBy: approver.user });

    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');

    await expectExactInSpectrum(standIn, submission.id);
    expect(standIn.getPhase(JOB, '01100', 'L')).toMatchObject({ originalEstCost: 1260_01n, currentEstCost: 1285_50n, priceMethodCode: 'J' });
    // An existing phase keeps its text; a new phase gets the budget's, cut to 25 characters.
    expect(standIn.getPhase(JOB, '03300', 'M')!.description).toBe('Cast-in-Place Concrete');
    expect(standIn.getPhase(JOB, '08100', 'M')!.description).toBe('Doors & Frames <Type A> —');

    // One AddPhase per row; Price_Method_Code only for rows Spectrum lacked; Description for phases it
    // lacked and, for a new cost type on an existing phase, exactly the text Spectrum holds (never the budget's).
    const calls = standIn.requests('AddPhase');
    expect(calls).toHaveLength(5);
    const sent = Object.fromEntries(calls.map((c) => [`${c.fields.Phase_Code}/${c.fields.Cost_Type}`, c.fields]));
    const blank = {
      GUID: '', Status_Code: '', Unit_of_Measure: '', Original_Est_Quantity: '', Original_Est_Hours: '',
      Current_Est_Quantity: '', Current_Est_Hours: '', Bid_Item_Number: '', Alt_Phase_Code: '', Work_Comp_Code: '', Phase_Cost_Center: '',
    };
    const expected = (phase: string, costType: string, original: string, current: string, description: string, priceMethod: string) => ({
      Authorization_ID: 'API', Company_Code: 'ABC', Job_Number: JOB, Phase_Code: phase, Cost_Type: costType, ...blank,
      Description: description, Original_Est_Cost: original, Current_Est_Cost: current, Price_Method_Code: priceMethod,
    });
    expect(sent).toEqual({
      '01100/L': expected('01100', 'L', '1260.01', '1285.50', 'General Conditions', 'J'),
      '01100/M': expected('01100', 'M', '333.33', '333.33', 'General Conditions', 'J'),
      '03300/M': expected('03300', 'M', '98765.43', '99999.99', '', ''),
      '03300/S': expected('03300', 'S', '5000.00', '4999.99', 'Cast-in-Place Concrete', 'J'),
      '08100/M': expected('08100', 'M', '0.00', '1.00', 'Doors & Frames <Type A> —', 'J'),
    });
    expect(standIn.requests('GetJob').length).toBeGreaterThanOrEqual(1);

    // The ledger: every row written once, with what the export did in Spectrum.
    const rows = await ledger(submission.id);
    expect(rows.map((r) => [`${r.phase}/${r.cost_type}`, r.export_state, r.spectrum_action, r.export_attempts, r.written_at !== null])).toEqual([
      ['01100/L', 'written', 'new_phase', 1, true],
      ['01100/M', 'written', 'new_row', 1, true],
      ['03300/M', 'written', 'update', 1, true],
      ['03300/S', 'written', 'new_row', 1, true],
      ['08100/M', 'written', 'new_phase', 1, true],
    ]);
    const [state] = await sql(`select exported_at from submission where id = $1`, [submission.id]);
    expect(state.exported_at).toBeInstanceOf(Date);
    const history = await sql(`select action, from_status, to_status from audit_event where submission_id = $1 order by id`, [submission.id]);
    expect(history).toEqual([
      { action: 'accept', from_status: 'ready_to_export', to_status: 'exporting' },
      { action: 'exported', from_status: 'exporting', to_status: 'exported' },
      { action: 'reconciledSynced', from_status: 'exported', to_status: 'synced' },
    ]);

    const details = await api(t.url, approver.token).get(`/api/v1/budgets/${submission.id}`);
    expect(details.body.rows.every((r: { exportState: string; error: unknown }) => r.exportState === 'written' && r.error === null)).toBe(true);
    const report = await api(t.url, approver.token).get(`/api/v1/budgets/${submission.id}/reconciliation`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      outcome: 'synced',
      spectrumCompany: 'ABC',
      job: JOB,
      varianceCount: 0,
      totals: { procoreRevised: '106619.81', spectrumEstimated: '106619.81', variance: '0.00' },
    });
    expect(report.body.rows.map((r: { status: string }) => r.status)).toEqual(Array(5).fill('matched'));
  });

  it('with 20 % server faults and cut-off responses: still exact and synced, and no row is sent again once its success was seen', async () => {
    // The stand-in draws each call's fault from the seed and the call itself, not from arrival
    // order: the same pattern on every run, whatever the concurrency does.
    resetSpectrum(standIn, { faultRate: 0.2, truncateRate: 0.05, truncate: { mode: 'between-records' }, seed: 7 });
    standIn.truncateNext(1, { services: ['GetJob'], mode: 'between-records', keepRecords: 0 });
    standIn.truncateNext(2, { services: ['GetPhase'], mode: 'inside-record', keepRecords: 1 });
    standIn.setPhase({ jobNumber: JOB, phaseCode: '20001', costType: 'L', description: 'Existing', priceMethodCode: 'J', originalEstCost: '1.00' });
    standIn.setPhase({ jobNumber: JOB, phaseCode: '20001', costType: 'M', description: 'Existing', priceMethodCode: 'J', originalEstCost: '2.00' });
    const submission = await createSubmission(t.em(), { lines: manyLines(40) });

    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 30_000)).toBe('synced');

    await expectExactInSpectrum(standIn, submission.id);
    const outcomes = standIn.requests().map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'fault').length).toBeGreaterThan(5);
    expect(outcomes.filter((o) => o === 'truncated').length).toBeGreaterThanOrEqual(3);
    const { rowsWithSuccess, violations } = sendsAfterSeenSuccess(standIn);
    expect(violations).toEqual([]);
    expect(rowsWithSuccess).toBe(40);
    expect(standIn.getPhase(JOB, '20001', 'L')!.description).toBe('Existing');
    const counts: Record<string, number> = {};
    for (const r of standIn.requests()) counts[`${r.service} ${r.outcome}`] = (counts[`${r.service} ${r.outcome}`] ?? 0) + 1;
    expect(counts).toEqual({
      'GetJob truncated': 2,
      'GetJob ok': 1,
      // Two reads per job each time (Active and Inactive, then Complete): the export's and the reconciliation's.
      'GetPhase truncated': 3,
      'GetPhase ok': 4,
      'AddPhase fault': 6,
      'AddPhase ok': 40,
    });
  });

  it('faults after the write went through (faultAfterApply): still exact and synced, and no row is sent again once the connector saw its success', async () => {
    resetSpectrum(standIn, { faultRate: 0.3, faultAfterApply: true, seed: 11 });
    const submission = await createSubmission(t.em(), { lines: manyLines(40) });

    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 30_000)).toBe('synced');

    await expectExactInSpectrum(standIn, submission.id);
    const addPhases = standIn.requests('AddPhase');
    const unseen = addPhases.filter((r) => r.outcome === 'fault');
    // Writes applied although the connector saw a fault: it sent them again (harmless: AddPhase sets values).
    expect(unseen.length).toBeGreaterThan(5);
    expect(standIn.applied()).toHaveLength(addPhases.length);
    const { rowsWithSuccess, violations } = sendsAfterSeenSuccess(standIn);
    expect(violations).toEqual([]);
    expect(rowsWithSuccess).toBe(40);
    expect((await ledger(submission.id)).every((r) => r.export_state === 'written')).toBe(true);
  });

  it('a row meeting the identical server fault on every call stays pending while the queue retries; its last attempt reports it "Spectrum kept failing"', async () => {
    standIn.faultWhen((r) => r.service === 'AddPhase' && r.fields.Phase_Code === '20002' && r.fields.Cost_Type === 'M');
    const submission = await createSubmission(t.em(), { lines: manyLines(12) });
    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 30_000)).toBe('failed_to_export');

    const rows = await ledger(submission.id);
    const [bad] = rows.filter((r) => r.phase === '20002' && r.cost_type === 'M');
    expect(bad.export_state).toBe('failed');
    expect(bad.export_error).toEqual({
      code: 'spectrum_unavailable',
      column: null,
      message:
        'Spectrum kept failing: Spectrum AddPhase: gave up after 6 attempt(s) (same answer every time): SOAP fault SOAP-ENV:Server: Error executing Web Service. ' +
        'The row was not written; retry the export once Spectrum answers again.',
    });
    expect(rows.filter((r) => r !== bad).map((r) => r.export_state)).toEqual(Array(11).fill('written'));
    // Every queue attempt tried the row again (six calls each); only the last one gave up on it.
    expect(standIn.addPhaseCalls({ phaseCode: '20002', costType: 'M' })).toHaveLength(5 * 6);
    expect(await exportWorkDone()).toEqual({ attempts: 5, state: 'done' });
    standIn.faultWhen(undefined);
  });

  it('a row Spectrum rejects → failed_to_export with its message and column, the others written; after the fix a retry → synced without re-sending', async () => {
    const lines: LineSpec[] = [
      { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1000_00n, description: 'General Conditions' },
      { costCode: '02-200', category: 'Widgets', phase: '02200', costType: 'W', original: 250_75n, description: 'Widgets' },
      { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 42_00n, changes: 8_00n, description: 'Concrete' },
    ];
    const submission = await createSubmission(t.em(), { lines, sentBy: approver.user });

    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'failed_to_export'])).toBe('failed_to_export');

    const details = await api(t.url, approver.token).get(`/api/v1/budgets/${submission.id}`);
    expect(details.body.rows.map((r: { phase: string; exportState: string; error: unknown }) => [r.phase, r.exportState, r.error])).toEqual([
      ['01100', 'written', null],
      ['02200', 'failed', { code: 'I', message: 'Cost type W is not on file', column: 'Cost_Type' }],
      ['03300', 'written', null],
    ]);
    expect(standIn.getPhase(JOB, '01100', 'L')!.currentEstCost).toBe(1000_00n);
    const [event] = await sql(`select note from audit_event where submission_id = $1 and action = 'exportFailed'`, [submission.id]);
    expect(event.note).toBe('1 of 3 row(s) not written to Spectrum: 02200/W: I Cost type W is not on file [Cost_Type]');
    // The failure email is owed to the approver (who is also the sender): recorded with the transition.
    expect(await sql(`select kind, recipient_email from notification where submission_id = $1`, [submission.id])).toEqual([
      { kind: 'export_failed', recipient_email: approver.user.email },
    ]);

    standIn.addCostType('W', 'Widgets');
    const retry = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/retry`);
    expect(retry.status).toBe(202);
    expect(await waitForStatus(submission.id, ['synced', 'failed_to_export', 'out_of_sync'])).toBe('synced');
    await expectExactInSpectrum(standIn, submission.id);
    expect(Object.fromEntries(standIn.addPhaseCountsByRow())).toEqual({
      [`${JOB}|01100|L`]: 1,
      [`${JOB}|02200|W`]: 2,
      [`${JOB}|03300|M`]: 1,
    });
  });

  it.each([
    ['a job Spectrum does not have', '99-999', 'job_not_found', 'Job 99-999 not found in Spectrum: it is not among the company\'s Active, Inactive or Complete jobs'],
    ['a Complete job', '24-310', 'job_complete', 'Job 24-310 is Complete in Spectrum: Spectrum adds no phases to a Complete job'],
  ])('%s → every row failed with the reason; nothing is written', async (_label, job, code, message) => {
    const submission = await createSubmission(t.em(), { job });
    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'failed_to_export'])).toBe('failed_to_export');
    const rows = await ledger(submission.id);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.export_state).toBe('failed');
      expect(row.export_error).toMatchObject({ code, column: 'Job_Number' });
      expect(row.export_error!.message.startsWith(message)).toBe(true);
    }
    expect(standIn.requests('AddPhase')).toHaveLength(0);
  });

  it('Spectrum down through every queue attempt → failed_to_export "Spectrum kept failing"; once it is back a retry → synced', async () => {
    const submission = await createSubmission(t.em());
    await standIn.down();
    try {
      await accept(t.url, approver.token, submission.id);
      expect(await waitForStatus(submission.id, ['synced', 'failed_to_export'])).toBe('failed_to_export');
    } finally {
      await standIn.up();
    }
    const rows = await ledger(submission.id);
    for (const row of rows) {
      expect(row.export_state).toBe('failed');
      expect(row.export_error).toMatchObject({ code: 'spectrum_unavailable', column: null });
      expect(row.export_error!.message).toMatch(/^Spectrum kept failing: Spectrum GetJob: gave up after 6 attempt\(s\): network error \(ECONNREFUSED\)/);
    }
    expect(await exportWorkDone()).toEqual({ attempts: 5, state: 'done' });

    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/retry`)).status).toBe(202);
    expect(await waitForStatus(submission.id, ['synced', 'failed_to_export', 'out_of_sync'])).toBe('synced');
    await expectExactInSpectrum(standIn, submission.id);
  });

  it('never has more calls in flight than SPECTRUM_CONCURRENCY, across two worker processes', async () => {
    // Above 4 calls at once the stand-in faults, as real servers do under load.
    resetSpectrum(standIn, { latencyMs: 8, maxConcurrent: 4 });
    const second = await startTestWorker({ jobs: SPECTRUM_JOBS, env: spectrumEnv(standIn) });
    try {
      const jobs = ['26-201', '26-202', '26-203', '26-204'];
      const submissions = [];
      for (const job of jobs) {
        standIn.addJob({ jobNumber: job, description: `Project ${job}` });
        submissions.push(await createSubmission(t.em(), { job, lines: manyLines(25) }));
      }
      await Promise.all(submissions.map((s) => accept(t.url, approver.token, s.id)));
      for (const s of submissions) expect(await waitForStatus(s.id, ['synced', 'failed_to_export', 'out_of_sync'], 30_000)).toBe('synced');
      for (const [i, s] of submissions.entries()) await expectExactInSpectrum(standIn, s.id, jobs[i]);
      expect(standIn.peakConcurrent).toBe(4);
      expect(standIn.requests().filter((r) => r.outcome === 'fault')).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it("if the export lock's connection drops, the run stops before its next Spectrum call; the queue resumes it and no row is sent twice", async () => {
    resetSpectrum(standIn, { latencyMs: 20 });
    const submission = await createSubmission(t.em(), { lines: manyLines(40) });
    await accept(t.url, approver.token, submission.id);
    await waitFor(async () => standIn.requests('AddPhase').length, 'the first writes', { until: (n) => n >= 6 });
    // Slow Spectrum down until each of the run's 4 loops is inside a call: no loop is between calls.
    standIn.configure({ latencyMs: 1500 });
    const before = standIn.requests('AddPhase').length;
    await waitFor(async () => standIn.requests('AddPhase').length, 'every loop inside a slow call', { until: (n) => n >= before + 4 });
    // The lock's session ends (a failover, an administrator): PostgreSQL releases the lock.
    const killed = await sql<{ pid: number }>(
      `with lock as materialized (
         select pid from pg_stat_activity where application_name = 'connector-export-lock' and datname = current_database()
       ) select pid from lock where pg_terminate_backend(pid)`,
    );
    expect(killed).toHaveLength(1);
    const atDrop = Math.max(...standIn.requests().map((r) => r.seq));
    standIn.configure({ latencyMs: 20 });
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 30_000)).toBe('synced');

    // The calls in flight finish; then the stopped run makes no further call: the next request
    // after the drop is the resumed run's first read (its GetJob).
    const resumedAt = standIn.requests('GetJob').find((r) => r.seq > atDrop)?.seq ?? Number.POSITIVE_INFINITY;
    expect(standIn.requests('AddPhase').filter((r) => r.seq > atDrop && r.seq < resumedAt).map((r) => r.seq)).toEqual([]);
    expect(standIn.requests('AddPhase').filter((r) => r.seq > resumedAt).length).toBeGreaterThan(10);
    await expectExactInSpectrum(standIn, submission.id);
    expect(sendsAfterSeenSuccess(standIn).violations).toEqual([]);
    expect(await exportWorkDone()).toEqual({ attempts: 2, state: 'done' });
  });

  it('two runs of one submission at once: the second is refused while the first holds the lock; no row is sent twice', async () => {
    resetSpectrum(standIn, { latencyMs: 10 });
    const submission = await createSubmission(t.em(), { status: 'exporting', lines: manyLines(12) });
    const exporter = t.get(SpectrumExporter);
    const [first, second] = await Promise.allSettled([exporter.export(submission.id), exporter.export(submission.id)]);
    const results = [first, second];
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(refused.reason).toBeInstanceOf(ExportBusyError);
    expect(refused.reason.message).toBe(`Budget submission ${submission.id} is being exported by another worker; trying again later`);
    expect([...standIn.addPhaseCountsByRow().values()]).toEqual(Array(12).fill(1));
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync'])).toBe('synced');
    // Once the lock is free, another run finds nothing pending and sends nothing.
    expect(await exporter.export(submission.id)).toMatchObject({ skipped: 'the submission is synced, not exporting' });
  });
});
