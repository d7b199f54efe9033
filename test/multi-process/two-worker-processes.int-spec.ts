import { Notifier } from '../../src/budgets/notifier';
import { Outbox } from '../../src/queue/outbox';
import { JobName } from '../../src/queue/queue.contract';
import { RecordedWork } from '../../src/queue/pending-work.repository';
import { WorkQueue } from '../../src/queue/work-queue.service';
import { localDate } from '../../src/scheduler/time-window';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { startWorkerProcess, WorkerProcess } from '../support/worker-process';
import { SmtpStandIn } from '../stand-ins/smtp';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, expectExactInSpectrum, manyLines, resetSpectrum, sendsAfterSeenSuccess, spectrumEnv, startSpectrum, waitForStatus } from '../export/export-kit';
import { recipientsOf } from '../notifications/notification-kit';
import { waitFor } from '../support/wait';

const JOBS = [JobName.ExportSubmission, JobName.ReconcileSubmission, JobName.SendNotification, JobName.DailySummary, JobName.SweepPendingWork];

/**
 * Two real worker processes (the shipped worker, APP_ROLE=worker) on one PostgreSQL and one Redis,
 * fed by the API in this process. Every piece of work is also put on the queue a second time under
 * another job id, so both processes run the same work at once: the export lock, the export ledger
 * and the notification ledger — not the queue — must keep every Spectrum row and every email single.
 */
describe('two worker processes on one PostgreSQL and Redis', () => {
  let spectrum: SpectrumStandIn;
  const smtp = new SmtpStandIn();
  let api_: TestApp;
  let workers: WorkerProcess[] = [];
  let approver: UserWithToken;

  beforeAll(async () => {
    spectrum = await startSpectrum();
    await smtp.start();
    await resetDatabase();
    await resetRedis();
    resetSpectrum(spectrum, { latencyMs: 10 });
    const env = { ...spectrumEnv(spectrum, { SPECTRUM_CONCURRENCY: '4' }), SMTP_URL: smtp.url };
    api_ = await startTestApp({ runWorkers: false, env });
    workers = await Promise.all([startWorkerProcess(JOBS, env), startWorkerProcess(JOBS, env)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(workers.map((worker) => worker.stop()));
    await api_?.close();
    await smtp.stop();
    await spectrum?.stop();
  });

  /** Puts each piece of work on its queue a second time, under another job id. */
  async function duplicate(works: Array<Pick<RecordedWork, 'id' | 'jobName' | 'payload'>>): Promise<void> {
    const queue = api_.get(WorkQueue);
    for (const work of works) {
      await queue.queueFor(work.jobName).add(work.jobName, { ...work.payload, workId: work.id }, { jobId: `again:${work.jobName}:${work.id}` });
    }
  }

  it('exports each budget once and sends each email once', async () => {
    approver = await createUser(api_.em(), { erpPermission: 'standard', canPushToAccounting: true, email: 'approver@example.com' });
    await createUser(api_.em(), { erpPermission: 'admin', canPushToAccounting: true, email: 'second.approver@example.com' });
    const { user: sender } = await createUser(api_.em(), { erpPermission: 'standard', email: 'sender@example.com' });

    // Four budgets (four projects, each its own Spectrum job) accepted at once; each export also queued again.
    const budgets = [];
    for (let i = 1; i <= 4; i++) {
      spectrum.addJob({ jobNumber: `26-20${i}`, description: `Project ${i}`, statusCode: 'A' });
      budgets.push(await createSubmission(api_.em(), { sentBy: sender, job: `26-20${i}`, lines: manyLines(25) }));
    }
    await Promise.all(budgets.map((budget) => accept(api_.url, approver.token, budget.id)));
    await duplicate(await sql<{ id: string; jobName: JobName; payload: Record<string, unknown> }>(
      `select id::text, job_name as "jobName", payload from pending_work where job_name = 'export-submission'`,
    ));

    // Emails: a rejection (to the sender) and today's daily summary (to both approvers), each queued twice.
    const waiting = await createSubmission(api_.em(), { sentBy: sender });
    const rejected = await createSubmission(api_.em(), { sentBy: sender });
    expect((await api(api_.url, approver.token).post(`/api/v1/budgets/${rejected.id}/reject`, { reason: 'Phase 03-300 is double counted' })).status).toBe(200);
    await api_.get(Outbox).transaction(() => api_.get(Notifier).dailySummary(localDate(new Date(), 'UTC')));
    await duplicate(await sql(`select id::text, job_name as "jobName", payload from pending_work where job_name = 'send-notification'`));

    for (const budget of budgets) {
      expect(await waitForStatus(budget.id, ['synced', 'out_of_sync', 'failed_to_export'], 60_000)).toBe('synced');
      await expectExactInSpectrum(spectrum, budget.id, budget.job!);
    }
    await waitFor(
      () => sql<{ open: string }>(`select count(*) as open from pending_work where state = 'pending' and job_name <> 'unlock-budget'`),
      'the workers to finish',
      { until: ([row]) => row.open === '0', timeoutMs: 60_000 },
    );
    await waitFor(
      () => sql<{ open: string }>(`select count(*) as open from notification where state = 'pending'`),
      'every email to be sent',
      { until: ([row]) => row.open === '0' },
    );

    // Spectrum: every row written exactly once, none after its success was seen.
    const { rowsWithSuccess, violations } = sendsAfterSeenSuccess(spectrum);
    expect(violations).toEqual([]);
    expect(rowsWithSuccess).toBe(100);
    expect([...spectrum.addPhaseCountsByRow().values()]).toEqual(Array(100).fill(1));
    // Email: one per ledger row, each sent once.
    expect(recipientsOf(smtp.messages)).toEqual(['approver@example.com', 'second.approver@example.com', 'sender@example.com']);
    expect(await sql(`select kind, recipient_email, state from notification order by kind, recipient_email`)).toEqual([
      { kind: 'daily_summary', recipient_email: 'approver@example.com', state: 'sent' },
      { kind: 'daily_summary', recipient_email: 'second.approver@example.com', state: 'sent' },
      { kind: 'rejected', recipient_email: 'sender@example.com', state: 'sent' },
    ]);
    expect(waiting.status).toBe('ready_to_export');
    // Both processes are still up: nothing crashed on the way.
    expect(workers.map((worker) => worker.child.exitCode)).toEqual([null, null]);
  }, 180_000);
});
