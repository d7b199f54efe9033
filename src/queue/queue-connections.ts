import Bull, { Queue } from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { backoffDelay } from '../common/retry-policy';
import { QUEUE_NAMES, QueueName } from './queue.contract';
import { QueueModuleOptions } from './queue.tokens';

const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * The connector's retry policy for jobs: delay·2^(n−1) up to 10 minutes, with half jitter (a job
 * never comes back at once).
 */
export function jitterBackoff(attemptsMade: number, _error: unknown, options?: { delay?: number }): number {
  return backoffDelay({ baseDelayMs: options?.delay ?? 1000, maxDelayMs: MAX_BACKOFF_MS }, attemptsMade, Math.random, 'half');
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
      connection.setMaxListeners(100); // every queue listens on the shared connections
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

  private closing?: Promise<void>;

  close(): Promise<void> {
    return (this.closing ??= this.closeAll());
  }

  private async closeAll(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.connections.forEach((connection) => connection.disconnect());
  }
}
