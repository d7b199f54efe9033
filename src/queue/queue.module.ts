import { BullModule, getQueueToken } from '@nestjs/bull';
import { Inject, Module, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { Queue } from 'bull';
import { AppConfig } from '../config/app-config';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../config/runtime-options';
import { ProcessShutdownModule } from '../lifecycle/process-shutdown';
import { JobName, QUEUE_NAMES, QueueName } from './queue.contract';
import { JobObserver } from './job-observer';
import { QueueMetrics } from './queue-metrics';
import { ObservabilityModule } from '../observability/observability.module';
import { Outbox } from './outbox';
import { PendingWorkRepository } from './pending-work.repository';
import { PendingWorkSweeper } from './pending-work-sweeper';
import { QueueConnections } from './queue-connections';
import { queueProcessorProviders } from './queue-processors';
import { QUEUE_OPTIONS, QUEUES, QueueModuleOptions } from './queue.tokens';
import { QueueWorker } from './queue-worker.service';
import { WorkQueue } from './work-queue.service';

function queueOptions(config: AppConfig, runtime: RuntimeOptions): QueueModuleOptions {
  return {
    redisUrl: config.redisUrl,
    prefix: runtime.queuePrefix,
    runWorkers: runtime.runWorkers,
    jobs: runtime.jobs as JobName[] | undefined,
    backoffScale: runtime.backoffScale,
    stuckAfterMinutes: config.schedules.stuckAfterMinutes,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  };
}

/** The options of the queue module and the Redis connections its queues share. */
@Module({
  providers: [
    { provide: QUEUE_OPTIONS, useFactory: queueOptions, inject: [AppConfig, RUNTIME_OPTIONS] },
    { provide: QueueConnections, useFactory: (options: QueueModuleOptions) => new QueueConnections(options), inject: [QUEUE_OPTIONS] },
  ],
  exports: [QUEUE_OPTIONS, QueueConnections],
})
class QueueOptionsModule {}

/** One Bull queue per queue of the contract (inject one with `@InjectQueue(name)`). */
const bullQueues = BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name })));

/**
 * The work queues (infrastructure): Bull queues on Redis through @nestjs/bull (BullModule, one
 * `@Processor` per queue in worker processes), the `pending_work` outbox (Outbox is how every module
 * records and dispatches work), the worker that runs each job's one `@JobHandler`, and the sweeper.
 * Built from AppConfig and the process's RuntimeOptions. `QUEUES` is every queue by name.
 */
@Module({
  imports: [
    DiscoveryModule,
    ObservabilityModule,
    ProcessShutdownModule,
    QueueOptionsModule,
    BullModule.forRootAsync({
      imports: [QueueOptionsModule],
      useFactory: (connections: QueueConnections) => connections.sharedQueueOptions(),
      inject: [QueueConnections],
    }),
    bullQueues,
  ],
  providers: [
    {
      provide: QUEUES,
      useFactory: (...queues: Queue[]) => new Map<QueueName, Queue>(QUEUE_NAMES.map((name, i) => [name, queues[i]])),
      inject: QUEUE_NAMES.map((name) => getQueueToken(name)),
    },
    PendingWorkRepository,
    WorkQueue,
    Outbox,
    QueueWorker,
    ...queueProcessorProviders(),
    PendingWorkSweeper,
    JobObserver,
    QueueMetrics,
  ],
  exports: [Outbox, WorkQueue, QUEUES, QueueOptionsModule, bullQueues, PendingWorkRepository, PendingWorkSweeper, JobObserver],
})
export class QueueModule implements OnModuleDestroy {
  constructor(
    private readonly connections: QueueConnections,
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.connections.close([...this.queues.values()]);
  }
}
