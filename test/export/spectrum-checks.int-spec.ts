import { resetDatabase, sql } from '../support/database';
import { createSubmission, createUser, LineSpec, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, JOB, ledger, resetSpectrum, useSpectrumApp, waitForStatus } from './export-kit';

/**
 * Checking Spectrum before writing (issue 8; docs/architecture.md, "Flagged at accept"), against the real
 * app with SPECTRUM_COST_TYPES set: what must not be written is flagged at preview, and at accept
 * the export writes nothing and ends failed_to_export with the reason. Also the phase-mask fill
 * (a phase Spectrum stored zero-filled is the row that was sent) and Complete phases (issue 9 item 4).
 */
describe('checking Spectrum before writing', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let approver: UserWithToken;

  useSpectrumApp(
    (spectrum, app) => {
      standIn = spectrum;
      t = app;
    },
    { SPECTRUM_COST_TYPES: 'L, M, S, E, O' },
  );
  beforeEach(async () => {
    await resetDatabase();
    resetSpectrum(standIn);
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });

  const preview = async (id: string) => {
    const res = await api(t.url, approver.token).get(`/api/v1/budgets/${id}/preview`);
    expect(res.status).toBe(200);
    return res.body;
  };

  /** Accept answers 202 at once; the export ends failed_to_export having written nothing. */
  const acceptWritesNothing = async (id: string) => {
    standIn.clearRecords();
    await accept(t.url, approver.token, id);
    expect(await waitForStatus(id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('failed_to_export');
    expect(standIn.requests('AddPhase')).toEqual([]);
    return ledger(id);
  };

  const line = (phase: string, costType: string, original: bigint, description = `Phase ${phase}`): LineSpec => ({
    costCode: phase,
    category: costType,
    phase,
    costType,
    original,
    description,
  });

  it('a cost type outside SPECTRUM_COST_TYPES: flagged at preview and at accept, nothing written to Spectrum', async () => {
    // Spectrum knows W (the stand-in would take it): the list is what the company configured.
    standIn.addCostType('W');
    const submission = await createSubmission(t.em(), { lines: [line('01100', 'L', 100_00n), line('02200', 'W', 250_75n), line('03300', 'M', 42_00n)] });

    const body = await preview(submission.id);
    const reason =
      "Cost type W is not one of the company's cost types in Spectrum (SPECTRUM_COST_TYPES: L, M, S, E, O): fix the mapping, or add the cost type in Spectrum's Cost Type File Maintenance and to SPECTRUM_COST_TYPES";
    expect(body).toMatchObject({ exportable: false, problems: [reason], summary: { new: 3, flagged: 1 } });
    expect(body.rows.map((r: { phase: string; problems: string[] }) => [r.phase, r.problems])).toEqual([
      ['01100', []],
      ['02200', [reason]],
      ['03300', []],
    ]);

    const rows = await acceptWritesNothing(submission.id);
    expect(rows.map((r) => [r.phase, r.export_state, r.export_error?.code])).toEqual([
      ['01100', 'failed', 'blocked'],
      ['02200', 'failed', 'cost_type_unknown'],
      ['03300', 'failed', 'blocked'],
    ]);
    expect(rows[1].export_error).toEqual({ code: 'cost_type_unknown', message: reason, column: 'Cost_Type' });
    expect(rows[0].export_error!.message).toBe(`Not written: the export writes nothing while 1 row(s) need fixing first (${reason})`);
    const [failed] = await sql<{ note: string }>(`select note from audit_event where submission_id = $1 and action = 'exportFailed'`, [submission.id]);
    expect(failed.note.startsWith(`3 of 3 row(s) not written to Spectrum: 02200/W: cost_type_unknown ${reason}`)).toBe(true);
    expect(standIn.listPhases(JOB)).toEqual([]);
  });

  it('a Complete job: flagged at preview and at accept, nothing written', async () => {
    const submission = await createSubmission(t.em(), { job: '24-310', lines: [line('01100', 'L', 100_00n)] });
    const body = await preview(submission.id);
    const reason = 'Job 24-310 is Complete in Spectrum: Spectrum adds no phases to a Complete job; reopen the job in Spectrum, or map the project to another job';
    expect(body.jobs).toEqual([{ job: '24-310', inSpectrum: true, statusCode: 'C', description: 'Elm Street Parking Garage', exportable: false, problem: reason }]);
    expect(body).toMatchObject({ exportable: false, problems: [reason] });
    const rows = await acceptWritesNothing(submission.id);
    expect(rows.map((r) => r.export_error)).toEqual([{ code: 'job_complete', message: reason, column: 'Job_Number' }]);
  });

  it('a phase Complete in Spectrum: read (blank status hides it), flagged, never written — its Description and price method stay', async () => {
    standIn.setPhase({ jobNumber: JOB, phaseCode: '04000', costType: 'E', description: 'Masonry (closed)', priceMethodCode: 'F', originalEstCost: '900.00', statusCode: 'C' });
    const submission = await createSubmission(t.em(), { lines: [line('04000', 'E', 1000_00n, 'Masonry'), line('05000', 'M', 10_00n)] });
    const body = await preview(submission.id);
    const reason =
      'Phase 04000 cost type E of job 26-101 is Complete in Spectrum: the connector does not write to a Complete phase; reopen it in Spectrum, or take the row out of the budget';
    expect(body.rows[0]).toMatchObject({ change: 'changed', spectrumEstimated: '900.00', spectrumStatus: 'C', spectrumAction: 'update', problems: [reason] });
    expect(body.problems).toEqual([reason]);

    const rows = await acceptWritesNothing(submission.id);
    expect(rows.map((r) => [r.phase, r.export_error?.code])).toEqual([
      ['04000', 'phase_complete'],
      ['05000', 'blocked'],
    ]);
    expect(standIn.getPhase(JOB, '04000', 'E')).toMatchObject({ description: 'Masonry (closed)', priceMethodCode: 'F', currentEstCost: 900_00n });
  });

  it('two budget rows on one Spectrum row (cost types differing in case): flagged, nothing written', async () => {
    const submission = await createSubmission(t.em(), { lines: [line('01100', 'L', 10_00n), line('01100', 'l', 20_00n)] });
    const body = await preview(submission.id);
    expect(body.problems).toEqual([
      '01100/L and 01100/l are one Spectrum row (26-101/01100/L): Spectrum holds one estimate per job, phase and cost type; fix the mapping so they map to one row',
      '01100/l and 01100/L are one Spectrum row (26-101/01100/L): Spectrum holds one estimate per job, phase and cost type; fix the mapping so they map to one row',
    ]);
    const rows = await acceptWritesNothing(submission.id);
    expect(rows.map((r) => r.export_error?.code)).toEqual(['duplicate_key', 'duplicate_key']);
  });

  describe('a job whose phase mask Spectrum fills with zeroes', () => {
    beforeEach(() => {
      standIn.addJob({ jobNumber: '26-500', description: 'Masked job', phaseMask: { length: 5 } });
    });

    it('a phase stored zero-filled is the row that was sent: synced, not out_of_sync; the next version updates it without rewriting its Description', async () => {
      const v1 = await createSubmission(t.em(), { job: '26-500', procoreProjectId: '500001', lines: [line('110', 'L', 100_00n, 'General'), line('2200', 'M', 5_00n, 'Site')] });
      await accept(t.url, approver.token, v1.id);
      expect(await waitForStatus(v1.id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');
      // Spectrum stored them filled to the mask; reconciliation recognised them.
      expect(standIn.listPhases('26-500').map((r) => [r.phaseCode, r.costType, r.currentEstCost])).toEqual([
        ['00110', 'L', 100_00n],
        ['02200', 'M', 5_00n],
      ]);
      const report = await api(t.url, approver.token).get(`/api/v1/budgets/${v1.id}/reconciliation`);
      expect(report.body).toMatchObject({ outcome: 'synced', varianceCount: 0 });
      expect(report.body.rows).toEqual([
        expect.objectContaining({ phase: '110', spectrumEstimated: '100.00', status: 'matched', note: "Spectrum stores phase 110 as 00110 (filled to the job's phase mask)" }),
        expect.objectContaining({ phase: '2200', spectrumEstimated: '5.00', status: 'matched' }),
      ]);

      // A new version: the stored form is learnt from GetPhase, so 110/L is an update and 110/M a new
      // cost type on the existing phase (its Description exactly as Spectrum holds it).
      const v2 = await createSubmission(t.em(), {
        job: '26-500',
        procoreProjectId: '500002',
        lines: [line('110', 'L', 150_00n, 'New budget text'), line('110', 'M', 7_00n, 'New budget text'), line('2200', 'M', 5_00n, 'Site')],
      });
      const body = await preview(v2.id);
      expect(body.rows.map((r: Record<string, unknown>) => [r.phase, r.costType, r.spectrumPhase, r.change, r.spectrumAction])).toEqual([
        ['110', 'L', '00110', 'changed', 'update'],
        ['110', 'M', '00110', 'new', 'new_row'],
        ['2200', 'M', '02200', 'unchanged', 'update'],
      ]);
      standIn.clearRecords();
      await accept(t.url, approver.token, v2.id);
      expect(await waitForStatus(v2.id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');
      expect(standIn.requests('AddPhase').map((r) => [r.fields.Phase_Code, r.fields.Cost_Type, r.fields.Description, r.fields.Price_Method_Code])).toEqual([
        ['00110', 'L', '', ''],
        ['00110', 'M', 'General', 'J'],
        ['02200', 'M', '', ''],
      ]);
      expect(standIn.getPhase('26-500', '00110', 'L')).toMatchObject({ description: 'General', currentEstCost: 150_00n });
    });
  });

  describe('an error record where rows were expected (issue 9, item 5)', () => {
    const DENIED = 'Authorization ID not found';
    /** Spectrum answers every read with its error record: code A on Authorization_ID. */
    const readsDenied = () => standIn.configure({ authorizationId: 'OTHER', readDenial: { code: 'A', desc: DENIED, column: 'Authorization_ID' } });
    afterEach(() => standIn.configure({ authorizationId: 'API', readDenial: undefined }));

    it('on the export path: failed_to_export, each row carrying Spectrum\'s text, no AddPhase', async () => {
      const submission = await createSubmission(t.em(), { lines: [line('01100', 'L', 100_00n), line('03300', 'M', 42_00n)] });
      readsDenied();
      const rows = await acceptWritesNothing(submission.id);
      expect(standIn.requests('GetJob').length + standIn.requests('GetPhase').length).toBeGreaterThan(0);
      expect(rows.map((r) => [r.phase, r.export_state])).toEqual([
        ['01100', 'failed'],
        ['03300', 'failed'],
      ]);
      for (const row of rows) expect(row.export_error).toEqual({ code: 'A', message: DENIED, column: 'Authorization_ID' });
      const details = await api(t.url, approver.token).get(`/api/v1/budgets/${submission.id}`);
      expect(details.body.rows.map((r: { error: { message: string } | null }) => r.error?.message)).toEqual([expect.stringContaining(DENIED), expect.stringContaining(DENIED)]);
    });

    it('on the preview: an error answer with Spectrum\'s message, not a preview of a job without rows', async () => {
      const submission = await createSubmission(t.em(), { lines: [line('01100', 'L', 100_00n)] });
      readsDenied();
      const res = await api(t.url, approver.token).get(`/api/v1/budgets/${submission.id}/preview`);
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(new RegExp(`^Spectrum could not be read for the preview: Spectrum Get(Job|Phase): A ${DENIED}`));
      expect(res.body.rows).toBeUndefined();
      expect(standIn.requests('AddPhase')).toEqual([]);
    });
  });
});
