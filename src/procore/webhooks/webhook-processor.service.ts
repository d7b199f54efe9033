import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { JobContext } from '../../queue/job-handler.decorator';
import { BudgetCheck } from '../ingestion/budget-check.service';
import { describeFailure, isPermanent } from '../ingestion/ingestion-errors';
import { describeDuration } from '../ingestion/durations';
import { ProjectScope } from '../project-scope';
import { WebhookEventStatus } from '../webhook-event.entity';
import { ProjectHookRegistrar } from './project-hook-registrar.service';
import { KNOWN_RESOURCES } from './webhook-resources';

/**
 * How long an event may keep failing (Procore down, an unexpected error) before it is given up:
 * on a queue run's final attempt past this age it is marked `unusable` with the reason, instead of
 * going back to the sweeper again and again and spending Procore's rate limit. The polling sweep
 * covers the project anyway.
 */
export const WEBHOOK_GIVE_UP_AFTER_MS = 60 * 60_000;

interface StoredEvent {
  id: string;
  resource_name: string;
  event_type: string;
  resource_id: string | null;
  project_id: string | null;
  procore_user_id: string | null;
  status: WebhookEventStatus;
  outcome: string | null;
  /** Milliseconds since it was received (by the database's clock). */
  age_ms: number;
}

export interface ProcessedWebhook {
  eventId: string;
  outcome: string;
  status?: WebhookEventStatus;
  skipped?: boolean;
}

/**
 * The ProcessWebhookEvent job. Only usable events (status `received`) reach it. A budget-related
 * event of a project runs the budget check (BudgetCheck); a company-level change is recorded as
 * ignored. Bursts are debounced per project: the check of a project's latest waiting event covers
 * the earlier ones, and every event gets its outcome. An event is processed once: a redelivery is
 * the same row (dedupe key), and a processed row is never processed again. A `Projects` create
 * event also registers the new project's hook (ProjectHookRegistrar).
 */
@Injectable()
export class WebhookProcessor {
  private readonly logger = new Logger(WebhookProcessor.name);
  /** WEBHOOK_GIVE_UP_AFTER_MS; tests shorten it. */
  giveUpAfterMs = WEBHOOK_GIVE_UP_AFTER_MS;

  constructor(
    private readonly em: EntityManager,
    private readonly check: BudgetCheck,
    private readonly projectHooks: ProjectHookRegistrar,
    private readonly scope: ProjectScope,
  ) {}

  async process(webhookEventId: string, context: Pick<JobContext, 'finalAttempt'> = { finalAttempt: false }): Promise<ProcessedWebhook> {
    const em = this.em.fork();
    const [event] = await em.execute<StoredEvent[]>(
      `select id, resource_name, event_type, resource_id, project_id, procore_user_id, status, outcome,
              (extract(epoch from now() - received_at) * 1000)::float8 as age_ms
       from webhook_event where id = ?`,
      [webhookEventId],
    );
    if (!event) return { eventId: webhookEventId, outcome: 'the event does not exist (deleted after the retention period?)', skipped: true };
    if (event.status !== 'received') return { eventId: webhookEventId, outcome: event.outcome ?? `already ${event.status}`, status: event.status, skipped: true };

    const projectText = event.project_id ?? (event.resource_name === 'Projects' ? event.resource_id : null);
    // E.g. a category's code changed: it applies to budgets sent from now on.
    if (!projectText) return this.conclude([webhookEventId], 'processed', 'ignored: a company-level change; it applies to the budgets sent from now on');
    const projectId = Number(projectText);
    if (!Number.isSafeInteger(projectId)) {
      return this.conclude([webhookEventId], 'unusable', `project ${projectText} is beyond the ids the connector can address`);
    }
    // Acknowledged (stored, 2xx) and ignored: Procore is not asked anything about such a project.
    if (!this.scope.includes(projectId)) {
      return this.conclude([webhookEventId], 'processed', `ignored: ${this.scope.refusal(projectId)}`);
    }

    // Events of the project still waiting: the latest one's check covers all of them.
    const waiting = await em.execute<Array<{ id: string }>>(
      `select id from webhook_event
       where status = 'received' and project_id = ? and resource_name in (${KNOWN_RESOURCES.map(() => '?').join(',')})
       order by id`,
      [projectText, ...KNOWN_RESOURCES],
    );
    const latest = waiting.length ? String(waiting[waiting.length - 1].id) : webhookEventId;
    if (BigInt(latest) > BigInt(webhookEventId)) {
      return this.conclude([webhookEventId], 'processed', `covered by the check of webhook event ${latest}`);
    }
    const covered = [...new Set([webhookEventId, ...waiting.map((row) => String(row.id))])];

    try {
      // A new project: its own hook first (where company scope lacks the budget resources).
      const registered =
        event.resource_name === 'Projects' && event.event_type === 'create' ? `${await this.projectHooks.register(projectId)}; ` : '';
      const result = await this.check.check(projectId, {
        source: 'webhook',
        procoreUserId: event.procore_user_id ? Number(event.procore_user_id) : null,
        actor: { label: 'procore' },
        note: `Procore webhook event ${webhookEventId} (${event.resource_name} ${event.event_type})`,
      });
      return this.conclude(covered, 'processed', registered + result.outcome);
    } catch (error) {
      const reason = describeFailure(error);
      if (isPermanent(error)) return this.giveUp(covered, projectId, reason);
      // Procore busy or down, or something unexpected: the queue tries again — for a bounded time.
      if (!context.finalAttempt || Number(event.age_ms) < this.giveUpAfterMs) throw error;
      return this.giveUp(covered, projectId, `gave up after ${describeDuration(Number(event.age_ms))} of failures (the polling sweep covers the project): ${reason}`);
    }
  }

  private giveUp(eventIds: string[], projectId: number, reason: string): Promise<ProcessedWebhook> {
    this.logger.warn(`Webhook event(s) ${eventIds.join(', ')} for Procore project ${projectId}: ${reason}`);
    return this.conclude(eventIds, 'unusable', reason);
  }

  private async conclude(eventIds: string[], status: Exclude<WebhookEventStatus, 'received'>, outcome: string): Promise<ProcessedWebhook> {
    await this.em
      .fork()
      .execute(
        `update webhook_event set status = ?, processed_at = now(), outcome = ? where id in (${eventIds.map(() => '?').join(',')}) and status = 'received'`,
        [status, outcome, ...eventIds],
      );
    return { eventId: eventIds[0], outcome, status };
  }
}
