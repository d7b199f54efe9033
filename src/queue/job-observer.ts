import { Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bull';
import { runWithLogContext } from '../logging/log-context';
import { MetricsService } from '../observability/metrics.service';
import { JOB_DEFINITIONS, JobName } from './queue.contract';

/** Ids a job's lines should carry beyond its payload (e.g. the Procore project of its submission). */
export type JobContextResolver = (payload: Record<string, unknown>) => Promise<Record<string, string | undefined>>;

/** Payload fields copied onto every line of a job. */
const PAYLOAD_IDS = ['submissionId', 'webhookEventId', 'notificationId'] as const;

/**
 * Around every job run: a logger of its own carrying the job id, queue, job name, pending work id
 * and the ids of its payload (submission, webhook event, notification), plus what the registered
 * resolvers add (the Procore project id); every line logged while the job runs carries them. Its
 * duration and outcome go to the metrics (connector_job_duration_seconds, connector_job_failures_total).
 */
@Injectable()
export class JobObserver {
  private readonly logger = new Logger(JobObserver.name);
  private readonly resolvers: JobContextResolver[] = [];

  constructor(private readonly metrics: MetricsService) {}

  /** Modules that know what a payload's ids point to add their ids here (BudgetsModule: the project). */
  addContextResolver(resolver: JobContextResolver): void {
    this.resolvers.push(resolver);
  }

  async run<T>(jobName: JobName, job: Job, work: () => Promise<T>): Promise<T> {
    const payload = (job.data ?? {}) as Record<string, unknown>;
    const bindings: Record<string, unknown> = { jobId: String(job.id), queue: JOB_DEFINITIONS[jobName].queue, job: jobName, workId: payload.workId };
    for (const key of PAYLOAD_IDS) if (payload[key] !== undefined) bindings[key] = String(payload[key]);
    Object.assign(bindings, await this.resolve(payload));
    const end = this.metrics.jobDuration.startTimer({ job: jobName });
    try {
      const result = await runWithLogContext(bindings, work);
      end({ outcome: 'completed' });
      return result;
    } catch (error) {
      end({ outcome: 'failed' });
      this.metrics.jobFailures.inc({ job: jobName });
      throw error;
    }
  }

  private async resolve(payload: Record<string, unknown>): Promise<Record<string, string | undefined>> {
    const found: Record<string, string | undefined> = {};
    for (const resolver of this.resolvers) {
      try {
        Object.assign(found, await resolver(payload));
      } catch (error) {
        // Only log context: the job runs (and reports its own failures) without it.
        this.logger.debug(`Could not read a job's log context: ${(error as Error).message}`);
      }
    }
    return found;
  }
}
