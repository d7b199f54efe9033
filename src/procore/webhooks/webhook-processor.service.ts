import { Inject, Injectable, Logger } from '@nestjs/common';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../../config/runtime-options';
import { JobContext } from '../../queue/job-handler.decorator';
import { BudgetCheck } from '../ingestion/budget-check.service';
import { describeFailure, isPermanent } from '../ingestion/ingestion-errors';
import { describeDuration } from '../ingestion/durations';
import { ProjectScope } from '../project-scope';
import { WebhookEventStatus } from '../webhook-event.entity';
import { ProjectHookRegistrar } from './project-hook-registrar.service';
import { WebhookEventRepository } from './webhook-event.repository';
import { KNOWN_RESOURCES } from './webhook-resources';

/**
 * How long an event may keep failing (Procore down, an unexpected error) before it is given up:
 * on a queue run's final attempt past this age it is marked `unusable` with the reason, instead of
 * going back to the sweeper again and again and spending Procore's rate limit. The polling sweep
 * covers the project anyway.
 */
export const WEBHOOK_GIVE_UP_AFTER_MS = 60 * 60_000;

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
  constructor(
    private readonly events: WebhookEventRepository,
    private readonly check: BudgetCheck,
    private readonly projectHooks: ProjectHookRegistrar,
    private readonly scope: ProjectScope,
    @Inject(RUNTIME_OPTIONS) private readonly runtime: Pick<RuntimeOptions, 'timings'>,
  ) {}

  async process(webhookEventId: string, context: Pick<JobContext, 'finalAttempt'> = { finalAttempt: false }): Promise<ProcessedWebhook> {
    const event = await this.events.find(webhookEventId);
    if (!event) return { eventId: webhookEventId, outcome: 'the event does not exist (deleted after the retention period?)', skipped: true };
    if (event.status !== 'received') return { eventId: webhookEventId, outcome: event.outcome ?? `already ${event.status}`, status: event.status, skipped: true };

    const projectText = event.projectId ?? (event.resourceName === 'Projects' ? event.resourceId : null);
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
    const waiting = await this.events.waitingOfProject(projectText, KNOWN_RESOURCES);
    const latest = waiting.length ? waiting[waiting.length - 1] : webhookEventId;
    if (BigInt(latest) > BigInt(webhookEventId)) {
      return this.conclude([webhookEventId], 'processed', `covered by the check of webhook event ${latest}`);
    }
    const covered = [...new Set([webhookEventId, ...waiting])];

    try {
      // A new project: its own hook first (where company scope lacks the budget resources).
      const registered =
        event.resourceName === 'Projects' && event.eventType === 'create' ? `${await this.projectHooks.register(projectId)}; ` : '';
      const result = await this.check.check(projectId, {
        source: 'webhook',
        procoreUserId: event.procoreUserId ? Number(event.procoreUserId) : null,
        actor: { label: 'procore' },
        note: `Procore webhook event ${webhookEventId} (${event.resourceName} ${event.eventType})`,
      });
      return this.conclude(covered, 'processed', registered + result.outcome);
    } catch (error) {
      const reason = describeFailure(error);
      if (isPermanent(error)) return this.giveUp(covered, projectId, reason);
      // Procore busy or down, or something unexpected: the queue tries again — for a bounded time.
      if (!context.finalAttempt || event.ageMs < (this.runtime.timings.webhookGiveUpAfterMs ?? WEBHOOK_GIVE_UP_AFTER_MS)) throw error;
      return this.giveUp(covered, projectId, `gave up after ${describeDuration(event.ageMs)} of failures (the polling sweep covers the project): ${reason}`);
    }
  }

  private giveUp(eventIds: string[], projectId: number, reason: string): Promise<ProcessedWebhook> {
    this.logger.warn(`Webhook event(s) ${eventIds.join(', ')} for Procore project ${projectId}: ${reason}`);
    return this.conclude(eventIds, 'unusable', reason);
  }

  private async conclude(eventIds: string[], status: Exclude<WebhookEventStatus, 'received'>, outcome: string): Promise<ProcessedWebhook> {
    await this.events.conclude(eventIds, status, outcome);
    return { eventId: eventIds[0], outcome, status };
  }
}
