import { JobName } from './queue.contract';

/** Injection token for the map of every Bull queue by name. */
export const QUEUES = Symbol('QUEUES');
/** Injection token for the worker options (which roles this process plays, test time scale). */
export const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');

export interface QueueModuleOptions {
  redisUrl: string;
  /** Key prefix in Redis; lets several deployments (or test workers) share one server. */
  prefix: string;
  /** Whether this process takes jobs off the queues. */
  runWorkers: boolean;
  /** Restrict this worker to these jobs (default: every job of the contract). */
  jobs?: JobName[];
  /** Multiplies every retry delay (tests use a small number). */
  backoffScale: number;
  stuckAfterMinutes: number;
  /** SHUTDOWN_TIMEOUT_MS: how long a stopping worker lets its running jobs end. */
  shutdownTimeoutMs: number;
}
