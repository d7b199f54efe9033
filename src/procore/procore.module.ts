import { Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { BudgetsModule } from '../budgets/budgets.module';
import { AppConfig } from '../config/app-config';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../config/runtime-options';
import { DatabaseModule } from '../database/database.module';
import { QueueModule } from '../queue/queue.module';
import { UsersModule } from '../users/users.module';
import { BudgetCheck } from './ingestion/budget-check.service';
import { BudgetCreator } from './ingestion/budget-creator.service';
import { BudgetIngestion } from './ingestion/budget-ingestion.service';
import { BudgetReader } from './ingestion/budget-reader.service';
import { ProjectLock } from './ingestion/project-lock';
import { MappingStore } from './mapping/mapping-store';
import { ProjectPoller } from './polling/project-poller.service';
import { ProjectScope } from './project-scope';
import { ProcoreClient } from './client/procore-client';
import { procoreClientOptions } from './client/procore-client.options';
import { observedFetch } from './client/observed-fetch';
import { RedisRateBudget } from './client/shared-rate-budget';
import { MetricsService } from '../observability/metrics.service';
import { ObservabilityModule } from '../observability/observability.module';
import { ProcoreJobs } from './procore.jobs';
import { BudgetRemap } from './remap/budget-remap.service';
import { BudgetSender } from './send/budget-sender.service';
import { BudgetUnlock } from './unlock/budget-unlock.service';
import { ProcoreUserSync } from './users/procore-user-sync.service';
import { ProcoreWebhookController } from './webhooks/procore-webhook.controller';
import { WebhookProcessor } from './webhooks/webhook-processor.service';
import { ProjectHookRegistrar } from './webhooks/project-hook-registrar.service';
import { WebhookEventQueries } from './webhooks/webhook-event-queries.service';
import { WebhookEventRepository } from './webhooks/webhook-event.repository';
import { WebhookEventsController } from './webhooks/webhook-events.controller';
import { WebhookJobLogContext } from './webhooks/webhook-job-log-context';
import { WebhookReceiver } from './webhooks/webhook-receiver.service';
import { WebhookRetention } from './webhooks/webhook-retention.service';

function procoreMetrics(metrics: MetricsService) {
  return {
    response(status: number | undefined, rateLimit: { limit?: number; remaining?: number }) {
      metrics.procoreRequests.inc({ status: status === undefined ? 'error' : String(status) });
      if (status === 429) metrics.procoreRateLimited.inc();
      if (rateLimit.remaining !== undefined) metrics.procoreRateRemaining.set(rateLimit.remaining);
      if (rateLimit.limit !== undefined) metrics.procoreRateLimit.set(rateLimit.limit);
    },
  };
}

/**
 * The Procore side: the client, the mapping, the three doors of ingestion (send, webhooks,
 * polling), budget unlocks and the user sync, with their queue jobs.
 */
@Module({
  imports: [AuditModule, BudgetsModule, DatabaseModule, ObservabilityModule, QueueModule, UsersModule],
  controllers: [ProcoreWebhookController, WebhookEventsController],
  providers: [
    {
      // Procore's rate-limit budget, shared through Redis by every process of the deployment.
      provide: RedisRateBudget,
      useFactory: (config: AppConfig, runtime: RuntimeOptions) =>
        new RedisRateBudget({
          redisUrl: config.redisUrl,
          prefix: runtime.queuePrefix,
          apiUrl: config.procore.apiUrl,
          clientId: config.procore.clientId,
          companyId: config.procore.companyId,
          logger: new Logger('ProcoreClient'),
        }),
      inject: [AppConfig, RUNTIME_OPTIONS],
    },
    {
      provide: ProcoreClient,
      // RuntimeOptions' procoreRetry: tests shorten the backoffs; production leaves it empty.
      // Every answer is counted (connector_procore_*) through the client's one fetch.
      useFactory: (config: AppConfig, runtime: RuntimeOptions, metrics: MetricsService, budget: RedisRateBudget) =>
        new ProcoreClient(
          {
            ...procoreClientOptions(config, { ...runtime.timings.procoreRetry, fetch: observedFetch(procoreMetrics(metrics)) }),
            sharedRateBudget: budget,
          },
          new Logger('ProcoreClient'),
        ),
      inject: [AppConfig, RUNTIME_OPTIONS, MetricsService, RedisRateBudget],
    },
    // Read and checked at start (a bad file stops the process, naming the problem), then again on change or SIGHUP.
    { provide: MappingStore, useFactory: (config: AppConfig) => MappingStore.fromConfig(config), inject: [AppConfig] },
    ProjectLock,
    ProjectScope,
    BudgetCreator,
    BudgetReader,
    BudgetIngestion,
    BudgetCheck,
    BudgetSender,
    BudgetRemap,
    WebhookReceiver,
    WebhookProcessor,
    ProjectHookRegistrar,
    WebhookEventRepository,
    WebhookEventQueries,
    WebhookRetention,
    WebhookJobLogContext,
    ProjectPoller,
    BudgetUnlock,
    ProcoreUserSync,
    ProcoreJobs,
  ],
  exports: [ProcoreClient, ProcoreUserSync, WebhookEventQueries, BudgetRemap, BudgetSender],
})
export class ProcoreModule implements OnApplicationShutdown {
  constructor(private readonly rateBudget: RedisRateBudget) {}

  /** Last: jobs still finishing during shutdown keep sharing the budget. */
  async onApplicationShutdown(): Promise<void> {
    await this.rateBudget.close();
  }
}
