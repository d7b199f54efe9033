import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreError } from '../client/procore-errors';
import { registerProjectWebhook } from './webhook-registration';

/**
 * A project created in Procore after `procore:register-webhooks` ran has no project-level hook, and
 * where company scope does not offer the budget resources (a sandbox did not), its budget changes
 * would reach the connector only through the polling sweep. So a `Projects` create event registers
 * the project's hook (registerProjectWebhook: nothing when company scope covers the budget
 * resources; idempotent). Projects outside PROCORE_PROJECT_IDS, when it is set, are not watched.
 */
@Injectable()
export class ProjectHookRegistrar {
  private readonly logger = new Logger(ProjectHookRegistrar.name);

  constructor(
    private readonly client: ProcoreClient,
    private readonly config: AppConfig,
  ) {}

  /** What was done, in words. Transient Procore failures are thrown (the event is tried again). */
  async register(projectId: number): Promise<string> {
    const watched = this.config.procore.projectIds;
    if (watched.length && !watched.includes(projectId)) return `project ${projectId} is not in PROCORE_PROJECT_IDS: no project-level hook`;
    try {
      const { registration, warnings } = await registerProjectWebhook(this.client, { projectId, authorization: this.config.procore.webhookSecret });
      for (const warning of warnings) this.logger.warn(`Project ${projectId}: ${warning}`);
      if (!registration) return 'company-level hooks cover its budget resources: no project-level hook needed';
      const triggers = `${registration.createdTriggers.length} trigger(s) added`;
      return registration.hookCreated
        ? `registered project-level hook ${registration.hook.id} (${triggers})`
        : `its project-level hook ${registration.hook.id} was already registered (${triggers})`;
    } catch (error) {
      if (error instanceof ProcoreError && error.transient) throw error;
      // Not fatal to the event: the polling sweep still covers the project; the reason is recorded.
      const reason = `could not register its project-level hook (${(error as Error).message}); the polling sweep covers it meanwhile`;
      this.logger.warn(`Project ${projectId}: ${reason}`);
      return reason;
    }
  }
}
