import { SYSTEM } from '../../src/audit/actor';
import { SnapshotRepository } from '../../src/budgets/snapshot.repository';
import { RecordSnapshot } from '../../src/budgets/use-cases/record-snapshot';
import { Cents } from '../../src/common/money';
import { MappedBudget } from '../../src/procore/mapping/budget-mapping';
import { ReconciliationService } from '../../src/reconciliation/reconciliation.service';
import { resetDatabase, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, JOB, ledger, resetSpectrum, useSpectrumApp, waitForStatus } from './export-kit';

interface VersionRow {
  phase: string;
  costType: string;
  original: Cents;
  revised?: Cents;
  description?: string;
  job?: string;
}

const PROJECT = '777001';

/**
 * Budget versions of one project (issue 9, item 1; docs/architecture.md, "Removed rows"): a row an earlier
 * export wrote that the new version lacks is set to 0.00 by the new version's export. Each version
 * is stored by the real snapshot store, which computes the removed rows.
 */
describe('budget versions: rows removed between versions', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let approver: UserWithToken;
  let admin: UserWithToken;

  useSpectrumApp((spectrum, app) => {
    standIn = spectrum;
    t = app;
  });
  beforeEach(async () => {
    await resetDatabase();
    resetSpectrum(standIn);
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    admin = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true });
  });

  /** A new version of the project's budget, stored as an ingestion stores it: ready_to_export. */
  async function sendVersion(rows: VersionRow[], job = JOB): Promise<string> {
    const submission = await createSubmission(t.em(), { status: 'ingesting', procoreProjectId: PROJECT, job, lines: [], sentBy: approver.user });
    const budget = mappedBudget(rows, job);
    await t.get(RecordSnapshot).execute({ submissionId: submission.id, budget, viewId: 1, creatorId: null, actor: SYSTEM });
    return submission.id;
  }

  async function exportVersion(id: string): Promise<string> {
    await accept(t.url, approver.token, id);
    return waitForStatus(id, ['synced', 'out_of_sync', 'failed_to_export']);
  }

  it('version 2 drops 03300/M: the export sets it to 0.00 (original kept), records it, previews it as removed, and ends synced', async () => {
    const v1 = await sendVersion([
      { phase: '01100', costType: 'L', original: 1000_00n, description: 'General Conditions' },
      { phase: '03300', costType: 'M', original: 5000_00n, description: 'Concrete' },
    ]);
    expect(await exportVersion(v1)).toBe('synced');
    expect(standIn.getPhase(JOB, '03300', 'M')).toMatchObject({ originalEstCost: 5000_00n, currentEstCost: 5000_00n });

    const v2 = await sendVersion([{ phase: '01100', costType: 'L', original: 1000_00n, description: 'General Conditions' }]);
    const rows = await sql(`select phase, cost_type, revised_estimate::text, removed, removed_estimate::text from submission_row where submission_id = $1 order by position`, [v2]);
    expect(rows).toEqual([
      { phase: '01100', cost_type: 'L', revised_estimate: '1000.00', removed: false, removed_estimate: null },
      { phase: '03300', cost_type: 'M', revised_estimate: '0.00', removed: true, removed_estimate: '5000.00' },
    ]);
    const [ingested] = await sql<{ note: string }>(`select note from audit_event where submission_id = $1 and action = 'ingested'`, [v2]);
    expect(ingested.note).toBe('1 line(s) in 1 Spectrum row(s); 1 row(s) an earlier export wrote are not in this version and will be set to 0.00');

    const preview = await api(t.url, approver.token).get(`/api/v1/budgets/${v2}/preview`);
    expect(preview.status).toBe(200);
    expect(preview.body.summary).toEqual({ new: 0, changed: 0, unchanged: 1, removed: 1, flagged: 0 });
    expect(preview.body.removedTotal).toBe('5000.00');
    expect(preview.body.rows[1]).toMatchObject({
      phase: '03300', costType: 'M', revisedEstimate: '0.00', spectrumEstimated: '5000.00', change: 'removed', removed: true, drops: '5000.00', spectrumAction: 'update',
    });

    standIn.clearRecords();
    expect(await exportVersion(v2)).toBe('synced');
    // Current estimate 0.00; the original estimate is left as it is (sent blank), and nothing else is sent.
    expect(standIn.getPhase(JOB, '03300', 'M')).toMatchObject({ originalEstCost: 5000_00n, currentEstCost: 0n, description: 'Concrete' });
    const [zeroing] = standIn.addPhaseCalls({ phaseCode: '03300', costType: 'M' });
    expect(zeroing.fields).toMatchObject({ Current_Est_Cost: '0.00', Original_Est_Cost: '', Description: '', Price_Method_Code: '' });
    expect((await ledger(v2)).map((r) => [r.phase, r.export_state, r.spectrum_action])).toEqual([
      ['01100', 'written', 'update'],
      ['03300', 'written', 'update'],
    ]);
    const report = await api(t.url, approver.token).get(`/api/v1/budgets/${v2}/reconciliation`);
    expect(report.body.rows[1]).toMatchObject({ phase: '03300', procoreRevised: '0.00', spectrumEstimated: '0.00', status: 'matched', removed: true });
    expect(report.body.totals).toEqual({ procoreRevised: '1000.00', spectrumEstimated: '1000.00', variance: '0.00' });
    const details = await api(t.url, approver.token).get(`/api/v1/budgets/${v2}`);
    expect(details.body.rows[1]).toMatchObject({ phase: '03300', revisedEstimate: '0.00', exportState: 'written', removed: true, removedEstimate: '5000.00' });
    expect(await sql(`select kind from notification where submission_id = $1`, [v2])).toEqual([]);
  });

  it('rows written by a version rejected after a partial export count; rows never written, already zeroed, or of another job do not', async () => {
    // v1: A is written, W fails (cost type not on file) → failed_to_export → rejected.
    const v1 = await sendVersion([
      { phase: '01000', costType: 'L', original: 100_00n },
      { phase: '02000', costType: 'W', original: 200_00n },
      { phase: '03000', costType: 'M', original: 300_00n },
    ]);
    expect(await exportVersion(v1)).toBe('failed_to_export');
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${v1}/reject`, { reason: 'Wrong cost type' })).status).toBe(200);

    // v2 lacks A (written by the rejected v1) and W (never written); it keeps 03000/M.
    const v2 = await sendVersion([{ phase: '03000', costType: 'M', original: 300_00n }]);
    expect(await removedOf(v2)).toEqual([['01000', 'L', '100.00']]);
    expect(await exportVersion(v2)).toBe('synced');
    expect(standIn.getPhase(JOB, '01000', 'L')!.currentEstCost).toBe(0n);

    // v3 lacks A again: v2 already set it to 0.00, nothing left to drop. It drops 03000/M (written by v1 and v2).
    const v3 = await sendVersion([{ phase: '04000', costType: 'M', original: 1_00n }]);
    expect(await removedOf(v3)).toEqual([['03000', 'M', '300.00']]);
    expect((await api(t.url, admin.token).post(`/api/v1/budgets/${v3}/retrieve`)).status).toBe(200);

    // v4 maps the project to another job: the rows of job 26-101 are not its concern.
    standIn.addJob({ jobNumber: '26-102', description: 'Other job' });
    const v4 = await sendVersion([{ phase: '05000', costType: 'M', original: 1_00n, job: '26-102' }], '26-102');
    expect(await removedOf(v4)).toEqual([]);
  });

  it('a remap contract: rows this submission wrote under the old mapping, passed as alsoWritten, become removed rows', async () => {
    const v1 = await sendVersion([
      { phase: '0110', costType: 'L', original: 100_00n },
      { phase: '02000', costType: 'W', original: 1_00n },
    ]);
    expect(await exportVersion(v1)).toBe('failed_to_export');
    // The mapping is fixed (phase 0110 → 01100, cost type W → M) and the rows replaced, as a remap does.
    const snapshots = t.get(SnapshotRepository);
    await snapshots.transaction(async () => {
      const written = await snapshots.writtenRows(v1);
      expect(written.map((row) => [row.phase, row.costType, row.revisedEstimate])).toEqual([['0110', 'L', 100_00n]]);
      await sql(`delete from submission_row where submission_id = $1`, [v1]);
      await sql(
        `insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget, revised_estimate, line_count, problems, export_state, export_attempts, removed)
         values ($1, 0, '26-101', '01100', 'L', '', 100, 100, 1, '[]', 'pending', 0, false), ($1, 1, '26-101', '02000', 'M', '', 1, 1, 1, '[]', 'pending', 0, false)`,
        [v1],
      );
      expect(await snapshots.addRemovedRows(v1, written)).toBe(1);
      // Called again: nothing is added twice.
      expect(await snapshots.addRemovedRows(v1, written)).toBe(0);
    });
    expect(await removedOf(v1)).toEqual([['0110', 'L', '100.00']]);
  });

  it('retry with nothing to rewrite answers 409 with the reason instead of exporting again (no second round of emails)', async () => {
    const v1 = await sendVersion([{ phase: '01100', costType: 'L', original: 1000_00n }]);
    expect(await exportVersion(v1)).toBe('synced');
    const v2 = await sendVersion([{ phase: '01100', costType: 'L', original: 900_00n }]);
    // Someone adds a row in Spectrum that no budget has: the only variance is on Spectrum's side.
    standIn.setPhase({ jobNumber: JOB, phaseCode: '09000', costType: 'O', description: 'Added in Spectrum', priceMethodCode: 'J', originalEstCost: '75.00' });
    expect(await exportVersion(v2)).toBe('out_of_sync');
    const emails = await sql(`select count(*)::int as count from notification where submission_id = $1`, [v2]);

    const retry = await api(t.url, approver.token).post(`/api/v1/budgets/${v2}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.message).toBe(
      'Retrying would write nothing: every row of this budget is already written to Spectrum as exported; the variance is 1 Spectrum row(s) that carry an estimate but are not in this budget, which an export does not touch. Reject the budget and send a corrected one, or have an admin acknowledge the variance.',
    );
    expect(await sql(`select status from submission where id = $1`, [v2])).toEqual([{ status: 'out_of_sync' }]);
    expect(await sql(`select count(*)::int as count from notification where submission_id = $1`, [v2])).toEqual(emails);
    expect(await sql(`select count(*)::int as count from audit_event where submission_id = $1 and action = 'retry'`, [v2])).toEqual([{ count: 0 }]);
    // A reconciliation that finds it unchanged does not email again either.
    await t.get(ReconciliationService).reconcile(v2);
    expect(await sql(`select count(*)::int as count from notification where submission_id = $1`, [v2])).toEqual(emails);
  });

  async function removedOf(id: string): Promise<string[][]> {
    const rows = await sql<{ phase: string; cost_type: string; removed_estimate: string }>(
      `select phase, cost_type, removed_estimate::text from submission_row where submission_id = $1 and removed order by position`,
      [id],
    );
    return rows.map((row) => [row.phase, row.cost_type, row.removed_estimate]);
  }
});

