import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Queue } from 'bull';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../config/runtime-options';
import { QueueName } from '../queue/queue.contract';
import { QUEUES } from '../queue/queue.tokens';

/** How often a worker checks its own loops. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Readiness fails when the last good beat is older than this (six beats: slack for a busy machine). */
export const HEARTBEAT_STALE_MS = 30_000;

export interface HeartbeatStatus {
  ok: boolean;
  /** Milliseconds since the last good beat; undefined before the first. */
  ageMs?: number;
  /** Queues whose jobs this process takes, and cron schedules it runs. */
  queues: number;
  schedules: number;
  /** Why the worker is not ready (the loop's problem, or no recent beat). */
  problem?: string;
}

/** Bull's fields a heartbeat reads (bull 4: `handlers` by `process()`, `paused` by a local pause, `closing` by `close()`). */
interface BullLoopState {
  handlers?: Record<string, unknown>;
  paused?: unknown;
  closing?: unknown;
  bclient?: { status?: string };
}

/**
 * The heartbeat of a worker's loops (APP_ROLE worker or all): every {@link HEARTBEAT_INTERVAL_MS},
 * on the event loop, it checks that this process takes jobs from its queues (handlers registered,
 * neither paused nor closing, the blocking connection that waits for jobs connected) and that its
 * cron schedules are running, and records a beat when they are. Readiness asks for a beat within
 * {@link HEARTBEAT_STALE_MS}: a process whose loops stopped, or whose event loop is stuck, is not
 * ready. From the start of shutdown it is not ready either.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Health');
  /** Whether this process runs queue workers or schedules at all (else it has no heartbeat). */
  readonly enabled: boolean;
  private timer?: NodeJS.Timeout;
  private lastBeatAt?: number;
  private problem?: string = 'not started yet';
  private counts = { queues: 0, schedules: 0 };
  private stopping = false;

  constructor(
    @Inject(RUNTIME_OPTIONS) private readonly runtime: RuntimeOptions,
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
    private readonly moduleRef: ModuleRef,
  ) {
    this.enabled = runtime.runWorkers || runtime.runScheduler;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    // Queue workers and schedules start in their own modules' bootstrap hooks, before this one
    // (HealthModule imports QueueModule; Nest bootstraps imported modules first). Beat once now.
    this.beat();
    this.timer = setInterval(() => this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopping = true;
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  status(): HeartbeatStatus {
    // A problem seen at the last beat (e.g. Redis still connecting at start) is checked again now.
    if (this.problem && !this.stopping) this.beat();
    const ageMs = this.lastBeatAt === undefined ? undefined : Date.now() - this.lastBeatAt;
    const base = { ageMs, ...this.counts };
    if (this.stopping) return { ...base, ok: false, problem: 'shutting down: no longer taking jobs' };
    if (this.problem) return { ...base, ok: false, problem: this.problem };
    if (ageMs === undefined) return { ...base, ok: false, problem: 'no heartbeat yet' };
    if (ageMs > HEARTBEAT_STALE_MS) {
      return { ...base, ok: false, problem: `no heartbeat for ${Math.round(ageMs / 1000)} s (the event loop or the worker loop is stuck)` };
    }
    return { ...base, ok: true };
  }

  /** One check of the loops; public for tests. */
  beat(): void {
    try {
      const problem = this.runtime.runWorkers ? this.queueProblem() : undefined;
      const scheduleProblem = this.runtime.runScheduler ? this.scheduleProblem() : undefined;
      const found = problem ?? scheduleProblem;
      if (found && found !== this.problem) this.logger.warn(`Worker heartbeat: ${found}`);
      if (!found && this.problem && this.lastBeatAt !== undefined) this.logger.log('Worker heartbeat: taking jobs again');
      this.problem = found;
      if (!found) this.lastBeatAt = Date.now();
    } catch (error) {
      this.problem = `heartbeat check failed: ${(error as Error).message}`;
    }
  }

  private queueProblem(): string | undefined {
    let processing = 0;
    const stalled: string[] = [];
    for (const [name, queue] of this.queues) {
      const state = queue as unknown as BullLoopState;
      if (!state.handlers || Object.keys(state.handlers).length === 0) continue;
      processing += 1;
      if (state.closing) stalled.push(`${name} (closing)`);
      else if (state.paused) stalled.push(`${name} (paused)`);
      else if (state.bclient && state.bclient.status !== 'ready') stalled.push(`${name} (waiting for Redis: ${state.bclient.status})`);
    }
    this.counts.queues = processing;
    if (processing === 0) return 'takes jobs from no queue';
    if (stalled.length) return `not taking jobs from ${stalled.join(', ')}`;
    return undefined;
  }

  private scheduleProblem(): string | undefined {
    let registry: SchedulerRegistry;
    try {
      registry = this.moduleRef.get(SchedulerRegistry, { strict: false });
    } catch {
      return 'the scheduler is not running';
    }
    const jobs = registry.getCronJobs();
    this.counts.schedules = jobs.size;
    const stopped = [...jobs].filter(([, job]) => !job.isActive).map(([name]) => name);
    return stopped.length ? `schedules stopped: ${stopped.join(', ')}` : undefined;
  }
}
