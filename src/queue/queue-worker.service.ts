import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Job, Queue } from 'bull';
import { JOB_HANDLER, JobContext } from './job-handler.decorator';
import { JobObserver } from './job-observer';
import { ProcessShutdown, ProcessStoppingError } from '../lifecycle/process-shutdown';
import { JOB_DEFINITIONS, JobName, QueueName } from './queue.contract';
import { Outbox } from './outbox';
import { PendingWorkRepository } from './pending-work.repository';
import { QueueConnections } from './queue-connections';
import { QUEUE_OPTIONS, QUEUES, QueueModuleOptions } from './queue.tokens';

type BoundHandler = { owner: string; run: (payload: unknown, context: JobContext) => Promise<unknown> };

export class MissingJobHandlerError extends Error {}

/** Of SHUTDOWN_TIMEOUT_MS, kept for closing the queues and connections after the jobs. */
const CLOSE_MARGIN_MS = 1_500;

/**
 * Runs the jobs the @nestjs/bull processors (queue-processors.ts) take off the queues. At start it
 * finds every `@JobHandler` and refuses to start unless each job of the contract this process runs
 * has exactly one; until then the queues it processes stay paused here. Each job runs inside its
 * own MikroORM context against the pending work it points to.
 */
@Injectable()
export class QueueWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(QueueWorker.name);
  private handlers = new Map<JobName, BoundHandler>();
  /** Queues with a processor in this process, paused until the contract is checked. */
  private readonly held = new Set<Queue>();
  /** Jobs running in this process now. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly orm: MikroORM,
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
    @Inject(QUEUE_OPTIONS) private readonly options: QueueModuleOptions,
    private readonly connections: QueueConnections,
    private readonly pendingWork: PendingWorkRepository,
    private readonly outbox: Outbox,
    private readonly observer: JobObserver,
    private readonly shutdown: ProcessShutdown,
  ) {}

  /** The jobs of `queue` this process runs (none in an API process). */
  jobsOn(queue: QueueName): JobName[] {
    if (!this.options.runWorkers) return [];
    return this.expectedJobs().filter((jobName) => JOB_DEFINITIONS[jobName]?.queue === queue);
  }

  /**
   * Keeps `queue` from handing out jobs in this process until the contract is checked. Called
   * before @nestjs/bull registers its processor (a local pause set first is seen by Bull's loop).
   */
  holdUntilVerified(queue: Queue): void {
    this.held.add(queue);
    queue.pause(true).catch(() => undefined);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.runWorkers) return;
    try {
      this.handlers = this.discoverHandlers();
    } catch (error) {
      // Refuse to start, and let go of Redis and PostgreSQL so the process can end.
      await this.processorsStarted();
      await Promise.allSettled([this.connections.close([...this.queues.values()]), this.orm.close(true)]);
      throw error;
    }
    for (const queue of this.held) queue.resume(true).catch(() => undefined);
    this.logger.log(`Processing ${this.handlers.size} job kinds on ${this.held.size} queues`);
  }

  /**
   * Graceful stop (SIGTERM, or the application closing): no new job is taken and no new Spectrum
   * call starts (ProcessShutdown); running jobs end on their own — an export once its calls in
   * flight have answered and their outcomes are in the ledger — for up to SHUTDOWN_TIMEOUT_MS less
   * a moment to close. A job cut short throws, and its pending work is taken up by another worker.
   */
  async onModuleDestroy(): Promise<void> {
    if (!this.options.runWorkers) return;
    const began = Date.now();
    this.shutdown.begin();
    await this.processorsStarted();
    const open = [...this.queues.values()].filter((queue) => !(queue as Queue & { closing?: unknown }).closing);
    await Promise.allSettled(open.map((queue) => queue.pause(true, true)));
    if (!this.running.size) return;
    const budget = Math.max(500, this.options.shutdownTimeoutMs - CLOSE_MARGIN_MS - (Date.now() - began));
    this.logger.log(`Stopping: waiting up to ${budget} ms for ${this.running.size} running job(s) to end`);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      Promise.allSettled([...this.running]).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), budget))),
    ]);
    clearTimeout(timer);
    if (!ended) this.logger.warn(`Stopping: ${this.running.size} job(s) still running after ${budget} ms; their work stays pending for another worker`);
  }

  /**
   * Waits until @nestjs/bull has started the processors of this process's queues (Bull connects
   * each one's blocking client, then takes jobs or waits on the local pause): closing the
   * connections before then would leave Bull's start-up failing after the application is gone
   * (bounded: Redis may be down).
   */
  private async processorsStarted(): Promise<void> {
    const started = (queue: Queue) => {
      const bull = queue as Queue & { bclientInitialized?: boolean; bclient: { status: string } };
      return bull.bclientInitialized === true && bull.bclient.status === 'ready';
    };
    for (const until = Date.now() + 5_000; Date.now() < until && ![...this.held].every(started); ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  private expectedJobs(): JobName[] {
    return this.options.jobs ?? Object.values(JobName);
  }

  /** Every job of the contract must have exactly one handler. */
  discoverHandlers(): Map<JobName, BoundHandler> {
    const found = new Map<JobName, BoundHandler[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const jobName = this.reflector.get<JobName | undefined>(JOB_HANDLER, prototype[method]);
        if (!jobName) continue;
        const list = found.get(jobName) ?? [];
        list.push({
          owner: `${instance.constructor.name}.${method}`,
          run: (payload, context) => (instance[method] as (...args: unknown[]) => Promise<unknown>)(payload, context),
        });
        found.set(jobName, list);
      }
    }
    const problems: string[] = [];
    const expected = this.expectedJobs();
    for (const jobName of expected) {
      const list = found.get(jobName) ?? [];
      if (list.length === 0) problems.push(`job "${jobName}" has no handler`);
      if (list.length > 1) problems.push(`job "${jobName}" has ${list.length} handlers: ${list.map((h) => h.owner).join(', ')}`);
    }
    for (const jobName of found.keys()) {
      if (!(Object.values(JobName) as string[]).includes(jobName)) problems.push(`handler for unknown job "${jobName}"`);
    }
    if (problems.length) throw new MissingJobHandlerError(`Queue contract not satisfied: ${problems.join('; ')}`);
    return new Map([...found].filter(([name]) => expected.includes(name)).map(([name, list]) => [name, list[0]]));
  }

  /**
   * Marks the work done; when it was requested again while it ran, records it anew (same job,
   * payload and key) and puts that on the queue, so the request is served by a run that began after it.
   */
  private async finish(workId: string): Promise<void> {
    await this.outbox.transaction(async () => {
      const done = await this.pendingWork.finish(workId);
      if (!done?.rerunRequested) return;
      this.logger.log(`${done.jobName} #${workId} was requested again while it ran; running it once more`);
      await this.outbox.record(done.jobName, done.payload as never, { dedupeKey: done.dedupeKey ?? undefined });
    });
  }

  /** Runs one job its processor took off the queue (queue-processors.ts), observed: its ids on each line it logs. */
  async process(jobName: JobName, job: Job): Promise<unknown> {
    const handler = this.handlers.get(jobName);
    if (!handler) throw new MissingJobHandlerError(`job "${jobName}" has no handler in this process`);
    // Taken as the stop began: left for another worker (the queue retries it).
    if (this.shutdown.stopping) throw new ProcessStoppingError(`job ${jobName}`);
    const running = this.observer.run(jobName, job, () => this.run(jobName, handler, job));
    this.running.add(running);
    try {
      return await running;
    } finally {
      this.running.delete(running);
    }
  }

  private async run(jobName: JobName, handler: BoundHandler, job: Job): Promise<unknown> {
    const { workId, ...payload } = job.data as { workId: string };
    return RequestContext.create(this.orm.em, async () => {
      // A request folded into this work from now on asks for another run (PendingWorkRepository.record).
      if ((await this.pendingWork.begin(workId)) !== 'pending') return { skipped: true };
      const attempt = job.attemptsMade + 1;
      const context: JobContext = {
        workId,
        attempt,
        finalAttempt: attempt >= (job.opts.attempts ?? 1),
        job,
      };
      try {
        const result = await handler.run(payload, context);
        await this.finish(workId);
        return result ?? null;
      } catch (error) {
        const message = (error as Error)?.message ?? String(error);
        await this.pendingWork.recordError(workId, message).catch(() => undefined);
        this.logger.warn(`${jobName} #${workId} attempt ${attempt} failed: ${message}`);
        throw error;
      }
    });
  }
}
