import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';

/** Rows deleted per statement, so a large backlog never holds a long lock. */
const BATCH = 5000;

/**
 * Deletes stored webhook deliveries older than WEBHOOK_RETENTION_DAYS (default 30). They have done
 * their work long before: processed, given up or unusable (the polling sweep covers the rest).
 * Run by every polling sweep.
 */
@Injectable()
export class WebhookRetention {
  private readonly logger = new Logger(WebhookRetention.name);

  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
  ) {}

  /** Returns how many events were deleted. */
  async purge(): Promise<number> {
    const em = this.em.fork();
    let deleted = 0;
    for (;;) {
      const rows = await em.execute<Array<{ id: string }>>(
        `delete from webhook_event where id in (
           select id from webhook_event where received_at < now() - (? * interval '1 day') limit ${BATCH})
         returning id`,
        [this.config.procore.webhookRetentionDays],
      );
      deleted += rows.length;
      if (rows.length < BATCH) break;
    }
    if (deleted) this.logger.log(`Deleted ${deleted} webhook event(s) older than ${this.config.procore.webhookRetentionDays} days (WEBHOOK_RETENTION_DAYS)`);
    return deleted;
  }
}
