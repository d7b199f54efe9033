import { createHash, timingSafeEqual } from 'node:crypto';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { ServiceUnavailableError } from '../../common/app-error';
import { AppConfig } from '../../config/app-config';
import { JobName } from '../../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../../queue/work-queue.service';
import { parseWebhookBody, WebhookBody, WebhookRecord } from './webhook-payload';

/** Events of a burst wait this long, so the check of the latest one covers the others. */
export const WEBHOOK_DEBOUNCE_MS = 1000;
/** Procore waits 5 s for an answer; past this, storing is given up and 503 answered (Procore retries). */
export const WEBHOOK_STORE_TIMEOUT_MS = 4000;

export interface ReceivedWebhook {
  received: true;
  eventId: string;
  /** True when this delivery had been received before (deliveries are at-least-once). */
  duplicate: boolean;
  status: 'received' | 'processed' | 'unusable';
  /** Why the delivery cannot be used (status unusable). */
  reason?: string;
}

/**
 * Checks and stores Procore webhook deliveries; the work they cause runs from the queue. Once the
 * Authorization header checks out, every delivery is stored and answered 2xx — a delivery the
 * connector cannot use is stored as `unusable` with the reason — because a single non-2xx answer
 * pauses every delivery to the endpoint (procore-api.md, "Webhooks"). Only a database that cannot
 * store anything gets a 503, which Procore retries.
 */
@Injectable()
export class WebhookReceiver {
  private readonly logger = new Logger(WebhookReceiver.name);
  /** Digests of the current secret and, during a rotation, the previous one. */
  private readonly accepted: Buffer[];
  private readonly companyId: string;

  constructor(
    private readonly em: EntityManager,
    private readonly workQueue: WorkQueue,
    config: AppConfig,
  ) {
    this.accepted = [config.procore.webhookSecret, config.procore.webhookSecretPrevious].filter((s): s is string => !!s).map(digest);
    this.companyId = String(config.procore.companyId);
  }

  /**
   * The `Authorization` header must equal PROCORE_WEBHOOK_SECRET (or, while set,
   * PROCORE_WEBHOOK_SECRET_PREVIOUS) exactly. Constant time: digests of equal length are compared,
   * and every accepted secret is compared whatever the first comparison said.
   */
  authorize(header: string | undefined): void {
    const given = digest(header ?? '');
    let ok = false;
    for (const expected of this.accepted) ok = timingSafeEqual(given, expected) || ok;
    if (!header || !ok) {
      throw new UnauthorizedException('The Authorization header does not match the webhook secret (PROCORE_WEBHOOK_SECRET)');
    }
  }

  /** Stores an authenticated delivery once (by ulid, else id); answers within WEBHOOK_STORE_TIMEOUT_MS or throws a 503. */
  async receive(body: WebhookBody): Promise<ReceivedWebhook> {
    const record = this.withCompanyCheck(parseWebhookBody(body));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`storing took longer than ${WEBHOOK_STORE_TIMEOUT_MS} ms`)), WEBHOOK_STORE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.store(record), timeout]);
    } catch (error) {
      this.logger.error(`A Procore webhook delivery could not be stored; answered 503 so that Procore delivers it again: ${(error as Error).message}`);
      throw new ServiceUnavailableError('The webhook delivery could not be stored (the database is unavailable); deliver it again later');
    } finally {
      clearTimeout(timer);
    }
  }

  /** A delivery about another company (a hook of another company sending our secret) is not used. */
  private withCompanyCheck(record: WebhookRecord): WebhookRecord {
    if (record.status !== 'received' || record.companyId === null || record.companyId === this.companyId) return record;
    return { ...record, status: 'unusable', reason: `company ${record.companyId} is not the configured company (PROCORE_COMPANY_ID)` };
  }

  private async store(record: WebhookRecord): Promise<ReceivedWebhook> {
    try {
      return await this.insert(record);
    } catch (error) {
      // The payload is JSON PostgreSQL would not take (e.g. a number beyond numeric's range): keep it as text.
      if (record.payloadJson === null || isConnectionError(error)) throw error;
      const reason = `the body could not be stored as JSON (${(error as Error).message.split('\n')[0].slice(0, 300)})`;
      return this.insert({ ...record, status: 'unusable', reason, payloadJson: null, rawBody: record.rawBody ?? record.payloadJson.slice(0, 100 * 1024) });
    }
  }

  private async insert(record: WebhookRecord): Promise<ReceivedWebhook> {
    let works: RecordedWork[] = [];
    const received = await this.em.fork().transactional(async (em): Promise<ReceivedWebhook> => {
      const inserted = await em.execute<Array<{ id: string }>>(
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
      if (!inserted.length) {
        const [existing] = await em.execute<Array<{ id: string; status: ReceivedWebhook['status']; outcome: string | null }>>(
          `select id, status, outcome from webhook_event where dedupe_key = ?`,
          [record.dedupeKey],
        );
        return { received: true, eventId: String(existing.id), duplicate: true, status: existing.status, ...(existing.status === 'unusable' ? { reason: existing.outcome ?? '' } : {}) };
      }
      const eventId = String(inserted[0].id);
      if (record.status === 'unusable') {
        this.logger.warn(`Procore webhook delivery stored as unusable (event ${eventId}): ${record.reason}`);
        return { received: true, eventId, duplicate: false, status: 'unusable', reason: record.reason ?? '' };
      }
      works = [
        await this.workQueue.record(em, JobName.ProcessWebhookEvent, { webhookEventId: eventId }, { dedupeKey: `webhook:${eventId}`, delayMs: WEBHOOK_DEBOUNCE_MS }),
      ];
      return { received: true, eventId, duplicate: false, status: 'received' };
    });
    // Not awaited: Procore gets its answer even while Redis is unreachable (the sweeper enqueues later).
    this.workQueue.dispatch(this.em.fork(), works).catch(() => undefined);
    return received;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** PostgreSQL could not be reached (as opposed to refusing this statement). */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  const name = (error as Error)?.name ?? '';
  return name === 'ConnectionException' || /^(08|57P)/.test(code) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(code + (error as Error)?.message);
}
