import { Injectable } from '@nestjs/common';
import type { ListWebhookEventsQueryDto } from './webhook-events.controller';
import { ListedEvent, WebhookEventRepository } from './webhook-event.repository';

/** Reads of stored webhook deliveries for admins. */
@Injectable()
export class WebhookEventQueries {
  constructor(private readonly events: WebhookEventRepository) {}

  async list(query: ListWebhookEventsQueryDto) {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 50;
    const { data, total } = await this.events.page(query.status, page, perPage);
    return { data: data.map(present), page, perPage, total };
  }
}

function present(event: ListedEvent) {
  return {
    ...event,
    receivedAt: event.receivedAt.toISOString(),
    processedAt: event.processedAt ? event.processedAt.toISOString() : null,
    /** The outcome of processing; for an unusable delivery, why it could not be used. */
    outcome: event.outcome,
    /** The body as stored JSON text, or the first 100 kB of a body that could not be stored as JSON. */
    body: event.body,
  };
}
