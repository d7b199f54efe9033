import type { Queue, QueueOptions } from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { backoffDelay } from '../common/retry-policy';
import { QueueModuleOptions } from './queue.tokens';

const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The connector's retry policy for jobs: delay·2^(n−1) up to 10 minutes, with half jitter (a job
 * never comes back at once).
 */
export function jitterBackoff(attemptsMade: number, _error: unknown, options?: { delay?: number }): number {
  return backoffDelay({ baseDelayMs: options?.delay ?? 1000, maxDelayMs: MAX_BACKOFF_MS }, attemptsMade, Math.random, 'half');
}

/**
 * The Redis connections of the Bull queues, handed to @nestjs/bull as the options every queue
 * shares (BullModule.forRootAsync): the command and subscriber connections are shared by every
 * queue, each queue's blocking connection is its own. Bull never closes connections it did not
 * create, so `close` closes the queues first, then these connections.
 */
export class QueueConnections {
  private readonly connections: Redis[] = [];
  private closing?: Promise<void>;

  constructor(private readonly options: Pick<QueueModuleOptions, 'redisUrl' | 'prefix'>) {}

  /** The Bull options every queue shares (prefix, connections, retry strategy, stalled-job checks). */
  sharedQueueOptions(): QueueOptions {
    const redisOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: false };
    const connect = () => {
      const connection = new Redis(this.options.redisUrl, redisOptions);
      connection.on('error', () => undefined); // surfaced by the health check and by job errors
      connection.setMaxListeners(100); // every queue listens on the shared connections
      this.connections.push(connection);
      return connection;
    };
    let client: Redis | undefined;
    let subscriber: Redis | undefined;
    return {
      prefix: this.options.prefix,
      createClient: (type: 'client' | 'subscriber' | 'bclient') =>
        type === 'client' ? (client ??= connect()) : type === 'subscriber' ? (subscriber ??= connect()) : connect(),
      settings: { backoffStrategies: { jitter: jitterBackoff }, stalledInterval: 30_000, maxStalledCount: 2 },
    };
  }

  /** Closes the queues (each waits for its running jobs), then the connections. */
  close(queues: Queue[]): Promise<void> {
    return (this.closing ??= this.closeAll(queues));
  }

  private async closeAll(queues: Queue[]): Promise<void> {
    await Promise.allSettled(queues.map((queue) => queue.close()));
    this.connections.forEach((connection) => connection.disconnect());
  }
}
