import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bull';
import { JobName, JobPayloads } from './queue.contract';

export const JOB_HANDLER = Symbol('job-handler');

export interface JobContext {
  workId: string;
  /** 1 for the first try of this queue job. */
  attempt: number;
  /** True when a failure now spends the job's last attempt. */
  finalAttempt: boolean;
  job: Job;
}

/** A method `(payload, context) => Promise<unknown>` that processes one job of the contract. */
export type JobHandlerMethod<K extends JobName> = (payload: JobPayloads[K], context: JobContext) => Promise<unknown>;

/**
 * Marks a provider method as the handler of a job. Exactly one handler per job: the worker refuses
 * to start otherwise.
 */
export const JobHandler = (name: JobName): MethodDecorator => SetMetadata(JOB_HANDLER, name);
