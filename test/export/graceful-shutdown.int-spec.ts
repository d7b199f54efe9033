import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { startTestApp, startTestWorker, TestApp } from '../support/test-app';
import { startWorkerProcess } from '../support/worker-process';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { waitFor } from '../support/wait';
import { accept, expectExactInSpectrum, manyLines, resetSpectrum, SPECTRUM_JOBS, spectrumEnv, startSpectrum, waitForStatus } from './export-kit';

const CAP = 3;
const SHUTDOWN_TIMEOUT_MS = 8_000;
const ROWS = 90;

async function writtenRows(submissionId: string): Promise<Array<{ phase: string; cost_type: string }>> {
  return sql(`select phase, cost_type from submission_row where submission_id = $1 and export_state = 'written'`, [submissionId]);
}

/**
 * Graceful shutdown (issue 12): SIGTERM to a worker process in the middle of an export. It starts no
 * new Spectrum call, lets the calls in flight answer and records them in the export ledger, gives
 * each permit back as its own call ends, and exits within SHUTDOWN_TIMEOUT_MS without cutting a
 * connection; another worker finishes the export from the ledger with nothing sent twice.
 */
describe('a worker stopped with SIGTERM mid-export', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let approver: UserWithToken;

  beforeAll(async () => {
    standIn = await startSpectrum();
    await resetDatabase();
    await resetRedis();
    // Slow enough that calls are in flight whenever the signal lands.
    resetSpectrum(standIn, { latencyMs: 150 });
    t = await startTestApp({ runWorkers: false, env: spectrumEnv(standIn, { SPECTRUM_CONCURRENCY: String(CAP) }) });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await standIn?.stop();
  });

  it('ends its calls in flight, exits within SHUTDOWN_TIMEOUT_MS, and the export completes elsewhere with nothing re-sent', async () => {
    const env = spectrumEnv(standIn, { SPECTRUM_CONCURRENCY: String(CAP), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const submission = await createSubmission(t.em(), { lines: manyLines(ROWS) });
    const stopping = await startWorkerProcess(SPECTRUM_JOBS, env);
    let inFlightAtTerm = 0;
    let termAt = 0;
    try {
      await accept(t.url, approver.token, submission.id);
      await waitFor(async () => (await writtenRows(submission.id)).length, 'some rows written', { until: (n) => n >= 9, timeoutMs: 60_000 });
      // The signal lands while AddPhase calls are in flight.
      await waitFor(() => standIn.recorded.filter((r) => r.service === 'AddPhase' && r.finishedAt === undefined).length, 'AddPhase calls in flight');
      inFlightAtTerm = standIn.recorded.filter((r) => r.service === 'AddPhase' && r.finishedAt === undefined).length;
      termAt = Date.now();
      stopping.child.kill('SIGTERM');
    } catch (error) {
      stopping.child.kill('SIGKILL');
      throw error;
    }
    const exit = await stopping.exited;
    const seqAtExit = standIn.recorded.length ? standIn.recorded[standIn.recorded.length - 1].seq : 0;
    const writtenAtExit = await writtenRows(submission.id);

    expect(inFlightAtTerm).toBeGreaterThan(0);
    // Exited on its own (the SHUTDOWN_TIMEOUT_MS guard exits with 1), within the timeout.
    expect(exit.code).not.toBe(1);
    expect(exit.at - termAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(stopping.output()).not.toMatch(/ECONNRESET|socket hang up/i);
    // Every call it made got its answer before it left: none cut, none left running.
    await standIn.idle();
    expect(standIn.recorded.filter((r) => r.service && r.seq <= seqAtExit && r.outcome === undefined)).toEqual([]);
    expect(writtenAtExit.length).toBeGreaterThanOrEqual(9);
    expect(writtenAtExit.length).toBeLessThan(ROWS);
    expect(await waitForStatus(submission.id, ['exporting'])).toBe('exporting');

    // Another worker takes the export up (the stopped run failed its attempt; the queue retries it).
    const other = await startTestWorker({ jobs: SPECTRUM_JOBS, env });
    try {
      expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 60_000)).toBe('synced');
    } finally {
      await other.close();
    }
    await expectExactInSpectrum(standIn, submission.id);
    // Nothing re-sent: no AddPhase after the stop for a row the ledger held as written, and every row once.
    const afterExit = standIn.requests('AddPhase').filter((r) => r.seq > seqAtExit);
    expect(afterExit.filter((r) => writtenAtExit.some((w) => w.phase === r.fields.Phase_Code && w.cost_type === r.fields.Cost_Type))).toEqual([]);
    expect([...standIn.addPhaseCountsByRow().values()]).toEqual(Array(ROWS).fill(1));
    // The permits held: never more calls at once than SPECTRUM_CONCURRENCY, across both workers.
    expect(standIn.peakConcurrent).toBeLessThanOrEqual(CAP);
  }, 300_000);
});
