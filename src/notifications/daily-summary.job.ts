import { Injectable, Logger } from '@nestjs/common';
import { Notifier } from '../budgets/notifier';
import { AppConfig } from '../config/app-config';
import { JobHandler } from '../queue/job-handler.decorator';
import { Outbox } from '../queue/outbox';
import { JobName, JobPayloads } from '../queue/queue.contract';
import { Clock } from '../scheduler/clock';
import { localDate } from '../scheduler/time-window';

const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Records the "ERP Integrations Daily Summary" of one calendar day (DAILY_SUMMARY_TZ) for every
 * subscribed approver, when something awaits acceptance. The ledger key (kind, recipient, day)
 * makes a second run of the same day — another instance, a restart, a retry — record nothing.
 */
@Injectable()
export class DailySummaryJob {
  private readonly logger = new Logger(DailySummaryJob.name);

  constructor(
    private readonly outbox: Outbox,
    private readonly notifier: Notifier,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  @JobHandler(JobName.DailySummary)
  async handle({ day }: JobPayloads[JobName.DailySummary]): Promise<{ day: string; recorded: number } | { skipped: string }> {
    if (!isCalendarDay(day)) {
      this.logger.error(`DailySummary needs a day as YYYY-MM-DD, got ${JSON.stringify(day)}; nothing sent`);
      return { skipped: 'invalid day' };
    }
    // Work that waited past its day (workers down all day) is dropped: the next day has its own.
    const today = localDate(this.clock.now(), this.config.schedules.dailySummaryTz);
    if (day < today) {
      this.logger.warn(`Daily summary of ${day} not sent: that day is over in ${this.config.schedules.dailySummaryTz}`);
      return { skipped: `the day ${day} is over` };
    }
    const recorded = await this.outbox.transaction(() => this.notifier.dailySummary(day));
    return { day, recorded };
  }
}

function isCalendarDay(day: unknown): day is string {
  if (typeof day !== 'string' || !CALENDAR_DAY.test(day)) return false;
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(day);
}
