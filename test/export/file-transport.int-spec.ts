import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { SpectrumExporter } from '../../src/spectrum/spectrum-exporter.service';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, JOB, ledger, resetSpectrum, SPECTRUM_JOBS, spectrumEnv, startSpectrum, statusOf, waitForStatus } from './export-kit';
import { waitFor } from '../support/wait';

/** What Spectrum's Import Standard Job does with a transfer file: sets each phase's estimate. */
async function importTransferFile(standIn: SpectrumStandIn, path: string): Promise<void> {
  const lines = (await fs.readFile(path, 'latin1')).split('\r\n').filter(Boolean);
  const job = lines[0].split(',')[1];
  for (const line of lines.slice(1)) {
    const [, phaseCode, description, costType, , , amount] = line.split(',');
    standIn.setPhase({ jobNumber: job, phaseCode, costType, description, priceMethodCode: 'J', originalEstCost: amount, currentEstCost: amount });
  }
}

function reports(submissionId: string) {
  return sql<{ outcome: string; explanation: string }>(`select outcome, explanation from reconciliation where submission_id = $1 order by id`, [submissionId]);
}

describe('file transport (SPECTRUM_TRANSPORT=file)', () => {
  let standIn: SpectrumStandIn;
  let dir: string;
  let t: TestApp | undefined;
  let approver: UserWithToken;
  let window = 0;

  const start = async (importWait: string) => {
    await t?.close();
    t = await startTestApp({
      runWorkers: true,
      jobs: SPECTRUM_JOBS,
      env: spectrumEnv(standIn, { SPECTRUM_TRANSPORT: 'file', SPECTRUM_EXPORT_DIR: dir, SPECTRUM_FILE_IMPORT_WAIT: importWait }),
    });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    return t;
  };
  const sweep = async (app: TestApp, submissionId: string) => {
    const before = (await reports(submissionId)).length;
    const key = `file-${++window}`;
    await app.get(Outbox).enqueue(JobName.ReconcileSweep, { window: key }, { dedupeKey: `reconcile-sweep:${key}`, once: true });
    await waitFor(() => reports(submissionId), 'a new reconciliation report', { until: (list) => list.length > before });
  };
  const exported = async (app: TestApp) => {
    const submission = await createSubmission(app.em());
    await accept(app.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['exported', 'failed_to_export'])).toBe('exported');
    await waitFor(() => reports(submission.id), 'the reconciliation right after the export', { until: (list) => list.length === 1 });
    return submission;
  };

  beforeAll(async () => {
    standIn = await startSpectrum();
    await resetDatabase();
    await resetRedis();
  });
  afterAll(async () => {
    await t?.close();
    await standIn?.stop();
  });
  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'spectrum-export-'));
    await resetDatabase();
    resetSpectrum(standIn);
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes one transfer file per job atomically; the budget stays exported (awaiting import) until Spectrum shows it, then synced', async () => {
    const app = await start('1h');
    const submission = await exported(app);
    const [{ project_name: projectName }] = await sql<{ project_name: string }>(`select project_name from submission where id = $1`, [submission.id]);

    expect(await fs.readdir(dir)).toEqual([`${JOB}_${submission.id}.txt`]);
    const bytes = await fs.readFile(join(dir, `${JOB}_${submission.id}.txt`), 'latin1');
    expect(bytes).toBe(
      `*,${JOB},${projectName}\r\n` +
        'P,01100,General Conditions,L,,,1275.50,,,,,,,,\r\n' +
        'P,03300,Cast-in-Place Concrete,M,,,98765.43,,,,,,,,\r\n',
    );
    expect((await ledger(submission.id)).map((r) => [r.export_state, r.spectrum_action, r.written_at !== null])).toEqual([
      ['written', null, true],
      ['written', null, true],
    ]);
    expect(standIn.requests('AddPhase')).toHaveLength(0);

    const [waiting] = await reports(submission.id);
    expect(waiting.outcome).toBe('awaiting_import');
    expect(waiting.explanation).toMatch(/^Waiting for Spectrum to import the transfer file: Spectrum shows none of the budget's 2 estimate\(s\) yet/);
    expect(await statusOf(submission.id)).toBe('exported');
    const report = await api(app.url, approver.token).get(`/api/v1/budgets/${submission.id}/reconciliation`);
    expect(report.body).toMatchObject({ outcome: 'awaiting_import', submissionStatus: 'exported' });

    await importTransferFile(standIn, join(dir, `${JOB}_${submission.id}.txt`));
    await sweep(app, submission.id);
    expect(await statusOf(submission.id)).toBe('synced');
    expect((await reports(submission.id)).map((r) => r.outcome)).toEqual(['awaiting_import', 'synced']);
  });

  it('before SPECTRUM_FILE_IMPORT_WAIT, a re-sent budget whose unchanged rows already match is awaiting import, never out_of_sync', async () => {
    const app = await start('1h');
    // An earlier budget left 01100/L at the very amount this one sends again; 03300/M changes.
    standIn.setPhase({ jobNumber: JOB, phaseCode: '01100', costType: 'L', description: 'General Conditions', priceMethodCode: 'J', originalEstCost: '1275.50' });
    standIn.setPhase({ jobNumber: JOB, phaseCode: '03300', costType: 'M', description: 'Concrete', priceMethodCode: 'J', originalEstCost: '50000.00' });
    const submission = await exported(app);

    const [waiting] = await reports(submission.id);
    expect(waiting.outcome).toBe('awaiting_import');
    expect(waiting.explanation).toMatch(
      /^Waiting for Spectrum to import the transfer file: Spectrum already shows 1 of the budget's 2 estimate\(s\) \(rows that held these amounts before match without an import\) and differs on 1 row\(s\)\./,
    );
    expect(await statusOf(submission.id)).toBe('exported');
    await sweep(app, submission.id);
    expect((await reports(submission.id)).map((r) => r.outcome)).toEqual(['awaiting_import', 'awaiting_import']);

    await importTransferFile(standIn, join(dir, `${JOB}_${submission.id}.txt`));
    await sweep(app, submission.id);
    expect(await statusOf(submission.id)).toBe('synced');
  });

  it('a resume after a partial ledger commit rewrites the job file whole: written and pending rows together', async () => {
    const app = await start('1h');
    const submission = await createSubmission(app.em(), { status: 'exporting' });
    const [{ project_name: projectName }] = await sql<{ project_name: string }>(`select project_name from submission where id = $1`, [submission.id]);
    const whole =
      `*,${JOB},${projectName}\r\n` +
      'P,01100,General Conditions,L,,,1275.50,,,,,,,,\r\n' +
      'P,03300,Cast-in-Place Concrete,M,,,98765.43,,,,,,,,\r\n';
    // A previous run put the whole file in place, then the worker died after the ledger committed only its first row.
    await fs.writeFile(join(dir, `${JOB}_${submission.id}.txt`), whole, 'latin1');
    const [first, second] = await ledger(submission.id);
    const writtenAt = new Date('2026-11-25T10:00:00Z');
    await sql(`update submission_row set export_state = 'written', written_at = $2, export_attempts = 1 where id = $1`, [first.id, writtenAt]);

    const result = await app.get(SpectrumExporter).export(submission.id);
    expect(result).toMatchObject({ status: 'exported', written: 2, failed: 0 });
    expect(await fs.readdir(dir)).toEqual([`${JOB}_${submission.id}.txt`]);
    expect(await fs.readFile(join(dir, `${JOB}_${submission.id}.txt`), 'latin1')).toBe(whole);
    const rows = await ledger(submission.id);
    expect(rows.map((r) => [r.id, r.export_state, r.export_attempts])).toEqual([
      [first.id, 'written', 1],
      [second.id, 'written', 1],
    ]);
    // The row the ledger already held as written keeps its record.
    expect(rows[0].written_at).toEqual(writtenAt);
    await waitFor(() => reports(submission.id), 'the reconciliation after the export', { until: (list) => list.length === 1 });
  });

  it('after SPECTRUM_FILE_IMPORT_WAIT without an import, reconciliation judges it: out_of_sync, rows missing in Spectrum', async () => {
    const app = await start('1500ms');
    const submission = await exported(app);
    const [{ exported_at: exportedAt }] = await sql<{ exported_at: Date }>(`select exported_at from submission where id = $1`, [submission.id]);
    const wait = exportedAt.getTime() + 1550 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

    await sweep(app, submission.id);
    expect(await statusOf(submission.id)).toBe('out_of_sync');
    const [, judged] = await reports(submission.id);
    expect(judged.outcome).toBe('out_of_sync');
    expect(judged.explanation).toContain('2 budget rows are missing in Spectrum');
  });
});
