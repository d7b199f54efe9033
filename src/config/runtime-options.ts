/**
 * How this process runs, beside the validated environment (AppConfig): its role (workers,
 * schedules), the queues' key prefix, and the timings tests shorten. Provided with AppConfig by
 * the configuration module; modules inject it rather than exposing mutable fields or statics.
 * `timings` are read when used, so a test can shorten one on a running application
 * (test/support/test-app.ts, withTimings) and put it back.
 */
export interface RuntimeOptions {
  /** Take jobs off the queues in this process (APP_ROLE worker or all). */
  runWorkers: boolean;
  /** Register the cron schedules in this process. */
  runScheduler: boolean;
  /** Redis key prefix of the queues (and of the Spectrum semaphore under it). Default `connector`. */
  queuePrefix: string;
  /** Multiplies queue and Spectrum retry delays; tests use a small number. Default 1. */
  backoffScale: number;
  /** Restrict the workers of this process to these jobs (default: all). */
  jobs?: string[];
  /** Timings that production leaves at their defaults and tests shorten. */
  timings: Timings;
}

export interface Timings {
  /** Age of a send after which transient Procore failures end it (INGEST_GIVE_UP_AFTER_MS). */
  ingestGiveUpAfterMs?: number;
  /** Age of a webhook event after which failures give it up (WEBHOOK_GIVE_UP_AFTER_MS). */
  webhookGiveUpAfterMs?: number;
  /** How long to wait for a Procore project's lock (PROJECT_LOCK_WAIT_MS). */
  projectLockWaitMs?: number;
  /** The Procore client's retries: tiny backoffs and fewer attempts in tests. */
  procoreRetry?: { baseDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
}

export const RUNTIME_OPTIONS = Symbol('RUNTIME_OPTIONS');

export function runtimeOptions(options: Partial<RuntimeOptions> = {}): RuntimeOptions {
  return {
    runWorkers: options.runWorkers ?? false,
    runScheduler: options.runScheduler ?? false,
    queuePrefix: options.queuePrefix ?? 'connector',
    backoffScale: options.backoffScale ?? 1,
    jobs: options.jobs,
    timings: options.timings ?? {},
  };
}
