import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Outbox } from '../queue/outbox';
import { RecordedWork } from '../queue/pending-work.repository';
import { JobName } from '../queue/queue.contract';
import { connectorSchedules, Schedule, ScheduleName } from './schedules';
import { localDate, previousFireTime } from './time-window';

/**
 * What each schedule enqueues, for a given instant. Cron callbacks (ScheduleRunner) call these
 * with the clock's "now"; tests and the CLI call them with any instant. Nothing here does the work
 * itself: it records one pending work item per time window (`once: true` on a key tied to the
 * window), so however many instances fire for the same tick, the work is recorded once.
 */
@Injectable()
export class SchedulerService {
  readonly schedules: ReadonlyMap<ScheduleName, Schedule>;

  constructor(
    private readonly outbox: Outbox,
    config: AppConfig,
  ) {
    this.schedules = new Map(connectorSchedules(config.schedules).map((schedule) => [schedule.name, schedule]));
  }

  /** DailySummary {day} for the local day (DAILY_SUMMARY_TZ) of the DAILY_SUMMARY_CRON tick at or before `at`. */
  enqueueDailySummary(at: Date): Promise<RecordedWork> {
    return this.enqueue('daily-summary', at);
  }

  /** PollProjects {window} for the POLL_CRON tick at or before `at`. */
  enqueuePollProjects(at: Date): Promise<RecordedWork> {
    return this.enqueue('poll-projects', at);
  }

  /** ReconcileSweep {window} for the RECONCILE_CRON tick at or before `at`. */
  enqueueReconcileSweep(at: Date): Promise<RecordedWork> {
    return this.enqueue('reconcile-sweep', at);
  }

  /** SweepPendingWork {window} for the minute of `at`. */
  enqueuePendingWorkSweep(at: Date): Promise<RecordedWork> {
    return this.enqueue('sweep-pending-work', at);
  }

  /** SyncUsers {window} for the USER_SYNC_CRON tick at or before `at`. */
  enqueueUserSync(at: Date): Promise<RecordedWork> {
    return this.enqueue('sync-users', at);
  }

  /**
   * The daily summary of the local day of `at`, now, whatever the hour and whether or not the
   * scheduled one already ran (for the CLI and the demo). The notification ledger still sends each
   * approver at most one summary that day.
   */
  async runDailySummaryNow(at: Date): Promise<RecordedWork> {
    const day = localDate(at, this.schedule('daily-summary').timeZone);
    return this.outbox.enqueue(JobName.DailySummary, { day }, { dedupeKey: `${JobName.DailySummary}:now:${day}` });
  }

  /**
   * Records the work of the tick `at` belongs to, once ever, and puts it on its queue when this
   * call recorded it. (Work another instance recorded but could not dispatch is the sweeper's.)
   */
  async enqueue(name: ScheduleName, at: Date): Promise<RecordedWork> {
    const work = this.schedule(name).workAt(at);
    return this.outbox.enqueue(work.jobName, work.payload, { dedupeKey: work.dedupeKey, once: true, onlyIfNew: true });
  }

  /**
   * A process that was down at today's daily-summary tick enqueues it on start (a no-op when any
   * instance already did). Only for today: a summary of a day that is over is never sent.
   */
  async catchUpDailySummary(at: Date): Promise<RecordedWork | null> {
    const schedule = this.schedule('daily-summary');
    const tick = previousFireTime(schedule.cron, schedule.timeZone, at);
    if (localDate(tick, schedule.timeZone) !== localDate(at, schedule.timeZone)) return null;
    return this.enqueue('daily-summary', at);
  }

  schedule(name: ScheduleName): Schedule {
    const schedule = this.schedules.get(name);
    if (!schedule) throw new Error(`unknown schedule "${name}"`);
    return schedule;
  }
}
