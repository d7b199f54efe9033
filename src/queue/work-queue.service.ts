import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { PendingWorkRepository, RecordedWork } from './pending-work.repository';
import { JOB_DEFINITIONS, JobName, QueueName } from './queue.contract';
import { QUEUE_OPTIONS, QUEUES, QueueModuleOptions } from './queue.tokens';

const DISPATCH_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined); // a late failure after the timeout is of no interest
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Puts recorded work (PendingWorkRepository) on its Bull queue: a job that points to the row. A
 * dispatch that fails (Redis down) is only logged: the sweeper enqueues the work later. Business
 * code records and dispatches through the Outbox, never through this class directly.
 */
@Injectable()
export class WorkQueue {
  private readonly logger = new Logger(WorkQueue.name);

  constructor(
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
    @Inject(QUEUE_OPTIONS) private readonly options: Pick<QueueModuleOptions, 'backoffScale'>,
    private readonly pendingWork: PendingWorkRepository,
  ) {}

  /**
   * Puts recorded work on its queue. Never throws and never waits long: with Redis unreachable the
   * caller (an HTTP request, say) goes on, and the undelivered work waits for the sweeper.
   */
  async dispatch(works: RecordedWork[]): Promise<void> {
    const delivered: string[] = [];
    for (const work of works) {
      try {
        await withTimeout(this.addJob(work), DISPATCH_TIMEOUT_MS, 'Redis did not answer');
        delivered.push(work.id);
      } catch (error) {
        this.logger.warn(`Could not enqueue ${work.jobName} #${work.id} (${(error as Error).message}); the sweeper will retry`);
      }
    }
    await this.pendingWork
      .markEnqueued(delivered)
      .catch((error: Error) => this.logger.warn(`Could not note the enqueueing of work ${delivered.join(', ')}: ${error.message}`));
  }

  queueFor(jobName: JobName): Queue {
    const queue = this.queues.get(JOB_DEFINITIONS[jobName].queue);
    if (!queue) throw new Error(`No queue registered for job ${jobName}`);
    return queue;
  }

  /** The Bull job id of a piece of work: stable, so adding it twice keeps one job. */
  static jobId(work: Pick<RecordedWork, 'id' | 'jobName'>): string {
    return `${work.jobName}:${work.id}`;
  }

  async addJob(work: RecordedWork): Promise<void> {
    const job = await this.addToQueue(work);
    // Bull keeps the existing job when the id is taken; one that already finished (e.g. left from a
    // database restored to an earlier point) would swallow this work, so it is replaced.
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      await job.remove();
      await this.addToQueue(work);
    }
  }

  private addToQueue(work: RecordedWork) {
    const definition = JOB_DEFINITIONS[work.jobName];
    return this.queueFor(work.jobName).add(
      work.jobName,
      { ...work.payload, workId: work.id },
      {
        jobId: WorkQueue.jobId(work),
        attempts: definition.attempts,
        backoff: { type: 'jitter', options: { delay: Math.max(1, Math.round(definition.backoffMs * this.options.backoffScale)) } },
        delay: Math.max(0, work.availableAt.getTime() - Date.now()),
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }
}
