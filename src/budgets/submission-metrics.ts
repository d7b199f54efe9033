import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service';
import { SUBMISSION_STATUSES } from './submission-status';
import { SubmissionRepository } from './submission.repository';

/** connector_submissions{status}: budget submissions per status, read from PostgreSQL when scraped. */
@Injectable()
export class SubmissionMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly submissions: SubmissionRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.addScrapedGauge({
      name: 'connector_submissions',
      help: 'Budget submissions in each status (from PostgreSQL)',
      labelNames: ['status'],
      read: async () => {
        const counts = await this.submissions.countByStatus('');
        return SUBMISSION_STATUSES.map((status) => ({ labels: { status }, value: counts.get(status) ?? 0 }));
      },
    });
  }
}
