import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { Clock } from './clock';
import { SchedulerService } from './scheduler.service';
import { ScheduleName } from './schedules';

/**
 * Registers one cron job per schedule with @nestjs/schedule (the expressions come from the
 * configuration, hence SchedulerRegistry rather than @Cron). A tick only enqueues; the queue
 * workers, possibly in other processes, do the work. Provided only where APP_ROLE runs the
 * scheduler; ScheduleModule stops every job on shutdown.
 */
@Injectable()
export class ScheduleRunner implements OnApplicationBootstrap {
  private readonly logger = new Logger(ScheduleRunner.name);

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly scheduler: SchedulerService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    for (const schedule of this.scheduler.schedules.values()) {
      const job = CronJob.from({
        cronTime: schedule.cron,
        timeZone: schedule.timeZone,
        onTick: () => this.tick(schedule.name),
        // A slow tick (database busy) is not stacked with the next one.
        waitForCompletion: true,
        start: false,
        name: schedule.name,
      });
      this.registry.addCronJob(schedule.name, job);
      job.start();
    }
    const list = [...this.scheduler.schedules.values()].map((s) => `${s.name} "${s.cron}"`).join(', ');
    this.logger.log(`Schedules started in ${this.scheduler.schedule('daily-summary').timeZone}: ${list}`);
    void this.scheduler.catchUpDailySummary(this.clock.now()).catch((error: Error) => {
      this.logger.error(`Could not catch up on today's daily summary: ${error.message}`);
    });
  }

  /**
   * One tick: enqueues the work of the window "now" belongs to. `cron` never fires early (it
   * re-arms a timer that woke too soon), so "now" is at or after the tick it serves. Never throws.
   */
  async tick(name: ScheduleName): Promise<void> {
    const at = this.clock.now();
    try {
      await this.scheduler.enqueue(name, at);
    } catch (error) {
      // The next tick tries again; missing one poll or sweep is harmless, and the daily summary
      // is caught up on the next start.
      this.logger.error(`Schedule ${name} could not enqueue its work at ${at.toISOString()}: ${(error as Error).message}`);
    }
  }
}
