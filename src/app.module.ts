import { MikroOrmModule } from '@mikro-orm/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { BudgetsModule } from './budgets/budgets.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { ormOptions } from './database/mikro-orm.config';
import { HealthController } from './health/health.controller';
import { NotificationsModule } from './notifications/notifications.module';
import { JobName } from './queue/queue.contract';
import { QueueModule } from './queue/queue.module';
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
        NotificationsModule,
        UsersModule,
        BudgetsModule,
      ],
      controllers: [HealthController],
    };
  }
}
