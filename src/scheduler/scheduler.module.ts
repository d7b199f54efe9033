import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { QueueModule } from '../queue/queue.module';
import { ClockModule } from './clock.module';
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
      imports: [ClockModule, QueueModule, ...(options.enabled ? [ScheduleModule.forRoot()] : [])],
      providers: [SchedulerService, ...(options.enabled ? [ScheduleRunner] : [])],
      exports: [SchedulerService],
    };
  }
}
