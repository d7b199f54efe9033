import { getQueueToken, Process, Processor } from '@nestjs/bull';
import { FactoryProvider } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { JOB_DEFINITIONS, JobName, QUEUE_NAMES, QueueName } from './queue.contract';
import { QueueWorker } from './queue-worker.service';

/**
 * The @nestjs/bull processors: one `@Processor(queue)` per queue of the contract, with one
 * `@Process({ name, concurrency })` per job of that queue this process runs, each handing the job
 * to QueueWorker (the pending work it points to, then the job's one `@JobHandler`). Built when the
 * application starts, from the process's role: an API process (or a worker restricted to other
 * jobs) gets no processor for a queue, so @nestjs/bull takes nothing off it. A queue with a
 * processor stays paused in this process until QueueWorker has checked the contract.
 */
export function queueProcessorProviders(): FactoryProvider[] {
  return QUEUE_NAMES.map((queueName) => ({
    provide: `${queueName}-queue-processor`,
    useFactory: (worker: QueueWorker, queue: Queue) => {
      const jobs = worker.jobsOn(queueName);
      if (!jobs.length) return null;
      worker.holdUntilVerified(queue);
      return new (queueProcessorClass(queueName, jobs))(worker);
    },
    inject: [QueueWorker, getQueueToken(queueName)],
  }));
}

type ProcessorInstance = { worker: QueueWorker };

function queueProcessorClass(queueName: QueueName, jobs: JobName[]): new (worker: QueueWorker) => ProcessorInstance {
  class QueueProcessor implements ProcessorInstance {
    constructor(readonly worker: QueueWorker) {}
  }
  for (const jobName of jobs) {
    const descriptor: PropertyDescriptor = {
      value(this: ProcessorInstance, job: Job) {
        return this.worker.process(jobName, job);
      },
      writable: true,
      configurable: true,
    };
    Process({ name: jobName, concurrency: JOB_DEFINITIONS[jobName].concurrency })(QueueProcessor.prototype, jobName, descriptor);
    Object.defineProperty(QueueProcessor.prototype, jobName, descriptor);
  }
  Processor(queueName)(QueueProcessor);
  Object.defineProperty(QueueProcessor, 'name', { value: `${queueName[0].toUpperCase()}${queueName.slice(1)}QueueProcessor` });
  return QueueProcessor;
}
