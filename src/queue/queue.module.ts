import { DynamicModule, Global, Module, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import Bull, { Queue } from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { PendingWorkSweeper } from './pending-work-sweeper';
import { QUEUE_NAMES, QueueName } from './queue.contract';
import { QUEUE_OPTIONS, QUEUES, QueueModuleOptions } from './queue.tokens';
import { QueueWorker } from './queue-worker.service';
import { WorkQueue } from './work-queue.service';

const MAX_BACKOFF_MS = 10 * 60_000;

/** Exponential backoff with jitter: delay·2^(n−1), scaled by a random factor in [0.5, 1). */
export function jitterBackoff(attemptsMade: number, _error: unknown, options?: { delay?: number }): number {
  const base = options?.delay ?? 1000;
  const exponential = Math.min(MAX_BACKOFF_MS, base * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential * (0.5 + Math.random() * 0.5));
}

/** Bull queues on one Redis: the command and subscriber connections are shared by every queue. */
export class QueueConnections {
  readonly queues = new Map<QueueName, Queue>();
  private readonly connections: Redis[] = [];

  constructor(options: QueueModuleOptions) {
    const redisOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: false };
    const connect = () => {
      const connection = new Redis(options.redisUrl, redisOptions);
      connection.on('error', () => undefined); // surfaced by the health check and by job errors
      this.connections.push(connection);
      return connection;
    };
    let client: Redis | undefined;
    let subscriber: Redis | undefined;
    const createClient = (type: 'client' | 'subscriber' | 'bclient') =>
      type === 'client' ? (client ??= connect()) : type === 'subscriber' ? (subscriber ??= connect()) : connect();
    for (const name of QUEUE_NAMES) {
      const settings = { backoffStrategies: { jitter: jitterBackoff }, stalledInterval: 30_000, maxStalledCount: 2 };
      this.queues.set(name, new Bull(name, { prefix: options.prefix, createClient, settings }));
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.connections.forEach((connection) => connection.disconnect());
  }
}

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
