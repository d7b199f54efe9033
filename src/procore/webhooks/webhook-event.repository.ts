import { Injectable } from '@nestjs/common';
import { Repository } from '../../database/repository';
import { WebhookEventStatus } from '../webhook-event.entity';
import type { WebhookRecord } from './webhook-payload';

/** Rows deleted per statement, so a large backlog never holds a long lock. */
const PURGE_BATCH = 5000;

/** A stored event as processing needs it. */
export interface StoredEvent {
  id: string;
  resourceName: string;
  eventType: string;
  resourceId: string | null;
  projectId: string | null;
  procoreUserId: string | null;
  status: WebhookEventStatus;
  outcome: string | null;
  /** Milliseconds since it was received (by the database's clock). */
  ageMs: number;
}

/** A stored delivery as admins list it. */
export interface ListedEvent {
  id: string;
  status: string;
  receivedAt: Date;
  processedAt: Date | null;
  dedupeKey: string | null;
  ulid: string | null;
  procoreEventId: string | null;
  resourceName: string | null;
  eventType: string | null;
  resourceId: string | null;
  projectId: string | null;
  companyId: string | null;
  procoreUserId: string | null;
  outcome: string | null;
  /** The body as stored JSON text (64-bit ids keep every digit), or the excerpt of one that is not JSON. */
  body: string | null;
}

/** Procore webhook deliveries (`webhook_event`), stored once each by their dedupe key. */
@Injectable()
export class WebhookEventRepository extends Repository {
  /** Stores a delivery; `duplicate` when its dedupe key was stored before (then the earlier one's id). */
  async insert(record: WebhookRecord): Promise<{ id: string; duplicate: boolean; status: WebhookEventStatus; outcome: string | null }> {
    const inserted = await this.em.execute<Array<{ id: string }>>(
      `insert into webhook_event (dedupe_key, ulid, procore_event_id, resource_name, event_type, resource_id, project_id, company_id,
                                  procore_user_id, payload, raw_body, status, outcome, processed_at, received_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, now())
       on conflict (dedupe_key) do nothing
       returning id`,
      [
        record.dedupeKey,
        record.ulid,
        record.procoreEventId,
        record.resourceName,
        record.eventType,
        record.resourceId,
        record.projectId,
        record.companyId,
        record.userId,
        record.payloadJson,
        record.rawBody,
        record.status,
        record.reason,
        record.status === 'unusable' ? new Date() : null,
      ],
    );
    if (inserted.length) return { id: String(inserted[0].id), duplicate: false, status: record.status, outcome: record.reason };
    const [existing] = await this.em.execute<Array<{ id: string; status: WebhookEventStatus; outcome: string | null }>>(
      `select id, status, outcome from webhook_event where dedupe_key = ?`,
      [record.dedupeKey],
    );
    return { id: String(existing.id), duplicate: true, status: existing.status, outcome: existing.outcome };
  }

  /** The Procore project a stored event concerns, for log lines. */
  async projectOf(id: string): Promise<string | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const [row] = await this.em.execute<Array<{ project_id: string | null }>>('select project_id from webhook_event where id = ?', [id]);
    return row?.project_id ?? undefined;
  }

  async find(id: string): Promise<StoredEvent | null> {
    const [event] = await this.em.execute<Array<Record<string, unknown>>>(
      `select id, resource_name, event_type, resource_id, project_id, procore_user_id, status, outcome,
              (extract(epoch from now() - received_at) * 1000)::float8 as age_ms
       from webhook_event where id = ?`,
      [id],
    );
    if (!event) return null;
    const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
    return {
      id: String(event.id),
      resourceName: event.resource_name as string,
      eventType: event.event_type as string,
      resourceId: text(event.resource_id),
      projectId: text(event.project_id),
      procoreUserId: text(event.procore_user_id),
      status: event.status as WebhookEventStatus,
      outcome: event.outcome as string | null,
      ageMs: Number(event.age_ms),
    };
  }

  /** Ids of the project's events still waiting (status received), about these resources, oldest first. */
  async waitingOfProject(projectId: string, resources: readonly string[]): Promise<string[]> {
    const rows = await this.em.execute<Array<{ id: string }>>(
      `select id from webhook_event
       where status = 'received' and project_id = ? and resource_name in (${resources.map(() => '?').join(',')})
       order by id`,
      [projectId, ...resources],
    );
    return rows.map((row) => String(row.id));
  }

  /** Records the outcome of events still `received`. */
  async conclude(ids: string[], status: Exclude<WebhookEventStatus, 'received'>, outcome: string): Promise<void> {
    await this.em.execute(
      `update webhook_event set status = ?, processed_at = now(), outcome = ? where id in (${ids.map(() => '?').join(',')}) and status = 'received'`,
      [status, outcome, ...ids],
    );
  }

  /**
   * The Procore user whose action created the project's latest budget view snapshot: the `user_id`
   * of the newest usable `Budget View Snapshots` `create` event stored for the project.
   */
  async snapshotCreatorOf(projectId: number): Promise<string | null> {
    const [row] = await this.em.execute<Array<{ procore_user_id: string }>>(
      `select procore_user_id from webhook_event
       where project_id = ? and resource_name = 'Budget View Snapshots' and event_type = 'create'
         and procore_user_id is not null and status <> 'unusable'
       order by received_at desc, id desc limit 1`,
      [String(projectId)],
    );
    return row ? String(row.procore_user_id) : null;
  }

  /** Deletes events received more than `days` ago, in batches; returns how many. */
  async purgeOlderThan(days: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = await this.em.execute<Array<{ id: string }>>(
        `delete from webhook_event where id in (
           select id from webhook_event where received_at < now() - (? * interval '1 day') limit ${PURGE_BATCH})
         returning id`,
        [days],
      );
      deleted += rows.length;
      if (rows.length < PURGE_BATCH) return deleted;
    }
  }

  /** A page of deliveries, newest first, optionally in one status. */
  async page(status: WebhookEventStatus | undefined, page: number, perPage: number): Promise<{ data: ListedEvent[]; total: number }> {
    const where = status ? 'where status = ?' : '';
    const filter = status ? [status] : [];
    const em = this.em;
    const [{ total }] = await em.execute<Array<{ total: string }>>(`select count(*) as total from webhook_event ${where}`, filter);
    const rows = await em.execute<Array<Record<string, unknown>>>(
      `select id, status, received_at, processed_at, dedupe_key, ulid, procore_event_id, resource_name, event_type, resource_id, project_id,
              company_id, procore_user_id, outcome, payload::text as payload, raw_body
       from webhook_event ${where} order by received_at desc, id desc limit ? offset ?`,
      [...filter, perPage, (page - 1) * perPage],
    );
    const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
    const data = rows.map((row) => ({
      id: String(row.id),
      status: row.status as string,
      receivedAt: new Date(row.received_at as string),
      processedAt: row.processed_at ? new Date(row.processed_at as string) : null,
      dedupeKey: row.dedupe_key as string | null,
      ulid: row.ulid as string | null,
      procoreEventId: row.procore_event_id as string | null,
      resourceName: row.resource_name as string | null,
      eventType: row.event_type as string | null,
      resourceId: text(row.resource_id),
      projectId: text(row.project_id),
      companyId: text(row.company_id),
      procoreUserId: text(row.procore_user_id),
      outcome: row.outcome as string | null,
      body: (row.payload as string | null) ?? (row.raw_body as string | null),
    }));
    return { data, total: Number(total) };
  }
}
