import { Injectable } from '@nestjs/common';
import { WebhookEventRepository } from '../webhooks/webhook-event.repository';

/**
 * Who created the budget being sent. Procore's public API has no `created_by` on budget lines, so
 * the connector takes the one real source it has: the Procore user whose action created the
 * project's latest budget view snapshot — the `user_id` of the newest `Budget View Snapshots`
 * `create` webhook event stored for the project (Procore snapshots a budget when it is locked for
 * sending). Without such an event (no webhooks, or older than WEBHOOK_RETENTION_DAYS), or when
 * that Procore user is not a connector user, the sender stands in as the creator (README).
 */
@Injectable()
export class BudgetCreator {
  constructor(private readonly events: WebhookEventRepository) {}

  /** The Procore user id, or null when no stored event names one. */
  async procoreUserOf(projectId: number): Promise<number | null> {
    const stored = await this.events.snapshotCreatorOf(projectId);
    const id = stored ? Number(stored) : null;
    return id !== null && Number.isSafeInteger(id) ? id : null;
  }
}
