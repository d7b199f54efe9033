import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { WebhookEventRepository } from './webhook-event.repository';

/**
 * Deletes stored webhook deliveries older than WEBHOOK_RETENTION_DAYS (default 30). They have done
 * their work long before: processed, given up or unusable (the polling sweep covers the rest).
 * Run by every polling sweep.
 */
@Injectable()
export class WebhookRetention {
  private readonly logger = new Logger(WebhookRetention.name);

  constructor(
    private readonly events: WebhookEventRepository,
    private readonly config: AppConfig,
  ) {}

  /** Returns how many events were deleted. */
  async purge(): Promise<number> {
    const deleted = await this.events.purgeOlderThan(this.config.procore.webhookRetentionDays);
    if (deleted) this.logger.log(`Deleted ${deleted} webhook event(s) older than ${this.config.procore.webhookRetentionDays} days (WEBHOOK_RETENTION_DAYS)`);
    return deleted;
  }
}
