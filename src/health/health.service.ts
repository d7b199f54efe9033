import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorFunction, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { Queue } from 'bull';
import { describeMigrations } from '../database/migration-status';
import { QueueName } from '../queue/queue.contract';
import { QUEUES } from '../queue/queue.tokens';
import { HealthRepository } from './health.repository';
import { WorkerHeartbeat } from './worker-heartbeat';

/** Longest a dependency may take to answer a check. */
export const CHECK_TIMEOUT_MS = 2_000;

/** A health answer: terminus' JSON (`status`, `info`, `error`, `details`) and its HTTP status. */
export interface HealthAnswer {
  statusCode: 200 | 503;
  body: HealthCheckResult;
}

/**
 * Liveness and readiness with @nestjs/terminus, for the API's controller and a worker's
 * HEALTH_PORT server alike.
 * - live: the process is up and its event loop answers; no dependency is asked (a restart would
 *   not fix PostgreSQL). It stays 200 while the process shuts down gracefully.
 * - ready: PostgreSQL answers, Redis answers, no migration is pending, and (in a process that takes
 *   jobs or runs schedules) a recent worker heartbeat. 503 names each failing check under `error`.
 * Messages never carry credentials (URLs lose their user information).
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');
  private lastFailing = '';

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly database: HealthRepository,
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
    private readonly heartbeat: WorkerHeartbeat,
  ) {}

  async live(): Promise<HealthAnswer> {
    const answer = await this.run([
      async () => this.indicator.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()) }),
    ]);
    // Shutting down is not dead: a liveness probe must not kill a worker finishing its calls.
    return answer.body.status === 'shutting_down' ? { ...answer, statusCode: 200 } : answer;
  }

  async ready(): Promise<HealthAnswer> {
    const checks: HealthIndicatorFunction[] = [
      () => this.probe('database', () => this.database.ping()),
      () => this.probe('redis', () => this.queues.get('maintenance')!.client.ping()),
      () => this.migrations(),
    ];
    if (this.heartbeat.enabled) checks.push(async () => this.worker());
    const answer = await this.run(checks);
    this.noteTransition(answer);
    return answer;
  }

  private async run(checks: HealthIndicatorFunction[]): Promise<HealthAnswer> {
    try {
      return { statusCode: 200, body: await this.health.check(checks) };
    } catch (error) {
      if (error instanceof ServiceUnavailableException) return { statusCode: 503, body: error.getResponse() as HealthCheckResult };
      throw error;
    }
  }

  private async probe(key: string, check: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(key);
    try {
      await withTimeout(check());
      return session.up();
    } catch (error) {
      return session.down({ message: redact(error) });
    }
  }

  private async migrations(): Promise<HealthIndicatorResult> {
    const session = this.indicator.check('migrations');
    let pending: string[];
    try {
      pending = await withTimeout(this.database.pendingMigrations());
    } catch (error) {
      return session.down({ message: `cannot read the applied migrations: ${redact(error)}` });
    }
    if (!pending.length) return session.up();
    return session.down({
      message: `${pending.length} pending migration(s): ${describeMigrations(pending)}; run \`npm run migration:up\``,
      pending,
    });
  }

  private worker(): HealthIndicatorResult {
    const session = this.indicator.check('worker');
    const status = this.heartbeat.status();
    const data = {
      lastHeartbeatSecondsAgo: status.ageMs === undefined ? null : Math.round(status.ageMs / 100) / 10,
      queues: status.queues,
      schedules: status.schedules,
    };
    return status.ok ? session.up(data) : session.down({ message: status.problem, ...data });
  }

  /** One log line when readiness changes (probes run every few seconds: no line per probe). */
  private noteTransition(answer: HealthAnswer): void {
    const failing = Object.entries(answer.body.error ?? {})
      .map(([key, value]) => `${key}: ${String((value as { message?: unknown }).message ?? 'down')}`)
      .join('; ');
    if (failing === this.lastFailing) return;
    if (failing) this.logger.warn(`Not ready: ${failing}`);
    else this.logger.log('Ready');
    this.lastFailing = failing;
  }
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error's message without any URL's user information (user names, passwords). */
export function redact(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@\s/]*@/gi, '$1');
}
