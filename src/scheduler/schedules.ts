import type { AppConfig } from '../config/app-config';
import { JobName, JobPayloads } from '../queue/queue.contract';
import { localDate, previousFireTime, windowKey } from './time-window';

/** The sweeper of pending work without a live job runs every minute. */
export const PENDING_WORK_SWEEP_CRON = '* * * * *';

export type ScheduleName = 'daily-summary' | 'poll-projects' | 'reconcile-sweep' | 'sweep-pending-work' | 'sync-users';

/** What one tick of a schedule puts on the queue. */
export interface ScheduledWork<K extends JobName = JobName> {
  jobName: K;
  payload: JobPayloads[K];
  /** Tied to the tick's time window and recorded once ever, so several instances enqueue it once. */
  dedupeKey: string;
}

export interface Schedule<K extends JobName = JobName> {
  name: ScheduleName;
  cron: string;
  /** IANA zone the cron expression is read in. */
  timeZone: string;
  jobName: K;
  /** The work of the tick that `at` belongs to (the latest fire time at or before `at`). */
  workAt(at: Date): ScheduledWork<K>;
}

type WindowJob = JobName.PollProjects | JobName.ReconcileSweep | JobName.SweepPendingWork | JobName.SyncUsers;

/**
 * Every schedule of the connector. All cron expressions are read in DAILY_SUMMARY_TZ, the zone
 * the deployment's business day runs in (so USER_SYNC_CRON `0 2 * * *` is 2 am there).
 */
export function connectorSchedules(schedules: AppConfig['schedules']): Schedule[] {
  const timeZone = schedules.dailySummaryTz;
  const windowed = <K extends WindowJob>(name: ScheduleName, cron: string, jobName: K): Schedule<K> => ({
    name,
    cron,
    timeZone,
    jobName,
    workAt: (at) => {
      const window = windowKey(at, cron, timeZone);
      return { jobName, payload: { window } as JobPayloads[K], dedupeKey: `${jobName}:${window}` };
    },
  });
  const dailySummary: Schedule<JobName.DailySummary> = {
    name: 'daily-summary',
    cron: schedules.dailySummaryCron,
    timeZone,
    jobName: JobName.DailySummary,
    workAt: (at) => {
      // The calendar day of the tick being served, even if the callback runs late past midnight.
      const day = localDate(previousFireTime(schedules.dailySummaryCron, timeZone, at), timeZone);
      return { jobName: JobName.DailySummary, payload: { day }, dedupeKey: `${JobName.DailySummary}:${day}` };
    },
  };
  return [
    dailySummary,
    windowed('poll-projects', schedules.pollCron, JobName.PollProjects),
    windowed('reconcile-sweep', schedules.reconcileCron, JobName.ReconcileSweep),
    windowed('sweep-pending-work', PENDING_WORK_SWEEP_CRON, JobName.SweepPendingWork),
    windowed('sync-users', schedules.userSyncCron, JobName.SyncUsers),
  ] as Schedule[];
}
