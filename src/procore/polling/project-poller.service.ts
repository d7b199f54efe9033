import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { BudgetCheck } from '../ingestion/budget-check.service';
import { describeFailure } from '../ingestion/ingestion-errors';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreRateLimitError } from '../client/procore-errors';
import { WebhookRetention } from '../webhooks/webhook-retention.service';

export interface PollResult {
  checked: number;
  started: string[];
  failed: Array<{ projectId: number; reason: string }>;
  /** Set when the sweep stopped early (rate limit spent); the next sweep carries on. */
  stopped?: string;
  /** Webhook events deleted after the retention period. */
  webhookEventsDeleted: number;
}

/**
 * The PollProjects job: the safety net for missed webhooks. Runs the budget check over
 * PROCORE_PROJECT_IDS (empty = every active project of the company), one project after another. A
 * project that fails is reported and the sweep goes on; a spent rate limit ends the sweep. Each
 * sweep also deletes webhook events past their retention period.
 */
@Injectable()
export class ProjectPoller {
  private readonly logger = new Logger(ProjectPoller.name);

  constructor(
    private readonly client: ProcoreClient,
    private readonly check: BudgetCheck,
    private readonly config: AppConfig,
    private readonly retention: WebhookRetention,
  ) {}

  async sweep(): Promise<PollResult> {
    // First, so that Procore being down never keeps old events around.
    const webhookEventsDeleted = await this.retention.purge();
    const projectIds = this.config.procore.projectIds.length
      ? this.config.procore.projectIds
      : (await this.client.listProjects()).map((project) => project.id);
    const result: PollResult = { checked: 0, started: [], failed: [], webhookEventsDeleted };
    for (const projectId of projectIds) {
      try {
        const { submissionId } = await this.check.check(projectId, { source: 'poll', actor: { label: 'system' }, note: 'Found by the polling sweep' });
        result.checked += 1;
        if (submissionId) result.started.push(submissionId);
      } catch (error) {
        if (error instanceof ProcoreRateLimitError) {
          result.stopped = error.message;
          this.logger.warn(`Polling sweep stopped after ${result.checked} project(s): ${error.message}`);
          break;
        }
        const reason = describeFailure(error);
        result.failed.push({ projectId, reason });
        this.logger.warn(`Polling Procore project ${projectId} failed: ${reason}`);
      }
    }
    return result;
  }
}
