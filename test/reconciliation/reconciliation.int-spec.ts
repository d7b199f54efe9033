import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { ReconciliationService } from '../../src/reconciliation/reconciliation.service';
import { SpectrumRetriesExhaustedError } from '../../src/spectrum/client/spectrum.errors';
import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import { resetDatabase, sql } from '../support/database';
import { createSubmission, createUser, LineSpec, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, JOB, resetSpectrum, useSpectrumApp, statusOf, waitForStatus } from '../export/export-kit';
import { waitFor } from '../support/wait';

const DISPLAY_ONLY = "Spectrum kept its current estimates: the Job Cost option 'Current Estimate display only' may be on.";

function reports(submissionId: string) {
  return sql<{ outcome: string; variance_count: number; explanation: string }>(
    `select outcome, variance_count, explanation from reconciliation where submission_id = $1 order by id`,
    [submissionId],
  );
}

function transitions(submissionId: string) {
  return sql<{ action: string; from_status: string; to_status: string }>(
    `select action, from_status, to_status from audit_event where submission_id = $1 order by id`,
    [submissionId],
  );
}

/** Reading Spectrum back: synced / out_of_sync with every variance, the report API, the unlock gate, the preview. */
describe('reconciliation with Spectrum', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let approver: UserWithToken;
  let admin: UserWithToken;
  let reader: UserWithToken;
  let sweepWindow = 0;

  const sweep = async (submissionId: string) => {
    const before = (await reports(submissionId)).length;
    const window = `test-${++sweepWindow}`;
    await t.get(Outbox).enqueue(JobName.ReconcileSweep, { window }, { dedupeKey: `reconcile-sweep:${window}`, once: true });
    await waitFor(() => reports(submissionId), 'a new reconciliation report', { until: (list) => list.length > before });
  };

  /** A submission as the export leaves it (exported, every row written) and Spectrum holding `spectrum` per row. */
  const exportedSubmission = async (lines: LineSpec[], spectrum: Record<string, string | null>) => {
    const submission = await createSubmission(t.em(), { status: 'exported', lines, sentBy: approver.user });
    await sql(`update submission_row set export_state = 'written', written_at = now(), spectrum_action = 'new_phase' where submission_id = $1`, [submission.id]);
    await sql(`update submission set exported_at = now() where id = $1`, [submission.id]);
    for (const [key, amount] of Object.entries(spectrum)) {
      const [phaseCode, costType] = key.split('/');
      if (amount !== null) {
        standIn.setPhase({ jobNumber: JOB, phaseCode, costType, description: `Phase ${phaseCode}`, priceMethodCode: 'J', originalEstCost: amount, currentEstCost: amount });
      }
    }
    return submission;
  };

  useSpectrumApp((spectrum, app) => {
    standIn = spectrum;
    t = app;
  });
  beforeEach(async () => {
    await resetDatabase();
    resetSpectrum(standIn);
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    admin = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true });
    reader = await createUser(t.em(), { erpPermission: 'read_only' });
  });

  describe('"Current Estimate display only" in Spectrum', () => {
    const lines: LineSpec[] = [
      { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1000_00n, changes: 250_00n, description: 'General Conditions' },
      { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 1200_00n, description: 'Concrete' },
      { costCode: '05-000', category: 'Equipment', phase: '05000', costType: 'E', original: 300_00n, description: 'Metals' },
    ];
    const displayOnly = async () => {
      resetSpectrum(standIn, { currentEstimateDisplayOnly: true });
      standIn.setPhase({ jobNumber: JOB, phaseCode: '03300', costType: 'M', description: 'Concrete', priceMethodCode: 'J', originalEstCost: '900.00', currentEstCost: '950.00' });
      const submission = await createSubmission(t.em(), { lines, sentBy: approver.user });
      await accept(t.url, approver.token, submission.id);
      expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('out_of_sync');
      return submission;
    };

    it('→ out_of_sync with each variance listed and a plain explanation; unlock refused (409) until an admin acknowledges', async () => {
      const submission = await displayOnly();
      // AddPhase succeeded for every row: the export itself found nothing wrong.
      expect(await sql(`select export_state from submission_row where submission_id = $1`, [submission.id])).toEqual(
        Array(3).fill({ export_state: 'written' }),
      );

      const report = await api(t.url, reader.token).get(`/api/v1/budgets/${submission.id}/reconciliation`);
      expect(report.status).toBe(200);
      expect(report.body).toMatchObject({
        submissionId: submission.id,
        outcome: 'out_of_sync',
        submissionStatus: 'out_of_sync',
        spectrumCompany: 'ABC',
        job: JOB,
        tolerance: '0.00',
        varianceCount: 2,
        totals: { procoreRevised: '2750.00', spectrumEstimated: '2250.00', variance: '-500.00' },
      });
      expect(report.body.rows).toEqual([
        { job: JOB, phase: '01100', costType: 'L', description: 'General Conditions', procoreRevised: '1250.00', spectrumEstimated: '1000.00', variance: '-250.00', status: 'amount_differs' },
        { job: JOB, phase: '03300', costType: 'M', description: 'Concrete', procoreRevised: '1200.00', spectrumEstimated: '950.00', variance: '-250.00', status: 'amount_differs' },
        { job: JOB, phase: '05000', costType: 'E', description: 'Metals', procoreRevised: '300.00', spectrumEstimated: '300.00', variance: '0.00', status: 'matched' },
      ]);
      expect(report.body.explanation.startsWith(DISPLAY_ONLY)).toBe(true);
      expect(report.body.explanation).toContain("untick 'Current Estimate display only?' in Job Cost Installation, then retry the export");

      const unlock = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/unlock`);
      expect(unlock.status).toBe(409);
      expect(unlock.body.message).toMatch(/only once Spectrum shows the exported amounts \(status synced\); it is out of sync/);
      expect(await sql(`select kind from notification where submission_id = $1`, [submission.id])).toEqual([{ kind: 'out_of_sync' }, { kind: 'out_of_sync' }]);

      const ack = await api(t.url, admin.token).post(`/api/v1/budgets/${submission.id}/acknowledge`, { reason: 'Spectrum option fixed by hand; variance accepted' });
      expect(ack.status).toBe(200);
      expect(ack.body.status).toBe('synced');
      const unlocked = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/unlock`);
      expect(unlocked.status).toBe(202);
      expect(await transitions(submission.id)).toEqual([
        { action: 'accept', from_status: 'ready_to_export', to_status: 'exporting' },
        { action: 'exported', from_status: 'exporting', to_status: 'exported' },
        { action: 'reconciledOutOfSync', from_status: 'exported', to_status: 'out_of_sync' },
        { action: 'acknowledge', from_status: 'out_of_sync', to_status: 'synced' },
        { action: 'unlock', from_status: 'synced', to_status: 'synced' },
      ]);
    });

    it('after the option is turned off, a retry writes again only the differing rows → synced', async () => {
      const submission = await displayOnly();
      standIn.configure({ currentEstimateDisplayOnly: false });
      expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/retry`)).status).toBe(202);
      expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');
      expect(Object.fromEntries(standIn.addPhaseCountsByRow())).toEqual({ [`${JOB}|01100|L`]: 2, [`${JOB}|03300|M`]: 2, [`${JOB}|05000|E`]: 1 });
      expect(standIn.getPhase(JOB, '01100', 'L')!.currentEstCost).toBe(1250_00n);
      const [latest] = (await reports(submission.id)).reverse();
      expect(latest.outcome).toBe('synced');
    });
  });

  it('out_of_sync stays out_of_sync on a later mismatch (no second transition) and turns synced once Spectrum matches', async () => {
    const submission = await exportedSubmission(
      [{ costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 500_00n, changes: 20_00n }],
      { '01100/L': '510.00' },
    );
    await t.get(ReconciliationService).reconcile(submission.id);
    expect(await statusOf(submission.id)).toBe('out_of_sync');
    const [first] = await reports(submission.id);
    // Not the display-only pattern (Spectrum shows neither the original nor an earlier value we know).
    expect(first.explanation).toBe(
      'Spectrum does not match the exported budget on 1 row. 1 row shows a different estimate in Spectrum than the revised estimate exported: ' +
        "the amount may have been changed in Spectrum after the export. If Spectrum shows its earlier values, the Job Cost option 'Current Estimate display only' may be on. " +
        'Totals: 520.00 in the budget, 510.00 in Spectrum (difference -10.00). Retry the export, reject the budget, or have an admin acknowledge the variance.',
    );

    await sweep(submission.id);
    expect(await statusOf(submission.id)).toBe('out_of_sync');
    expect((await reports(submission.id)).map((r) => r.outcome)).toEqual(['out_of_sync', 'out_of_sync']);

    standIn.setPhase({ jobNumber: JOB, phaseCode: '01100', costType: 'L', currentEstCost: '520.00' });
    await sweep(submission.id);
    expect(await statusOf(submission.id)).toBe('synced');
    expect((await reports(submission.id)).map((r) => r.outcome)).toEqual(['out_of_sync', 'out_of_sync', 'synced']);
    expect((await transitions(submission.id)).map((e) => e.action)).toEqual(['reconciledOutOfSync', 'reconciledSynced']);
    expect(await sql(`select count(*)::int as emails from notification where submission_id = $1`, [submission.id])).toEqual([{ emails: 2 }]);
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/unlock`)).status).toBe(202);
  });

  it('lists every variance: amount differs, missing in Spectrum, Spectrum row not in the budget; rows at 0.00 match', async () => {
    const submission = await exportedSubmission(
      [
        { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n },
        { costCode: '02-000', category: 'Material', phase: '02000', costType: 'M', original: 0n },
        { costCode: '03-000', category: 'Subcontract', phase: '03000', costType: 'S', original: 500_00n },
        { costCode: '04-000', category: 'Other', phase: '04000', costType: 'O', original: 42_00n },
      ],
      { '01100/L': '100.01', '02000/M': null, '03000/S': null, '04000/O': '42.00' },
    );
    standIn.setPhase({ jobNumber: JOB, phaseCode: '09000', costType: 'O', description: 'Added in Spectrum', priceMethodCode: 'J', originalEstCost: '75.00' });
    standIn.setPhase({ jobNumber: JOB, phaseCode: '09100', costType: 'O', description: 'Empty', priceMethodCode: 'J', originalEstCost: '0.00' });

    const result = await t.get(ReconciliationService).reconcile(submission.id);
    expect(result).toMatchObject({ outcome: 'out_of_sync', status: 'out_of_sync', varianceCount: 3 });
    const report = await api(t.url, reader.token).get(`/api/v1/budgets/${submission.id}/reconciliation`);
    expect(report.body.rows.map((r: Record<string, unknown>) => [r.phase, r.costType, r.procoreRevised, r.spectrumEstimated, r.variance, r.status])).toEqual([
      ['01100', 'L', '100.00', '100.01', '0.01', 'amount_differs'],
      ['02000', 'M', '0.00', null, '0.00', 'matched'],
      ['03000', 'S', '500.00', null, '-500.00', 'missing_in_spectrum'],
      ['04000', 'O', '42.00', '42.00', '0.00', 'matched'],
      ['09000', 'O', null, '75.00', '75.00', 'not_in_budget'],
    ]);
    expect(report.body.totals).toEqual({ procoreRevised: '642.00', spectrumEstimated: '217.01', variance: '-424.99' });
    expect(report.body.explanation).toContain('1 budget row is missing in Spectrum');
    expect(report.body.explanation).toContain('1 Spectrum row of job 26-101 carries an estimate but is not in this budget');
  });

  it('a cut-off read is read again and the conclusion comes from the complete one', async () => {
    const submission = await exportedSubmission(
      [
        { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n },
        { costCode: '01-100', category: 'Material', phase: '01100', costType: 'M', original: 200_00n },
        { costCode: '03-000', category: 'Subcontract', phase: '03000', costType: 'S', original: 300_00n },
      ],
      { '01100/L': '100.00', '01100/M': '200.00', '03000/S': '300.00' },
    );
    // The first two answers lose their last records (one inside a record): a naive reader would call rows missing.
    standIn.truncateNext(1, { services: ['GetPhase'], mode: 'between-records', keepRecords: 1 });
    standIn.truncateNext(1, { services: ['GetPhase'], mode: 'inside-record', keepRecords: 2 });
    const result = await t.get(ReconciliationService).reconcile(submission.id);
    expect(result).toMatchObject({ outcome: 'synced', status: 'synced', varianceCount: 0 });
    // Both cut-off answers were read again (the two statuses may be read at once, so which read met
    // which cut is not fixed); the last answer of each status was whole.
    const reads = standIn.requests('GetPhase');
    expect(reads.filter((r) => r.outcome === 'truncated')).toHaveLength(2);
    for (const status of ['', 'C']) expect(reads.filter((r) => r.fields.pStatus_Code === status).at(-1)?.outcome).toBe('ok');
    expect((await reports(submission.id)).map((r) => r.outcome)).toEqual(['synced']);
  });

  it('reads that keep failing: no conclusion from them; after the queue\'s bounded attempts → out_of_sync "Spectrum could not be read: …"; an admin may acknowledge it and unlock', async () => {
    const submission = await exportedSubmission(
      [{ costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n }],
      { '01100/L': '100.00' },
    );
    standIn.configure({ truncateRate: 1, truncate: { services: ['GetPhase'], mode: 'between-records', keepRecords: 0 } });
    // A run that is not the queue's last: it throws, so the queue tries again later; nothing is concluded.
    await expect(t.get(ReconciliationService).reconcile(submission.id)).rejects.toBeInstanceOf(SpectrumRetriesExhaustedError);
    expect(await reports(submission.id)).toEqual([]);
    expect(await statusOf(submission.id)).toBe('exported');

    // Through the queue: every attempt fails the same way; the last one gives up with the reason.
    await t.get(Outbox).enqueue(JobName.ReconcileSubmission, { submissionId: submission.id }, { dedupeKey: `reconcile:${submission.id}` });
    await waitForStatus(submission.id, ['out_of_sync']);
    const [work] = await waitFor(
      () => sql<{ attempts: number; state: string }>(`select attempts, state from pending_work where job_name = 'reconcile-submission'`),
      'the reconciliation work to end',
      { until: ([w]) => w?.state === 'done' },
    );
    expect(work.attempts).toBe(5);
    const [report] = await reports(submission.id);
    expect(report.outcome).toBe('out_of_sync');
    expect(report.explanation).toMatch(/^Spectrum could not be read: Spectrum GetPhase: gave up after 6 attempt\(s\): response cut off/);
    const [transition] = (await transitions(submission.id)).filter((e) => e.action === 'reconciledOutOfSync');
    expect(transition).toEqual({ action: 'reconciledOutOfSync', from_status: 'exported', to_status: 'out_of_sync' });
    expect(await sql(`select kind from notification where submission_id = $1`, [submission.id])).toEqual([{ kind: 'out_of_sync' }, { kind: 'out_of_sync' }]);

    // Retry would write nothing: 409 with the reason.
    const retry = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.message).toMatch(/^Retrying would write nothing: every row of this budget is already written to Spectrum as exported, and the latest reconciliation could not read Spectrum \(Spectrum could not be read: /);

    const ack = await api(t.url, admin.token).post(`/api/v1/budgets/${submission.id}/acknowledge`, { reason: 'Spectrum is being migrated; amounts checked by hand' });
    expect(ack.status).toBe(200);
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/unlock`)).status).toBe(202);
    expect(await sql(`select action, note from audit_event where submission_id = $1 and action in ('acknowledge', 'unlock') order by id`, [submission.id])).toEqual([
      { action: 'acknowledge', note: 'Spectrum is being migrated; amounts checked by hand' },
      { action: 'unlock', note: null },
    ]);
  });

  it('an error record from Spectrum (not authorised) is not "every row missing": the reconciliation gives up at once with Spectrum\'s message', async () => {
    const submission = await exportedSubmission(
      [{ costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n }],
      { '01100/L': '100.00' },
    );
    standIn.configure({ authorizationId: 'OTHER', readDenial: { code: 'A', desc: 'Authorization ID not found', column: 'Authorization_ID' } });
    try {
      const result = await t.get(ReconciliationService).reconcile(submission.id);
      expect(result).toMatchObject({ status: 'out_of_sync', varianceCount: 0 });
    } finally {
      standIn.configure({ authorizationId: 'API', readDenial: undefined });
    }
    const [report] = await reports(submission.id);
    expect(report.explanation).toMatch(/^Spectrum could not be read: Spectrum GetPhase: A Authorization ID not found \[Authorization_ID\]\./);
    // Given up at once: no read was repeated (the two statuses may have been asked at once).
    const statuses = standIn.requests('GetPhase').map((r) => r.fields.pStatus_Code);
    expect(statuses.length).toBeGreaterThanOrEqual(1);
    expect(new Set(statuses).size).toBe(statuses.length);
    // Once Spectrum answers again, the scheduled reconciliation finds it matching.
    await sweep(submission.id);
    expect(await statusOf(submission.id)).toBe('synced');
  });

  it('a malformed row elsewhere in the job is flagged, not fatal; a budget row whose estimate is missing is a variance, not 0.00', async () => {
    const submission = await exportedSubmission(
      [
        { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n },
        { costCode: '02-000', category: 'Material', phase: '02000', costType: 'M', original: 0n },
      ],
      { '01100/L': '100.00', '02000/M': '0.00' },
    );
    standIn.setPhase({ jobNumber: JOB, phaseCode: '09000', costType: 'O', description: 'Elsewhere', priceMethodCode: 'J', originalEstCost: '75.00' });
    standIn.corruptRecord({ jobNumber: JOB, phaseCode: '09000', costType: 'O' }, { Current_Estimate_Dollars: 'n/a' });
    const flagged = await t.get(ReconciliationService).reconcile(submission.id);
    expect(flagged).toMatchObject({ outcome: 'synced', status: 'synced' });
    const report = await api(t.url, reader.token).get(`/api/v1/budgets/${submission.id}/reconciliation`);
    expect(report.body.rows[2]).toMatchObject({ phase: '09000', costType: 'O', status: 'unreadable', spectrumEstimated: null });
    expect(report.body.explanation).toContain('1 other Spectrum record of job 26-101 could not be read (09000/O: Current_Estimate_Dollars is not an amount: "n/a") and was left out of the comparison.');

    // The budget's own row without an estimate: never read as 0.00 (the budget's 0.00 would "match").
    const second = await exportedSubmission(
      [{ costCode: '02-000', category: 'Material', phase: '02000', costType: 'M', original: 0n }],
      {},
    );
    standIn.corruptRecord({ jobNumber: JOB, phaseCode: '02000', costType: 'M' }, { Current_Estimate_Dollars: null });
    expect(await t.get(ReconciliationService).reconcile(second.id)).toMatchObject({ outcome: 'out_of_sync', status: 'out_of_sync' });
    const own = await api(t.url, reader.token).get(`/api/v1/budgets/${second.id}/reconciliation`);
    expect(own.body.rows[0]).toMatchObject({ phase: '02000', status: 'unreadable', spectrumEstimated: null, note: "Spectrum's record could not be read: Current_Estimate_Dollars is missing: the record has no estimate" });
  });

  it('a read that began before the status moved (a retry exported again meanwhile) concludes nothing', async () => {
    const submission = await exportedSubmission(
      [{ costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n }],
      { '01100/L': '90.00' },
    );
    const client = t.get(SpectrumSoapClient);
    const read = client.getPhases.bind(client);
    const spy = jest.spyOn(client, 'getPhases').mockImplementationOnce(async (job: string) => {
      const phases = await read(job);
      // While Spectrum was read: out_of_sync → retry → exporting → exported, by another worker.
      await sql(`update submission set status = 'exporting', status_changed_at = clock_timestamp() where id = $1`, [submission.id]);
      await sql(`update submission set status = 'exported', status_changed_at = clock_timestamp() where id = $1`, [submission.id]);
      return phases;
    });
    try {
      const result = await t.get(ReconciliationService).reconcile(submission.id);
      expect(result.skipped).toBe("the submission's status changed while Spectrum was read (now exported); its next reconciliation judges it");
    } finally {
      spy.mockRestore();
    }
    expect(await reports(submission.id)).toEqual([]);
    expect(await statusOf(submission.id)).toBe('exported');
    // The next reconciliation reads afresh and judges.
    expect(await t.get(ReconciliationService).reconcile(submission.id)).toMatchObject({ outcome: 'out_of_sync', status: 'out_of_sync' });
  });

  describe('the report API', () => {
    let submissionId: string;
    beforeEach(async () => {
      const submission = await exportedSubmission(
        [
          { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1234_56n, description: 'Doors, "Frames" & <script>alert(1)</script>' },
          { costCode: '02-000', category: 'Material', phase: '02000', costType: 'M', original: 10_00n, description: '=HYPERLINK("http://x")' },
        ],
        { '01100/L': '1234.56', '02000/M': '9.99' },
      );
      submissionId = submission.id;
      await t.get(ReconciliationService).reconcile(submissionId);
    });

    it('CSV: text/csv, a header row, quoted fields, formulas defused, a TOTAL row', async () => {
      const res = await api(t.url, reader.token).get(`/api/v1/budgets/${submissionId}/reconciliation?format=csv`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="reconciliation-${submissionId}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
      expect(res.text).toBe(
        'job,phase,costType,description,procoreRevised,spectrumEstimated,variance,status,note\r\n' +
          '26-101,01100,L,"Doors, ""Frames"" & <script>alert(1)</script>",1234.56,1234.56,0.00,matched,\r\n' +
          `26-101,02000,M,"'=HYPERLINK(""http://x"")",10.00,9.99,-0.01,amount_differs,\r\n` +
          'TOTAL,,,,1244.56,1244.55,-0.01,out_of_sync,\r\n',
      );
    });

    it('HTML: a printable page with every value escaped', async () => {
      const res = await api(t.url, reader.token).get(`/api/v1/budgets/${submissionId}/reconciliation?format=html`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.text).toMatch(/^<!DOCTYPE html>/);
      expect(res.text).toContain('Doors, &quot;Frames&quot; &amp; &lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.text).not.toContain('<script>');
      expect(res.text).toContain('<span class="outcome out_of_sync">Out of sync</span>');
      expect(res.text).toContain('@media print');
      expect(res.text).toContain('<td class="num">1244.56</td><td class="num">1244.55</td><td class="num">-0.01</td>');
    });

    it('404 with a clear message before any reconciliation, 404 for an unknown budget, 400 for an unknown format, 403 without view permission', async () => {
      const fresh = await createSubmission(t.em());
      const none = await api(t.url, reader.token).get(`/api/v1/budgets/${fresh.id}/reconciliation`);
      expect(none.status).toBe(404);
      expect(none.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: `Budget submission ${fresh.id} has no reconciliation report yet: Spectrum is read back after the budget is exported (it is ready to export)`,
      });
      expect((await api(t.url, reader.token).get('/api/v1/budgets/999999/reconciliation')).status).toBe(404);
      const bad = await api(t.url, reader.token).get(`/api/v1/budgets/${submissionId}/reconciliation?format=xml`);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toBe('format must be json, csv or html');
      const { token } = await createUser(t.em(), { erpPermission: 'none' });
      expect((await api(t.url, token).get(`/api/v1/budgets/${submissionId}/reconciliation`)).status).toBe(403);
    });
  });

  it('unlock is refused for a synced budget that no reconciliation has proven', async () => {
    const submission = await createSubmission(t.em(), { status: 'synced' });
    const res = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/unlock`);
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/only once a reconciliation has shown Spectrum holds the exported amounts/);
  });

  describe('the preview', () => {
    it("shows each row new / changed / unchanged against Spectrum's current values and writes nothing", async () => {
      standIn.setPhase({ jobNumber: JOB, phaseCode: '03300', costType: 'M', description: 'Concrete', priceMethodCode: 'J', originalEstCost: '1000.00' });
      standIn.setPhase({ jobNumber: JOB, phaseCode: '03300', costType: 'S', originalEstCost: '5.00', priceMethodCode: 'J' });
      const submission = await createSubmission(t.em(), {
        lines: [
          { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 100_00n, description: 'General Conditions' },
          { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 1000_00n, description: 'Concrete' },
          { costCode: '03-300', category: 'Subcontract', phase: '03300', costType: 'S', original: 7_50n, changes: 2_50n, description: 'Concrete' },
          { costCode: '03-300', category: 'Equipment', phase: '03300', costType: 'E', original: 1_00n, description: 'Concrete' },
        ],
      });
      const res = await api(t.url, reader.token).get(`/api/v1/budgets/${submission.id}/preview`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        submissionId: submission.id,
        status: 'ready_to_export',
        spectrumCompany: 'ABC',
        jobs: [{ job: JOB, inSpectrum: true, statusCode: 'A', exportable: true, problem: null }],
        summary: { new: 2, changed: 1, unchanged: 1 },
      });
      expect(res.body.rows.map((r: Record<string, unknown>) => [r.phase, r.costType, r.revisedEstimate, r.spectrumEstimated, r.change, r.spectrumAction])).toEqual([
        ['01100', 'L', '100.00', null, 'new', 'new_phase'],
        ['03300', 'M', '1000.00', '1000.00', 'unchanged', 'update'],
        ['03300', 'S', '10.00', '5.00', 'changed', 'update'],
        ['03300', 'E', '1.00', null, 'new', 'new_row'],
      ]);
      // Without SPECTRUM_COST_TYPES the preview marks cost types the job has never used (a hint, not a flag).
      expect(res.body.rows.map((r: { costType: string; notes: string[]; problems: string[] }) => [r.costType, r.notes, r.problems])).toEqual([
        ['L', ["No phase of job 26-101 uses cost type L yet: check that it exists in Spectrum's Cost Type File Maintenance (or set SPECTRUM_COST_TYPES)"], []],
        ['M', [], []],
        ['S', [], []],
        ['E', ["No phase of job 26-101 uses cost type E yet: check that it exists in Spectrum's Cost Type File Maintenance (or set SPECTRUM_COST_TYPES)"], []],
      ]);
      expect(res.body).toMatchObject({ exportable: true, problems: [] });
      expect(standIn.requests('AddPhase')).toHaveLength(0);
      expect(await statusOf(submission.id)).toBe('ready_to_export');
    });

    it('flags a job Spectrum lacks, and answers 503 with the reason when Spectrum cannot be read', async () => {
      const missing = await createSubmission(t.em(), { job: '99-999' });
      const res = await api(t.url, reader.token).get(`/api/v1/budgets/${missing.id}/preview`);
      expect(res.body.jobs).toEqual([
        {
          job: '99-999', inSpectrum: false, statusCode: null, description: null, exportable: false,
          problem: "Job 99-999 not found in Spectrum: it is not among the company's Active, Inactive or Complete jobs; map the project to an existing job, or add the job in Spectrum",
        },
      ]);
      expect(res.body).toMatchObject({ exportable: false, problems: [res.body.jobs[0].problem] });
      expect(res.body.summary).toEqual({ new: 2, changed: 0, unchanged: 0, removed: 0, flagged: 2 });

      await standIn.down();
      try {
        const down = await api(t.url, reader.token).get(`/api/v1/budgets/${missing.id}/preview`);
        expect(down.status).toBe(503);
        expect(down.body.message).toMatch(/^Spectrum could not be read for the preview: Spectrum GetJob: gave up after 6 attempt\(s\): network error \(ECONNREFUSED\)/);
      } finally {
        await standIn.up();
      }
      expect((await api(t.url, reader.token).get('/api/v1/budgets/999999/preview')).status).toBe(404);
    });
  });
});
