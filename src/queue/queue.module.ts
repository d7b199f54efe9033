import { DynamicModule, Global, Module, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Queue } from 'bull';
import { PendingWorkSweeper } from './pending-work-sweeper';
import { QueueName } from './queue.contract';
import { QueueConnections } from './queue-connections';
import { QUEUE_OPTIONS, QUEUES, QueueModuleOptions } from './queue.tokens';
import { QueueWorker } from './queue-worker.service';
import { WorkQueue } from './work-queue.service';

@Global()
@Module({})
export class QueueModule implements OnModuleDestroy {
  constructor(private readonly connections: QueueConnections) {}

  static forRoot(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: QUEUE_OPTIONS, useValue: options },
        { provide: QueueConnections, useFactory: () => new QueueConnections(options) },
        { provide: QUEUES, useFactory: (connections: QueueConnections) => connections.queues, inject: [QueueConnections] },
        {
          provide: WorkQueue,
          useFactory: (queues: Map<QueueName, Queue>) => {
            const workQueue = new WorkQueue(queues);
            workQueue.backoffScale = options.backoffScale;
            return workQueue;
          },
          inject: [QUEUES],
        },
        QueueWorker,
        PendingWorkSweeper,
      ],
      exports: [WorkQueue, QUEUES, QUEUE_OPTIONS, PendingWorkSweeper, QueueWorker, QueueConnections],
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.connections.close();
  }
}