/** The snapshot a mapping would produce: one line per row. */
function mappedBudget(rows: VersionRow[], job: string): MappedBudget {
  const totals = { originalBudget: 0n, budgetChanges: 0n, revisedEstimate: 0n };
  const lines = rows.map((row, position) => {
    const revised = row.revised ?? row.original;
    totals.originalBudget += row.original;
    totals.budgetChanges += revised - row.original;
    totals.revisedEstimate += revised;
    return {
      position,
      procoreLineId: String(9000 + position),
      costCodeId: null,
      costCode: row.phase,
      categoryId: null,
      category: row.costType,
      description: row.description ?? `Phase ${row.phase}`,
      originalBudget: row.original,
      budgetChanges: revised - row.original,
      revisedEstimate: revised,
      job: row.job ?? job,
      phase: row.phase,
      costType: row.costType,
      rowPosition: position,
      problems: [],
      notes: [],
    };
  });
  return {
    projectName: 'Versions Project',
    job,
    lines,
    rows: rows.map((row, position) => ({
      position,
      job: row.job ?? job,
      phase: row.phase,
      costType: row.costType,
      description: row.description ?? `Phase ${row.phase}`,
      originalBudget: row.original,
      revisedEstimate: row.revised ?? row.original,
      lineCount: 1,
      problems: [],
    })),
    totals,
    problemCount: 0,
    fingerprint: `versions-${rows.map((row) => `${row.phase}/${row.costType}/${row.original}`).join(',')}`,
  };
}
