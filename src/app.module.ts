import { MikroOrmModule } from '@mikro-orm/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { BudgetsApiModule } from './budgets/api/budgets-api.module';
import { BudgetsModule } from './budgets/budgets.module';
import { ConsoleModule } from './console/console.module';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { runtimeOptions, Timings } from './config/runtime-options';
import { ormOptions } from './database/mikro-orm.config';
import { ENTITIES } from './entities';
import { HealthModule } from './health/health.module';
import { NotificationsModule } from './notifications/notifications.module';
import { ObservabilityModule } from './observability/observability.module';
import { ProcoreModule } from './procore/procore.module';
import { JobName } from './queue/queue.contract';
import { QueueModule } from './queue/queue.module';
import { ReconciliationModule } from './reconciliation/reconciliation.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { SecurityModule } from './security/security.module';
import { SpectrumExportModule } from './spectrum/spectrum-export.module';
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
  /** Timings tests shorten (give-up ages, lock waits, Procore retries). */
  timings?: Timings;
}

/**
 * The application: configuration (the one global module) and the ORM, then every feature module.
 * Each module imports what it uses; this one only puts them together.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config, runtimeOptions(options)),
        MikroOrmModule.forRoot({ ...ormOptions(config.databaseUrl, ENTITIES), registerRequestContext: true }),
        ObservabilityModule,
        QueueModule,
        AuditModule,
        SecurityModule,
        UsersModule,
        BudgetsModule,
        NotificationsModule,
        SchedulerModule.forRoot({ enabled: options.runScheduler }),
        SpectrumExportModule,
        ReconciliationModule,
        ProcoreModule,
        BudgetsApiModule,
        ConsoleModule,
        HealthModule,
      ],
    };
  }
}
