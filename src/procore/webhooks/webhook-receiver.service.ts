import { createHash, timingSafeEqual } from 'node:crypto';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { JobName } from '../../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../../queue/work-queue.service';
import { WebhookDelivery } from './webhook-payload';

/** Events of a burst wait this long, so the check of the latest one covers the others. */
export const WEBHOOK_DEBOUNCE_MS = 1000;

export interface ReceivedWebhook {
  eventId: string;
  /** True when this delivery had been received before (deliveries are at-least-once). */
  duplicate: boolean;
}

/** Checks and stores Procore webhook deliveries; the work they cause runs from the queue. */
@Injectable()
export class WebhookReceiver {
  private readonly expected: Buffer;

  constructor(
    private readonly em: EntityManager,
    private readonly workQueue: WorkQueue,
    config: AppConfig,
  ) {
    this.expected = digest(config.procore.webhookSecret);
  }

  /** The `Authorization` header must equal PROCORE_WEBHOOK_SECRET exactly (constant-time). */
  authorize(header: string | undefined): void {
    // Comparing digests keeps the time independent of where (or whether) the lengths differ.
    if (!header || !timingSafeEqual(digest(header), this.expected)) {
      throw new UnauthorizedException('The Authorization header does not match the webhook secret (PROCORE_WEBHOOK_SECRET)');
    }
  }

  /** Stores the delivery once (by ulid, else id) and records its processing; duplicates add nothing. */
  async receive(delivery: WebhookDelivery): Promise<ReceivedWebhook> {
    let works: RecordedWork[] = [];
    const received = await this.em.fork().transactional(async (em): Promise<ReceivedWebhook> => {
      const inserted = await em.execute<Array<{ id: string }>>(
        `insert into webhook_event (dedupe_key, ulid, procore_event_id, resource_name, event_type, resource_id, project_id, company_id,
                                    procore_user_id, payload, received_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, now())
         on conflict (dedupe_key) do nothing
         returning id`,
        [
          delivery.dedupeKey,
          delivery.ulid,
          delivery.procoreEventId,
          delivery.resourceName,
          delivery.eventType,
          delivery.resourceId,
          delivery.projectId,
          delivery.companyId,
          delivery.userId,
          JSON.stringify(delivery.payload),
        ],
      );
      if (!inserted.length) {
        const [existing] = await em.execute<Array<{ id: string }>>(`select id from webhook_event where dedupe_key = ?`, [delivery.dedupeKey]);
        return { eventId: String(existing.id), duplicate: true };
      }
      const eventId = String(inserted[0].id);
      works = [
        await this.workQueue.record(
          em,
          JobName.ProcessWebhookEvent,
          { webhookEventId: eventId },
          { dedupeKey: `webhook:${eventId}`, delayMs: WEBHOOK_DEBOUNCE_MS },
        ),
      ];
      return { eventId, duplicate: false };
    });
    // Not awaited: Procore gets its 202 even while Redis is unreachable (the sweeper enqueues later).
    // dispatch logs what it could not enqueue; its closing update may still reject (PostgreSQL gone).
    this.workQueue.dispatch(this.em.fork(), works).catch(() => undefined);
    return received;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
