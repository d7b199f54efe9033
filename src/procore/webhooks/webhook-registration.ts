import { ProcoreClient } from '../procore-client';
import type { ProcoreWebhookHook } from '../procore.types';

/** The namespace of the connector's hook in Procore (one hook per namespace). */
export const WEBHOOK_NAMESPACE = 'procore-spectrum-connector';

/** The triggers the connector listens to: every change that can alter a project's budget. */
export const WEBHOOK_TRIGGERS: ReadonlyArray<{ resourceName: string; eventType: string }> = [
  ...['Budget Line Items', 'Budget Changes', 'Budget Modifications', 'Cost Codes'].flatMap((resourceName) =>
    ['create', 'update', 'delete'].map((eventType) => ({ resourceName, eventType })),
  ),
  // Procore creates a snapshot when a budget is locked or sent; snapshots are never updated.
  { resourceName: 'Budget View Snapshots', eventType: 'create' },
  // A project's origin id or number decides its Spectrum job.
  { resourceName: 'Projects', eventType: 'update' },
];

export interface RegistrationResult {
  hook: ProcoreWebhookHook;
  /** False when an existing hook of the namespace was reused. */
  hookCreated: boolean;
  createdTriggers: Array<{ resourceName: string; eventType: string }>;
  existingTriggers: number;
  /** Things the integrator should look at (never quoting the secret). */
  warnings: string[];
}

/**
 * Registers the connector's hook and triggers in Procore; safe to run again: an existing hook of
 * the namespace is reused and only missing triggers are created. Procore sends `authorization`
 * verbatim as the `Authorization` header of every delivery.
 */
export async function registerWebhooks(
  client: ProcoreClient,
  options: { destinationUrl: string; authorization: string; namespace?: string },
): Promise<RegistrationResult> {
  const namespace = options.namespace ?? WEBHOOK_NAMESPACE;
  const warnings: string[] = [];
  const hooks = (await client.listWebhookHooks(namespace)).filter((hook) => hook.namespace === namespace);
  let hook = hooks.find((candidate) => candidate.destination_url === options.destinationUrl);
  const hookCreated = !hook;
  if (!hook) {
    if (hooks.length) {
      throw new Error(
        `Procore already has hook ${hooks[0].id} in namespace "${namespace}", delivering to ${hooks[0].destination_url}. ` +
          'Delete it in Procore (Company Admin → Webhooks) or choose another --namespace.',
      );
    }
    hook = await client.createWebhookHook({ namespace, destinationUrl: options.destinationUrl, authorizationHeader: options.authorization });
  } else {
    const headers = hook.destination_headers as Record<string, unknown> | undefined;
    if (headers && typeof headers === 'object' && 'Authorization' in headers && headers.Authorization !== options.authorization) {
      warnings.push(
        `hook ${hook.id} sends an Authorization header that differs from PROCORE_WEBHOOK_SECRET; its deliveries will be refused (401) until they match`,
      );
    }
  }

  const existing = await client.listWebhookTriggers(hook.id);
  const has = new Set(existing.map((trigger) => `${trigger.resource_name}\u0000${trigger.event_type}`));
  const createdTriggers: RegistrationResult['createdTriggers'] = [];
  for (const trigger of WEBHOOK_TRIGGERS) {
    if (has.has(`${trigger.resourceName}\u0000${trigger.eventType}`)) continue;
    await client.createWebhookTrigger(hook.id, trigger);
    createdTriggers.push(trigger);
  }
  return { hook, hookCreated, createdTriggers, existingTriggers: WEBHOOK_TRIGGERS.length - createdTriggers.length, warnings };
}
