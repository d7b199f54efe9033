import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Clock } from './clock';
import { ScheduleRunner } from './schedule-runner.service';
import { SchedulerService } from './scheduler.service';

export interface SchedulerModuleOptions {
  /** Run the cron schedules in this process (APP_ROLE worker or all). */
  enabled: boolean;
}

/**
 * The connector's schedules. SchedulerService (what each schedule enqueues) is always available;
 * the cron jobs themselves are registered only in processes that run the scheduler.
 */
@Module({})
export class SchedulerModule {
  static forRoot(options: SchedulerModuleOptions): DynamicModule {
    return {
      module: SchedulerModule,
      // The Clock is everyone's "now" (the daily summary job reads it too).
      global: true,
      imports: options.enabled ? [ScheduleModule.forRoot()] : [],
      providers: [Clock, SchedulerService, ...(options.enabled ? [ScheduleRunner] : [])],
      exports: [Clock, SchedulerService],
    };
  }
}
