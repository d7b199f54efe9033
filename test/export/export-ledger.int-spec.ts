import { SnapshotRepository } from '../../src/budgets/snapshot.repository';
import { ExportLedger } from '../../src/spectrum/export-ledger';
import { resetDatabase, sql } from '../support/database';
import { createSubmission } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

interface RowState {
  phase: string;
  export_state: string;
  export_error: unknown;
  written_at: Date | null;
  spectrum_action: string | null;
  export_attempts: number;
}

/**
 * The export ledger's rule "only pending rows change", against the real PostgreSQL (issue 9, item
 * 11: the unit spec fakes the database and never looks at the SQL). A row whose success the ledger
 * recorded must never change again — not to failed, not back to pending, not to another action —
 * whatever outcome a late or repeated AddPhase answer brings.
 */
describe('export ledger against PostgreSQL', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await resetDatabase();
  });

  const rowsOf = (submissionId: string) =>
    sql<RowState & Record<string, unknown>>(
      `select phase, export_state, export_error, written_at, spectrum_action, export_attempts from submission_row where submission_id = $1 order by position`,
      [submissionId],
    );

  it('changes pending rows only: a written or failed row keeps its state, time, action, error and attempts', async () => {
    const submission = await createSubmission(t.em(), {
      status: 'exporting',
      lines: ['01000', '02000', '03000', '04000', '05000', '06000'].map((phase) => ({ costCode: phase, category: 'L', phase, costType: 'L', original: 1_00n })),
    });
    const writtenAt = new Date('2026-11-20T10:00:00.000Z');
    await sql(
      `update submission_row set export_state = 'written', written_at = $2, spectrum_action = 'new_phase', export_attempts = 1
        where submission_id = $1 and phase in ('01000', '02000', '03000')`,
      [submission.id, writtenAt],
    );
    await sql(
      `update submission_row set export_state = 'failed', export_error = '{"code":"I","message":"Invalid","column":"Cost_Type"}', export_attempts = 1
        where submission_id = $1 and phase = '04000'`,
      [submission.id],
    );
    const before = await rowsOf(submission.id);
    const ids = await sql<{ id: string; phase: string }>(`select id::text, phase from submission_row where submission_id = $1 order by position`, [submission.id]);
    const id = (phase: string) => ids.find((row) => row.phase === phase)!.id;

    const ledger = new ExportLedger(t.get(SnapshotRepository), { batchSize: 2, maxDelayMs: 1 });
    const later = new Date('2026-11-27T12:00:00.000Z');
    // Outcomes for rows already settled: a late failure, a repeated success, an attempt.
    await ledger.record({ rowId: id('01000'), outcome: 'failed', error: { code: 'A', message: 'late', column: null } });
    await ledger.record({ rowId: id('02000'), outcome: 'written', action: 'update', at: later });
    await ledger.record({ rowId: id('03000'), outcome: 'attempted' });
    await ledger.record({ rowId: id('04000'), outcome: 'written', action: 'update', at: later });
    // Outcomes for pending rows.
    await ledger.record({ rowId: id('05000'), outcome: 'written', action: 'new_row', at: later });
    await ledger.record({ rowId: id('06000'), outcome: 'attempted' });
    await ledger.close();

    const after = await rowsOf(submission.id);
    expect(after.slice(0, 4)).toEqual(before.slice(0, 4));
    expect(after[4]).toEqual({ phase: '05000', export_state: 'written', export_error: null, written_at: later, spectrum_action: 'new_row', export_attempts: 1 });
    expect(after[5]).toEqual({ phase: '06000', export_state: 'pending', export_error: null, written_at: null, spectrum_action: null, export_attempts: 1 });
    expect(ledger.committed).toBe(6);
  });
});
