import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

/**
 * Who created the budget being sent. Procore's public API has no `created_by` on budget lines, so
 * the connector takes the one real source it has: the Procore user whose action created the
 * project's latest budget view snapshot — the `user_id` of the newest `Budget View Snapshots`
 * `create` webhook event stored for the project (Procore snapshots a budget when it is locked for
 * sending). Without such an event (no webhooks, or older than WEBHOOK_RETENTION_DAYS), or when
 * that Procore user is not a connector user, the sender stands in as the creator (README).
 */
@Injectable()
export class BudgetCreator {
  constructor(private readonly em: EntityManager) {}

  /** The Procore user id, or null when no stored event names one. */
  async procoreUserOf(projectId: number): Promise<number | null> {
    const [row] = await this.em.fork().execute<Array<{ procore_user_id: string }>>(
      `select procore_user_id from webhook_event
       where project_id = ? and resource_name = 'Budget View Snapshots' and event_type = 'create'
         and procore_user_id is not null and status <> 'unusable'
       order by received_at desc, id desc limit 1`,
      [String(projectId)],
    );
    const id = row ? Number(row.procore_user_id) : null;
    return id !== null && Number.isSafeInteger(id) ? id : null;
  }
}
