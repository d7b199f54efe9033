import { ModulesContainer } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { JobName } from '../../src/queue/queue.contract';
import { Clock } from '../../src/scheduler/clock';
import { ScheduleRunner } from '../../src/scheduler/schedule-runner.service';
import { SchedulerService } from '../../src/scheduler/scheduler.service';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { startTestApp, startTestWorker, TestApp } from '../support/test-app';

const CHICAGO = {
  DAILY_SUMMARY_TZ: 'America/Chicago',
  DAILY_SUMMARY_CRON: '0 7 * * *',
  POLL_CRON: '*/15 * * * *',
  RECONCILE_CRON: '*/30 * * * *',
  USER_SYNC_CRON: '0 2 * * *',
};

/** Scheduled work in PostgreSQL for the 2025 test instants (the catch-up on start records today's). */
const scheduledWork = () =>
  sql<{ job_name: string; payload: Record<string, string>; dedupe_key: string }>(
    `select job_name, payload, dedupe_key from pending_work where dedupe_key like '%:2025-%' order by dedupe_key`,
  );

describe('scheduler', () => {
  beforeEach(async () => {
    await resetDatabase();
    await resetRedis();
  });

  it('registers its cron jobs only in processes that run the scheduler, and stops them on shutdown', async () => {
    const api = await startTestApp({ runScheduler: false });
    try {
      const providers = [...api.get(ModulesContainer).values()].flatMap((module) => [...module.providers.keys()]);
      expect(providers).not.toContain(SchedulerRegistry);
      expect(providers).not.toContain(ScheduleRunner);
      expect(api.get(SchedulerService)).toBeInstanceOf(SchedulerService);
    } finally {
      await api.close();
    }

    const worker = await startTestWorker({ runWorkers: false, runScheduler: true, env: CHICAGO });
    const jobs = worker.get(SchedulerRegistry).getCronJobs();
    try {
      expect(
        [...jobs].map(([name, job]) => [name, job.cronTime.source, job.cronTime.timeZone, job.isActive]).sort(),
      ).toEqual([
        ['daily-summary', '0 7 * * *', 'America/Chicago', true],
        ['poll-projects', '*/15 * * * *', 'America/Chicago', true],
        ['reconcile-sweep', '*/30 * * * *', 'America/Chicago', true],
        ['sweep-pending-work', '* * * * *', 'America/Chicago', true],
        ['sync-users', '0 2 * * *', 'America/Chicago', true],
      ]);
    } finally {
      await worker.close();
    }
    expect([...jobs.values()].some((job) => job.isActive)).toBe(false);
  });

  it('timezone: with America/Chicago and "0 7 * * *" the tick is 13:00Z in winter and 12:00Z in summer, for that local day', async () => {
    const worker = await startTestWorker({ runWorkers: false, runScheduler: true, env: CHICAGO });
    try {
      const job = worker.get(SchedulerRegistry).getCronJob('daily-summary');
      const clock = worker.get(Clock);
      const next = (after: string) => job.cronTime.getNextDateFrom(new Date(after), 'America/Chicago').toJSDate().toISOString();
      expect(next('2025-01-15T00:00:00Z')).toBe('2025-01-15T13:00:00.000Z');
      expect(next('2025-07-15T00:00:00Z')).toBe('2025-07-15T12:00:00.000Z');

      // Fire the registered job as cron would at those instants (the clock says when "now" is).
      for (const at of ['2025-01-15T13:00:00Z', '2025-07-15T12:00:00Z', '2025-01-16T05:59:59Z' /* 23:59:59 CST, same day */]) {
        jest.spyOn(clock, 'now').mockReturnValue(new Date(at));
        await job.fireOnTick();
      }
      expect(await scheduledWork()).toEqual([
        { job_name: JobName.DailySummary, payload: { day: '2025-01-15' }, dedupe_key: 'daily-summary:2025-01-15' },
        { job_name: JobName.DailySummary, payload: { day: '2025-07-15' }, dedupe_key: 'daily-summary:2025-07-15' },
      ]);
    } finally {
      jest.restoreAllMocks();
      await worker.close();
    }
  });

  it('several instances firing the same ticks record the work of each window once', async () => {
    const a = await startTestApp({ runScheduler: false, env: CHICAGO });
    const b = await startTestWorker({ runWorkers: false, runScheduler: false, env: CHICAGO });
    try {
      const fireAll = (instance: Pick<TestApp, 'get'>, at: Date) => {
        const scheduler = instance.get(SchedulerService);
        return Promise.all([
          scheduler.enqueueDailySummary(at),
          scheduler.enqueuePollProjects(at),
          scheduler.enqueueReconcileSweep(at),
          scheduler.enqueuePendingWorkSweep(at),
          scheduler.enqueueUserSync(at),
        ]);
      };
      // Two instances at the 07:00 CST tick, one of them again 20 s late.
      const results = await Promise.all([
        fireAll(a, new Date('2025-01-15T13:00:00.004Z')),
        fireAll(b, new Date('2025-01-15T13:00:00.020Z')),
        fireAll(b, new Date('2025-01-15T13:00:20Z')),
      ]);
      expect(results.flat().filter((work) => work.created)).toHaveLength(5);
      expect(await scheduledWork()).toEqual([
        { job_name: JobName.DailySummary, payload: { day: '2025-01-15' }, dedupe_key: 'daily-summary:2025-01-15' },
        { job_name: JobName.PollProjects, payload: { window: '2025-01-15T07:00:00-06:00' }, dedupe_key: 'poll-projects:2025-01-15T07:00:00-06:00' },
        { job_name: JobName.ReconcileSweep, payload: { window: '2025-01-15T07:00:00-06:00' }, dedupe_key: 'reconcile-sweep:2025-01-15T07:00:00-06:00' },
        { job_name: JobName.SweepPendingWork, payload: { window: '2025-01-15T07:00:00-06:00' }, dedupe_key: 'sweep-pending-work:2025-01-15T07:00:00-06:00' },
        { job_name: JobName.SyncUsers, payload: { window: '2025-01-15T02:00:00-06:00' }, dedupe_key: 'sync-users:2025-01-15T02:00:00-06:00' },
      ]);

      // A quarter later: new poll and sweep windows; the rest are the same windows.
      await Promise.all([fireAll(a, new Date('2025-01-15T13:15:00Z')), fireAll(b, new Date('2025-01-15T13:15:00Z'))]);
      expect((await scheduledWork()).map((work) => work.dedupe_key)).toEqual([
        'daily-summary:2025-01-15',
        'poll-projects:2025-01-15T07:00:00-06:00',
        'poll-projects:2025-01-15T07:15:00-06:00',
        'reconcile-sweep:2025-01-15T07:00:00-06:00',
        'sweep-pending-work:2025-01-15T07:00:00-06:00',
        'sweep-pending-work:2025-01-15T07:15:00-06:00',
        'sync-users:2025-01-15T02:00:00-06:00',
      ]);
      // Each recorded window was put on its queue once.
      const [{ enqueued }] = await sql<{ enqueued: string }>(`select count(*) as enqueued from pending_work where enqueued_at is not null and dedupe_key like '%:2025-%'`);
      expect(enqueued).toBe('7');
    } finally {
      await Promise.allSettled([a.close(), b.close()]);
    }
  });
});
