import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ProcoreException, ProcoreExceptionCode } from '../procore.exception';
import { Outbox } from '../../queue/outbox';
import { JobName } from '../../queue/queue.contract';
import { WebhookEventRepository } from './webhook-event.repository';
import { WebhookDeadline, webhookDeadline } from './webhook-deadline';
import { parseWebhookBody, WebhookBody, WebhookRecord } from './webhook-payload';

/** Events of a burst wait this long, so the check of the latest one covers the others. */
export const WEBHOOK_DEBOUNCE_MS = 1000;

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
 * pauses every delivery to the endpoint (docs/procore.md, "Webhooks"). Only a database that cannot
 * store anything gets a 503, which Procore retries.
 */
@Injectable()
export class WebhookReceiver {
  private readonly logger = new Logger(WebhookReceiver.name);
  /** Digests of the current secret and, during a rotation, the previous one. */
  private readonly accepted: Buffer[];
  private readonly companyId: string;

  constructor(
    private readonly events: WebhookEventRepository,
    private readonly outbox: Outbox,
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

  /**
   * Stores an authenticated delivery once (by ulid, else id). Storing gets what is left of the
   * delivery's deadline (the body read took the rest); past it, a 503 is thrown (Procore delivers
   * again; a store still running lands, and the redelivery is recognised as a duplicate).
   */
  async receive(body: WebhookBody, deadline: WebhookDeadline = webhookDeadline()): Promise<ReceivedWebhook> {
    const record = this.withCompanyCheck(parseWebhookBody(body));
    const storeMs = deadline.remainingMs();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`storing did not finish within the ${storeMs} ms the delivery's deadline left`)), storeMs);
    });
    try {
      return await Promise.race([this.store(record), timeout]);
    } catch (error) {
      this.logger.error(`A Procore webhook delivery could not be stored; answered 503 so that Procore delivers it again: ${(error as Error).message}`);
      throw new ProcoreException(ProcoreExceptionCode.WebhookNotStored, 'The webhook delivery could not be stored (the database is unavailable); deliver it again later');
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

  private insert(record: WebhookRecord): Promise<ReceivedWebhook> {
    // The dispatch is not awaited: Procore gets its answer even while Redis is unreachable (the sweeper enqueues later).
    return this.outbox.transaction(
      async (): Promise<ReceivedWebhook> => {
        const stored = await this.events.insert(record);
        if (stored.duplicate) {
          return { received: true, eventId: stored.id, duplicate: true, status: stored.status, ...(stored.status === 'unusable' ? { reason: stored.outcome ?? '' } : {}) };
        }
        if (record.status === 'unusable') {
          this.logger.warn(`Procore webhook delivery stored as unusable (event ${stored.id}): ${record.reason}`);
          return { received: true, eventId: stored.id, duplicate: false, status: 'unusable', reason: record.reason ?? '' };
        }
        await this.outbox.record(JobName.ProcessWebhookEvent, { webhookEventId: stored.id }, { dedupeKey: `webhook:${stored.id}`, delayMs: WEBHOOK_DEBOUNCE_MS });
        return { received: true, eventId: stored.id, duplicate: false, status: 'received' };
      },
      { dispatch: 'background' },
    );
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
