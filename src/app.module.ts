import { MikroOrmModule } from '@mikro-orm/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { BudgetsModule } from './budgets/budgets.module';
import { ConsoleModule } from './console/console.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { ormOptions } from './database/mikro-orm.config';
import { HealthController } from './health/health.controller';
import { NotificationsModule } from './notifications/notifications.module';
import { ProcoreModule } from './procore/procore.module';
import { JobName } from './queue/queue.contract';
import { QueueModule } from './queue/queue.module';
import { ReconciliationModule } from './reconciliation/reconciliation.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { SecurityModule } from './security/security.module';
import { SpectrumExportModule } from './spectrum/spectrum-export.module';
import { SpectrumModule } from './spectrum/spectrum.module';
import { UsersModule } from './users/users.module';

export interface AppModuleOptions {
  /** Take jobs off the queues in this process (APP_ROLE worker or all). */
  runWorkers: boolean;
  /** Register the cron schedules in this process. */
  runScheduler: boolean;
  /** Redis key prefix of the queues. */
  queuePrefix?: string;
  /** Multiplies queue retry delays; tests use a small number. */
  backoffScale?: number;
  /** Restrict the workers of this process to these jobs (default: all). */
  jobs?: JobName[];
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        MikroOrmModule.forRoot({ ...ormOptions(config.databaseUrl), registerRequestContext: true }),
        QueueModule.forRoot({
          redisUrl: config.redisUrl,
          prefix: options.queuePrefix ?? 'connector',
          runWorkers: options.runWorkers,
          jobs: options.jobs,
          backoffScale: options.backoffScale ?? 1,
          stuckAfterMinutes: config.schedules.stuckAfterMinutes,
        }),
        AuditModule,
        SecurityModule,
        NotificationsModule,
        SchedulerModule.forRoot({ enabled: options.runScheduler }),
        UsersModule,
        BudgetsModule,
        // The semaphore's keys live under the queue prefix, so deployments (and tests) sharing a Redis never share permits.
        SpectrumModule.forRoot({ keyPrefix: `${options.queuePrefix ?? 'connector'}:spectrum`, backoffScale: options.backoffScale }),
        SpectrumExportModule,
        ReconciliationModule,
        ProcoreModule,
        ConsoleModule,
      ],
      controllers: [HealthController],
    };
  }
}
