import { Module, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../config/runtime-options';
import { JobName } from './queue.contract';
import { JobObserver } from './job-observer';
import { QueueMetrics } from './queue-metrics';
import { ObservabilityModule } from '../observability/observability.module';
import { Outbox } from './outbox';
import { PendingWorkRepository } from './pending-work.repository';
import { PendingWorkSweeper } from './pending-work-sweeper';
import { QueueConnections } from './queue-connections';
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
  };
}

/**
 * The work queues (infrastructure): Bull queues on Redis, the `pending_work` outbox (Outbox is how
 * every module records and dispatches work), the workers that run each job's one handler, and the
 * sweeper. Built from AppConfig and the process's RuntimeOptions.
 */
@Module({
  imports: [DiscoveryModule, ObservabilityModule],
  providers: [
    { provide: QUEUE_OPTIONS, useFactory: queueOptions, inject: [AppConfig, RUNTIME_OPTIONS] },
    { provide: QueueConnections, useFactory: (options: QueueModuleOptions) => new QueueConnections(options), inject: [QUEUE_OPTIONS] },
    { provide: QUEUES, useFactory: (connections: QueueConnections) => connections.queues, inject: [QueueConnections] },
    PendingWorkRepository,
    WorkQueue,
    Outbox,
    QueueWorker,
    PendingWorkSweeper,
    JobObserver,
    QueueMetrics,
  ],
  exports: [Outbox, WorkQueue, QUEUES, QUEUE_OPTIONS, PendingWorkRepository, PendingWorkSweeper, JobObserver],
})
export class QueueModule implements OnModuleDestroy {
  constructor(private readonly connections: QueueConnections) {}

  async onModuleDestroy(): Promise<void> {
    await this.connections.close();
  }
}
