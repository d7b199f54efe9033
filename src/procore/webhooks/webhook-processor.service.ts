import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { BudgetCheck } from '../ingestion/budget-check.service';
import { describeFailure, isPermanent } from '../ingestion/ingestion-errors';

/** Resources whose events may change a project's budget (procore-api.md, "Webhooks"). */
export const BUDGET_RESOURCES = [
  'Budget Line Items',
  'Budget Changes',
  'Budget Modifications',
  'Budget View Snapshots',
  'Cost Codes',
  'Projects',
  'Line Item Types',
  'ERP Requests',
] as const;
const BUDGET_RESOURCE_KEYS = new Set(BUDGET_RESOURCES.map((name) => name.toLowerCase()));

interface StoredEvent {
  id: string;
  resource_name: string;
  event_type: string;
  resource_id: string | null;
  project_id: string | null;
  company_id: string | null;
  procore_user_id: string | null;
  processed_at: Date | null;
  outcome: string | null;
}

export interface ProcessedWebhook {
  eventId: string;
  outcome: string;
  skipped?: boolean;
}

/**
 * The ProcessWebhookEvent job. A budget-related event of a project runs the budget check
 * (BudgetCheck); anything else is recorded as ignored. Bursts are debounced per project: the check
 * of a project's latest waiting event covers the earlier ones, and every event gets its outcome.
 */
@Injectable()
export class WebhookProcessor {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(
    private readonly em: EntityManager,
    private readonly check: BudgetCheck,
    private readonly config: AppConfig,
  ) {}

  async process(webhookEventId: string): Promise<ProcessedWebhook> {
    const em = this.em.fork();
    const [event] = await em.execute<StoredEvent[]>(
      `select id, resource_name, event_type, resource_id, project_id, company_id, procore_user_id, processed_at, outcome
       from webhook_event where id = ?`,
      [webhookEventId],
    );
    if (!event) return { eventId: webhookEventId, outcome: 'the event does not exist', skipped: true };
    if (event.processed_at) return { eventId: webhookEventId, outcome: event.outcome ?? 'already processed', skipped: true };

    const ignored = this.ignoredBecause(event);
    if (ignored) return this.conclude([webhookEventId], `ignored: ${ignored}`);
    const projectId = Number(event.project_id ?? event.resource_id);

    // Budget events of the project still waiting: the latest one's check covers all of them.
    const waiting = await em.execute<Array<{ id: string }>>(
      `select id from webhook_event
       where processed_at is null and project_id = ? and lower(resource_name) in (${BUDGET_RESOURCES.map(() => '?').join(',')})
       order by id`,
      [projectId, ...BUDGET_RESOURCE_KEYS],
    );
    const latest = waiting.length ? String(waiting[waiting.length - 1].id) : webhookEventId;
    if (BigInt(latest) > BigInt(webhookEventId)) {
      return this.conclude([webhookEventId], `covered by the check of webhook event ${latest}`);
    }
    const covered = [...new Set([webhookEventId, ...waiting.map((row) => String(row.id))])];

    try {
      const result = await this.check.check(projectId, {
        source: 'webhook',
        procoreUserId: event.procore_user_id ? Number(event.procore_user_id) : null,
        actor: { label: 'procore' },
        note: `Procore webhook event ${webhookEventId} (${event.resource_name} ${event.event_type})`,
      });
      return this.conclude(covered, result.outcome);
    } catch (error) {
      // Procore busy or down, or something unexpected: the queue tries again.
      if (!isPermanent(error)) throw error;
      const reason = describeFailure(error);
      this.logger.warn(`Webhook event ${webhookEventId} for Procore project ${projectId}: ${reason}`);
      return this.conclude(covered, `failed: ${reason}`);
    }
  }

  private ignoredBecause(event: StoredEvent): string | undefined {
    if (event.company_id && Number(event.company_id) !== this.config.procore.companyId) {
      return `company ${event.company_id} is not the configured company (PROCORE_COMPANY_ID)`;
    }
    const resource = event.resource_name.toLowerCase();
    if (!BUDGET_RESOURCE_KEYS.has(resource)) return `"${event.resource_name}" events do not affect budgets`;
    const projectId = event.project_id ?? (resource === 'projects' ? event.resource_id : null);
    // E.g. a category's code changed: it applies to budgets sent from now on.
    if (!projectId) return 'a company-level change; it applies to the budgets sent from now on';
    return undefined;
  }

  private async conclude(eventIds: string[], outcome: string): Promise<ProcessedWebhook> {
    await this.em
      .fork()
      .execute(`update webhook_event set processed_at = now(), outcome = ? where id in (${eventIds.map(() => '?').join(',')}) and processed_at is null`, [
        outcome,
        ...eventIds,
      ]);
    return { eventId: eventIds[0], outcome };
  }
}
