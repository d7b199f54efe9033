import { Logger, Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { AppConfig } from '../config/app-config';
import { BudgetCheck } from './ingestion/budget-check.service';
import { BudgetCreator } from './ingestion/budget-creator.service';
import { BudgetIngestion } from './ingestion/budget-ingestion.service';
import { BudgetReader } from './ingestion/budget-reader.service';
import { SnapshotStore } from './ingestion/snapshot-store.service';
import { ProjectLock } from './ingestion/project-lock';
import { SubmissionIntake } from './ingestion/submission-intake.service';
import { MappingStore } from './mapping/mapping-store';
import { ProjectPoller } from './polling/project-poller.service';
import { ProcoreClient, ProcoreClientOptions } from './client/procore-client';
import { procoreClientOptions } from './client/procore-client.options';
import { ProjectScope } from './project-scope';
import { ProcoreJobs } from './procore.jobs';
import { BudgetRemapController } from './remap/budget-remap.controller';
import { BudgetRemap } from './remap/budget-remap.service';
import { BudgetSendController } from './send/budget-send.controller';
import { BudgetSender } from './send/budget-sender.service';
import { BudgetUnlock } from './unlock/budget-unlock.service';
import { ProcoreUserSync } from './users/procore-user-sync.service';
import { ProcoreWebhookController } from './webhooks/procore-webhook.controller';
import { WebhookProcessor } from './webhooks/webhook-processor.service';
import { ProjectHookRegistrar } from './webhooks/project-hook-registrar.service';
import { WebhookEventQueries } from './webhooks/webhook-event-queries.service';
import { WebhookEventsController } from './webhooks/webhook-events.controller';
import { WebhookReceiver } from './webhooks/webhook-receiver.service';
import { WebhookRetention } from './webhooks/webhook-retention.service';

/**
 * The Procore side: the client, the mapping, the three doors of ingestion (send, webhooks,
 * polling), budget unlocks and the user sync, with their queue jobs.
 */
@Module({
  imports: [BudgetsModule],
  controllers: [BudgetSendController, BudgetRemapController, ProcoreWebhookController, WebhookEventsController],
  providers: [
    {
      provide: ProcoreClient,
      useFactory: (config: AppConfig) => new ProcoreClient(procoreClientOptions(config, ProcoreModule.clientOverrides), new Logger('ProcoreClient')),
      inject: [AppConfig],
    },
    // Read and checked at start (a bad file stops the process, naming the problem), then again on change or SIGHUP.
    { provide: MappingStore, useFactory: (config: AppConfig) => MappingStore.fromConfig(config), inject: [AppConfig] },
    ProjectLock,
    ProjectScope,
    BudgetCreator,
    BudgetReader,
    SnapshotStore,
    SubmissionIntake,
    BudgetIngestion,
    BudgetCheck,
    BudgetSender,
    BudgetRemap,
    WebhookReceiver,
    WebhookProcessor,
    ProjectHookRegistrar,
    WebhookEventQueries,
    WebhookRetention,
    ProjectPoller,
    BudgetUnlock,
    ProcoreUserSync,
    ProcoreJobs,
  ],
  exports: [ProcoreClient, ProcoreUserSync, WebhookEventQueries, BudgetRemap],
})
export class ProcoreModule {
  /**
   * Test seam only: client options laid over the configuration (tiny backoffs, fewer attempts).
   * Set before the application is created; production leaves it empty.
   */
  static clientOverrides: Partial<ProcoreClientOptions> = {};
}
