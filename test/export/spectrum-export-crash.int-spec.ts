import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Queue } from 'bull';
import Redis from 'ioredis';
import { PendingWorkSweeper } from '../../src/queue/pending-work-sweeper';
import { QueueName } from '../../src/queue/queue.contract';
import { QUEUES } from '../../src/queue/queue.tokens';
import { WorkQueue } from '../../src/queue/work-queue.service';
import { flushRedis, resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { startTestApp, startTestWorker, TestApp } from '../support/test-app';
import { redisUrl, runId, testEnvironment } from '../support/test-env';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, expectExactInSpectrum, manyLines, resetSpectrum, sendsAfterSeenSuccess, SPECTRUM_JOBS, spectrumEnv, startSpectrum, waitForStatus } from './export-kit';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const QUEUE_PREFIX = `test-${runId()}`;

/** The real worker in a child process that the test can SIGKILL. */
function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'export-worker.main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      ...testEnvironment({ APP_ROLE: 'worker', ...env }),
      TEST_QUEUE_PREFIX: QUEUE_PREFIX,
      TEST_BACKOFF_SCALE: '0.001',
      TEST_JOBS: SPECTRUM_JOBS.join(','),
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before it was ready:\n${output}`));
    });
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function writtenCount(submissionId: string): Promise<number> {
  const [{ count }] = await sql<{ count: string }>(
    `select count(*) as count from submission_row where submission_id = $1 and export_state = 'written'`,
    [submissionId],
  );
  return Number(count);
}

describe('export survives a killed worker and a flushed Redis', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let approver: UserWithToken;

  beforeAll(async () => {
    standIn = await startSpectrum();
    await resetDatabase();
    await resetRedis();
    // The HTTP API only: the exports run in the workers each test starts.
    t = await startTestApp({ runWorkers: false, env: spectrumEnv(standIn, { SPECTRUM_CONCURRENCY: '3' }) });
  });
  afterAll(async () => {
    await t?.close();
    await standIn?.stop();
  });
  beforeEach(async () => {
    await resetDatabase();
    await resetRedis();
    resetSpectrum(standIn, { latencyMs: 25 });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });

  it('a worker SIGKILLed mid-export and a new one started: the export resumes and no row the ledger marked written is sent again', async () => {
    const env = spectrumEnv(standIn, { SPECTRUM_CONCURRENCY: '3' });
    const submission = await createSubmission(t.em(), { lines: manyLines(60) });
    const doomed = await spawnWorker(env);
    try {
      await accept(t.url, approver.token, submission.id);
      await waitFor(() => writtenCount(submission.id), 'a dozen rows written', { until: (n) => n >= 12 });
    } finally {
      await killHard(doomed);
    }
    await standIn.idle();
    const seqAtKill = standIn.recorded.length ? standIn.recorded[standIn.recorded.length - 1].seq : 0;
    const writtenAtKill = await sql<{ phase: string; cost_type: string }>(
      `select phase, cost_type from submission_row where submission_id = $1 and export_state = 'written'`,
      [submission.id],
    );
    expect(writtenAtKill.length).toBeGreaterThanOrEqual(12);
    expect(writtenAtKill.length).toBeLessThan(60);
    expect(await waitForStatus(submission.id, ['exporting'])).toBe('exporting');

    // PostgreSQL dropped the dead worker's session and its export lock at once.
    await waitFor(
      // Only this database's: other suites (and other test runs) on the same server hold advisory locks of their own.
      () =>
        sql<{ count: string }>(
          `select count(*) as count from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
        ),
      'the dead worker to lose its advisory lock',
      { until: ([row]) => row.count === '0' },
    );
    // What the 30-second leases do on their own: Bull declares the job stalled and the dead
    // worker's Spectrum permits expire. Done here at once to keep the test short.
    await expireDeadWorker(t, doomed.pid!, submission.id);

    const restarted = await startTestWorker({ jobs: SPECTRUM_JOBS, env });
    try {
      const { requeued } = await restarted.get(PendingWorkSweeper).sweep(0);
      expect(requeued).toBe(1);
      expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 30_000)).toBe('synced');
    } finally {
      await restarted.close();
    }

    await expectExactInSpectrum(standIn, submission.id);
    const afterKill = standIn.requests('AddPhase').filter((r) => r.seq > seqAtKill);
    const resentWritten = afterKill.filter((r) =>
      writtenAtKill.some((w) => w.phase === r.fields.Phase_Code && w.cost_type === r.fields.Cost_Type),
    );
    expect(resentWritten).toEqual([]);
    // It resumed rather than starting over: only the rows the ledger did not hold as written went out again.
    expect(afterKill.length).toBe(60 - writtenAtKill.length);
  }, 60_000);

  it('Redis flushed mid-export: the export still completes; the sweeper re-enqueues the work from PostgreSQL and the lock keeps the second run out', async () => {
    const worker = await startTestWorker({ jobs: SPECTRUM_JOBS, env: spectrumEnv(standIn, { SPECTRUM_CONCURRENCY: '3' }) });
    try {
      const submission = await createSubmission(t.em(), { lines: manyLines(45) });
      await accept(t.url, approver.token, submission.id);
      await waitFor(() => writtenCount(submission.id), 'ten rows written', { until: (n) => n >= 10 });
      await flushRedis();
      const { requeued } = await worker.get(PendingWorkSweeper).sweep(0);
      expect(requeued).toBe(1);

      expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 30_000)).toBe('synced');
      await expectExactInSpectrum(standIn, submission.id);
      const { rowsWithSuccess, violations } = sendsAfterSeenSuccess(standIn);
      expect(violations).toEqual([]);
      expect(rowsWithSuccess).toBe(45);
      expect([...standIn.addPhaseCountsByRow().values()]).toEqual(Array(45).fill(1));
      expect(await sql(`select job_name, state from pending_work order by id`)).toEqual([
        { job_name: 'export-submission', state: 'done' },
        { job_name: 'reconcile-submission', state: 'done' },
      ]);
    } finally {
      await worker.close();
    }
  }, 60_000);
});

/**
 * Bull's stall detection and the semaphore's lease expiry, without waiting their 30 s: the dead
 * worker's active export job ends failed (so only PostgreSQL's pending work, re-enqueued by the
 * sweeper, still knows about it) and its permits are gone.
 */
async function expireDeadWorker(t: TestApp, pid: number, submissionId: string): Promise<void> {
  const [work] = await sql<{ id: string }>(`select id::text from pending_work where job_name = 'export-submission' and payload->>'submissionId' = $1`, [
    submissionId,
  ]);
  const queues = t.app.get<Map<QueueName, Queue>>(QUEUES);
  const jobId = WorkQueue.jobId({ id: work.id, jobName: 'export-submission' as never });
  const redis = new Redis(redisUrl());
  try {
    // The dead worker's job lock (it would have expired by now).
    await redis.del(`${QUEUE_PREFIX}:export:${jobId}:lock`);
    const job = await queues.get('export')!.getJob(jobId);
    expect(job).not.toBeNull();
    job!.discard();
    await job!.moveToFailed({ message: 'the worker was killed' }, true);
    const key = `${QUEUE_PREFIX}:spectrum:concurrency:holders`;
    const holders = await redis.zrange(key, 0, -1);
    const dead = holders.filter((id) => id.includes(`:${pid}:`));
    expect(dead.length).toBeGreaterThan(0);
    await redis.zrem(key, ...dead);
  } finally {
    redis.disconnect();
  }
}
