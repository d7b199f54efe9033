import { Timings } from '../../src/config/runtime-options';
import { JobName } from '../../src/queue/queue.contract';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { ProcoreStandIn } from '../stand-ins/procore';

/** The jobs of the Procore side; a worker restricted to them needs no other engineer's handlers. */
export const PROCORE_JOBS = [JobName.IngestSubmission, JobName.ProcessWebhookEvent, JobName.PollProjects, JobName.UnlockBudget, JobName.SyncUsers];

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef';

/** Tiny Procore client backoffs and fewer attempts, for every application that talks to the stand-in. */
export const FAST_PROCORE: Timings = { procoreRetry: { baseDelayMs: 5, maxDelayMs: 40, maxAttempts: 3 } };

/** The real application with its Procore workers, pointed at the stand-in, with tiny client backoffs. */
export async function startProcoreApp(standIn: ProcoreStandIn, env: Record<string, string | undefined> = {}): Promise<TestApp> {
  await resetRedis();
  return startTestApp({
    env: { ...standIn.environment(), PROCORE_WEBHOOK_SECRET: WEBHOOK_SECRET, ...env },
    runWorkers: true,
    jobs: PROCORE_JOBS,
    timings: FAST_PROCORE,
  });
}

/**
 * Registers the suite's lifecycle: the stand-in and the application start once before all tests
 * (on an empty database) and stop after them. `onStart` receives the application.
 */
export function useProcoreApp(standIn: ProcoreStandIn, env: Record<string, string | undefined>, onStart: (app: TestApp) => void): void {
  let app: TestApp | undefined;
  beforeAll(async () => {
    await standIn.start();
    await resetDatabase();
    app = await startProcoreApp(standIn, env);
    onStart(app);
  });
  afterAll(async () => {
    await app?.close();
    await standIn.stop();
  });
}

/** Waits until the submission leaves `ingesting`; returns its row. */
export async function waitForIngestion(submissionId: string, timeoutMs?: number): Promise<Record<string, any>> {
  return waitFor(
    async () => {
      const [row] = await sql(`select * from submission where id = $1`, [submissionId]);
      return row && row.status !== 'ingesting' ? row : undefined;
    },
    `submission ${submissionId} to finish ingesting`,
    timeoutMs,
  );
}

/** Waits until no pending work of these jobs is left (all done or failed). */
export async function waitForIdle(jobs: JobName[] = PROCORE_JOBS, timeoutMs?: number): Promise<void> {
  await waitFor(
    async () => {
      const [{ count }] = await sql<{ count: string }>(`select count(*) from pending_work where state = 'pending' and job_name = any($1)`, [jobs]);
      return count === '0';
    },
    'the Procore work to finish',
    timeoutMs,
  );
}
