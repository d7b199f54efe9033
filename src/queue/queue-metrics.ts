import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Job, JobStatus, Queue } from 'bull';
import { GaugeSample, MetricsService } from '../observability/metrics.service';
import { QueueName } from './queue.contract';
import { QUEUES } from './queue.tokens';

const STATES: JobStatus[] = ['waiting', 'active', 'delayed', 'failed'];
/** Both gauges come from one read of Redis per scrape. */
const SNAPSHOT_TTL_MS = 500;

type Snapshot = { depth: GaugeSample[]; age: GaugeSample[] };

/**
 * Queue gauges read from Redis at scrape time: jobs per queue and state
 * (connector_queue_jobs) and the age of the oldest job in each (connector_queue_oldest_job_age_seconds).
 */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  private snapshot?: { at: number; read: Promise<Snapshot> };

  constructor(
    private readonly metrics: MetricsService,
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
  ) {}

  onModuleInit(): void {
    this.metrics.addScrapedGauge({
      name: 'connector_queue_jobs',
      help: 'Jobs in each queue by state (waiting, active, delayed, failed)',
      labelNames: ['queue', 'state'],
      read: async () => (await this.read()).depth,
    });
    this.metrics.addScrapedGauge({
      name: 'connector_queue_oldest_job_age_seconds',
      help: 'Age of the oldest job in each queue and state (0 when there is none)',
      labelNames: ['queue', 'state'],
      read: async () => (await this.read()).age,
    });
  }

  private read(): Promise<Snapshot> {
    if (!this.snapshot || Date.now() - this.snapshot.at > SNAPSHOT_TTL_MS) this.snapshot = { at: Date.now(), read: this.readRedis() };
    return this.snapshot.read;
  }

  private async readRedis(): Promise<Snapshot> {
    const now = Date.now();
    const depth: GaugeSample[] = [];
    const age: GaugeSample[] = [];
    await Promise.all(
      [...this.queues].map(async ([name, queue]) => {
        const counts = (await queue.getJobCounts()) as unknown as Record<string, number>;
        await Promise.all(
          STATES.map(async (state) => {
            depth.push({ labels: { queue: name, state }, value: counts[state] ?? 0 });
            // Oldest first: the list's or sorted set's first job.
            const [oldest] = counts[state] ? ((await queue.getJobs([state], 0, 0, true)) as Array<Job | null>) : [];
            age.push({ labels: { queue: name, state }, value: oldest?.timestamp ? Math.max(0, (now - oldest.timestamp) / 1000) : 0 });
          }),
        );
      }),
    );
    return { depth, age };
  }
}
