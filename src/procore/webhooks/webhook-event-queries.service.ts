import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { ListWebhookEventsQueryDto } from './webhook-events.controller';

interface EventRow {
  id: string;
  status: string;
  received_at: Date;
  processed_at: Date | null;
  dedupe_key: string | null;
  ulid: string | null;
  procore_event_id: string | null;
  resource_name: string | null;
  event_type: string | null;
  resource_id: string | null;
  project_id: string | null;
  company_id: string | null;
  procore_user_id: string | null;
  outcome: string | null;
  payload: string | null;
  raw_body: string | null;
}

/** Reads of stored webhook deliveries for admins. */
@Injectable()
export class WebhookEventQueries {
  constructor(private readonly em: EntityManager) {}

  async list(query: ListWebhookEventsQueryDto) {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 50;
    const where = query.status ? 'where status = ?' : '';
    const filter = query.status ? [query.status] : [];
    const em = this.em.fork();
    const [{ total }] = await em.execute<Array<{ total: string }>>(`select count(*) as total from webhook_event ${where}`, filter);
    // The payload goes out as its stored JSON text, so 64-bit ids keep every digit.
    const rows = await em.execute<EventRow[]>(
      `select id, status, received_at, processed_at, dedupe_key, ulid, procore_event_id, resource_name, event_type, resource_id, project_id,
              company_id, procore_user_id, outcome, payload::text as payload, raw_body
       from webhook_event ${where} order by received_at desc, id desc limit ? offset ?`,
      [...filter, perPage, (page - 1) * perPage],
    );
    return { data: rows.map(present), page, perPage, total: Number(total) };
  }
}

function present(row: EventRow) {
  const text = (value: string | null) => (value === null ? null : String(value));
  return {
    id: String(row.id),
    status: row.status,
    receivedAt: new Date(row.received_at).toISOString(),
    processedAt: row.processed_at ? new Date(row.processed_at).toISOString() : null,
    dedupeKey: row.dedupe_key,
    ulid: row.ulid,
    procoreEventId: row.procore_event_id,
    resourceName: row.resource_name,
    eventType: row.event_type,
    resourceId: text(row.resource_id),
    projectId: text(row.project_id),
    companyId: text(row.company_id),
    procoreUserId: text(row.procore_user_id),
    /** The outcome of processing; for an unusable delivery, why it could not be used. */
    outcome: row.outcome,
    /** The body as stored JSON text, or the first 100 kB of a body that could not be stored as JSON. */
    body: row.payload ?? row.raw_body,
  };
}
