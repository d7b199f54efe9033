import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Job, Queue } from 'bull';
import { JOB_HANDLER, JobContext } from './job-handler.decorator';
import { JobObserver } from './job-observer';
import { JOB_DEFINITIONS, JobName, QueueName } from './queue.contract';
import { Outbox } from './outbox';
import { PendingWorkRepository } from './pending-work.repository';
import { QueueConnections } from './queue-connections';
import { QUEUE_OPTIONS, QUEUES, QueueModuleOptions } from './queue.tokens';

type BoundHandler = { owner: string; run: (payload: unknown, context: JobContext) => Promise<unknown> };

export class MissingJobHandlerError extends Error {}

/**
 * Finds every `@JobHandler`, refuses to start unless each job of the contract has exactly one, and
 * runs each job inside its own MikroORM context against the pending work it points to.
 */
@Injectable()
export class QueueWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(QueueWorker.name);
  private handlers = new Map<JobName, BoundHandler>();

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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.runWorkers) return;
    try {
      this.handlers = this.discoverHandlers();
    } catch (error) {
      // Refuse to start, and let go of Redis and PostgreSQL so the process can end.
      await Promise.allSettled([this.connections.close(), this.orm.close(true)]);
      throw error;
    }
    for (const [jobName, handler] of this.handlers) {
      const definition = JOB_DEFINITIONS[jobName];
      const queue = this.queues.get(definition.queue)!;
      // Every job runs observed: its ids on each line it logs.
      void queue.process(jobName, definition.concurrency, (job: Job) => this.observer.run(jobName, job, () => this.run(jobName, handler, job)));
    }
    this.logger.log(`Processing ${this.handlers.size} job kinds on ${this.queues.size} queues`);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.options.runWorkers) return;
    // Let running jobs finish; unfinished work stays pending in PostgreSQL.
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.pause(true, true)));
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
    const expected = this.options.jobs ?? Object.values(JobName);
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
