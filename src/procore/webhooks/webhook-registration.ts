import { ProcoreClient } from '../client/procore-client';
import type { ProcoreWebhookHook, ProcoreWebhookResource, WebhookScope } from '../client/procore.types';

/** The namespace of the connector's hooks in Procore (one hook per namespace and scope). */
export const WEBHOOK_NAMESPACE = 'procore-spectrum-connector';

export interface WebhookTrigger {
  resourceName: string;
  eventType: 'create' | 'update' | 'delete';
}

/** The triggers the connector listens to: every change that can alter a project's budget. */
export const WEBHOOK_TRIGGERS: ReadonlyArray<WebhookTrigger> = [
  ...['Budget Line Items', 'Budget Changes', 'Budget Modifications', 'Cost Codes'].flatMap((resourceName) =>
    (['create', 'update', 'delete'] as const).map((eventType) => ({ resourceName, eventType })),
  ),
  // Procore creates a snapshot when a budget is locked or sent; snapshots are never updated.
  { resourceName: 'Budget View Snapshots', eventType: 'create' },
  // A project's origin id or number decides its Spectrum job; a new project may need its own hook.
  { resourceName: 'Projects', eventType: 'create' },
  { resourceName: 'Projects', eventType: 'update' },
];

export interface HookRegistration {
  /** Where the hook lives: the company, or one project. */
  scope: WebhookScope;
  hook: ProcoreWebhookHook;
  /** False when an existing hook of the namespace was reused. */
  hookCreated: boolean;
  createdTriggers: WebhookTrigger[];
  existingTriggers: number;
}

export interface RegistrationResult {
  /** The company-level hook first (when company scope offers any wanted resource), then one hook
   * per watched project (when company scope lacks the budget resources). */
  hooks: HookRegistration[];
  /** Which hooks API the company answered: `v2` (v2.0) or `v1` (the v1.0 fallback). */
  api: 'v2' | 'v1' | undefined;
  /** Things the integrator should look at (never quoting the secret). */
  warnings: string[];
}

export interface RegistrationOptions {
  destinationUrl: string;
  /** The exact Authorization header Procore should send (PROCORE_WEBHOOK_SECRET). */
  authorization: string;
  namespace?: string;
  /** Projects that get project-level hooks where company scope lacks the budget resources
   * (PROCORE_PROJECT_IDS); empty or absent: every active project of the company. */
  projectIds?: readonly number[];
}

/**
 * Registers the connector's hooks and triggers in Procore. Procore may offer the budget resources
 * only to project-level hooks (a sandbox listing did; the resources list of each scope says), so:
 * the resources offered at company scope get a company-level hook; the rest get a project-level
 * hook in each watched project. Safe to run again: an existing hook of the namespace is reused,
 * triggers are compared without regard to case or tense (`CREATED` is `create`), and a stored
 * secret Procore lists masked is compared by its visible last characters; only what is missing is
 * created. v2.0 lists are read at most 100 per page.
 */
export async function registerWebhooks(client: ProcoreClient, options: RegistrationOptions): Promise<RegistrationResult> {
  const namespace = options.namespace ?? WEBHOOK_NAMESPACE;
  const warnings: string[] = [];
  const hooks: HookRegistration[] = [];

  const atCompany = offered(WEBHOOK_TRIGGERS, await client.listWebhookResources());
  if (atCompany.length) hooks.push(await ensureHook(client, {}, atCompany, { ...options, namespace }, warnings));

  const elsewhere = WEBHOOK_TRIGGERS.filter((trigger) => !atCompany.includes(trigger));
  if (elsewhere.length) {
    const projectIds = options.projectIds?.length ? [...options.projectIds] : (await client.listProjects()).map((project) => project.id);
    const unoffered = new Map(elsewhere.map((trigger) => [key(trigger), trigger]));
    for (const projectId of projectIds) {
      const scope = { projectId };
      const atProject = offered(elsewhere, await client.listWebhookResources(scope));
      for (const trigger of atProject) unoffered.delete(key(trigger));
      if (atProject.length) hooks.push(await ensureHook(client, scope, atProject, { ...options, namespace }, warnings));
    }
    if (projectIds.length && unoffered.size) {
      warnings.push(
        `Procore offers ${[...unoffered.values()].map(describe).join(', ')} neither to company-level nor to project-level hooks; ` +
          'the polling sweep catches those changes',
      );
    }
  }
  return { hooks, api: client.webhooksApi, warnings };
}

/**
 * Registers the project-level hook of one project (for a project created after
 * `procore:register-webhooks` ran: call it when a `Projects` create event arrives). Nothing is done
 * (null) when company scope offers every budget resource. The destination is the one the
 * namespace's company-level hook delivers to, unless given. Idempotent like
 * {@link registerWebhooks}.
 */
export async function registerProjectWebhook(
  client: ProcoreClient,
  options: { projectId: number; authorization: string; namespace?: string; destinationUrl?: string },
): Promise<{ registration: HookRegistration | null; warnings: string[] }> {
  const namespace = options.namespace ?? WEBHOOK_NAMESPACE;
  const warnings: string[] = [];
  const atCompany = offered(WEBHOOK_TRIGGERS, await client.listWebhookResources());
  const elsewhere = WEBHOOK_TRIGGERS.filter((trigger) => !atCompany.includes(trigger));
  if (!elsewhere.length) return { registration: null, warnings };
  const scope = { projectId: options.projectId };
  const atProject = offered(elsewhere, await client.listWebhookResources(scope));
  if (!atProject.length) return { registration: null, warnings };
  let destinationUrl = options.destinationUrl;
  if (!destinationUrl) {
    const [companyHook] = (await client.listWebhookHooks(namespace)).filter((hook) => hook.namespace === namespace);
    if (!companyHook) {
      throw new Error(
        `Procore has no company-level hook in namespace "${namespace}" to learn the webhook address from; run procore:register-webhooks first`,
      );
    }
    destinationUrl = companyHook.destination_url;
  }
  const registration = await ensureHook(client, scope, atProject, { destinationUrl, authorization: options.authorization, namespace }, warnings);
  return { registration, warnings };
}

/** The hook of the namespace at this scope, created if missing, with every wanted trigger. */
async function ensureHook(
  client: ProcoreClient,
  scope: WebhookScope,
  wanted: readonly WebhookTrigger[],
  options: { destinationUrl: string; authorization: string; namespace: string },
  warnings: string[],
): Promise<HookRegistration> {
  const { namespace } = options;
  const where = scope.projectId === undefined ? 'company' : `project ${scope.projectId}`;
  const hooks = (await client.listWebhookHooks(namespace, scope)).filter((hook) => hook.namespace === namespace);
  let hook = hooks.find((candidate) => candidate.destination_url === options.destinationUrl);
  const hookCreated = !hook;
  if (!hook) {
    if (hooks.length) {
      throw new Error(
        `Procore already has ${where} hook ${hooks[0].id} in namespace "${namespace}", delivering to ${hooks[0].destination_url}. ` +
          'Delete it in Procore (Admin → Webhooks) or choose another --namespace.',
      );
    }
    hook = await client.createWebhookHook(
      { namespace, destinationUrl: options.destinationUrl, authorizationHeader: options.authorization },
      scope,
    );
  } else if (!sameSecret(hook, options.authorization)) {
    warnings.push(
      `${where} hook ${hook.id} sends an Authorization header that differs from PROCORE_WEBHOOK_SECRET; its deliveries will be refused (401) until they match`,
    );
  }

  const existing = new Set((await client.listWebhookTriggers(hook.id, scope)).map((trigger) => key({ resourceName: trigger.resource_name, eventType: trigger.event_type })));
  const createdTriggers: WebhookTrigger[] = [];
  for (const trigger of wanted) {
    if (existing.has(key(trigger))) continue;
    await client.createWebhookTrigger(hook.id, trigger, scope);
    createdTriggers.push(trigger);
  }
  return { scope, hook, hookCreated, createdTriggers, existingTriggers: wanted.length - createdTriggers.length };
}

/** The wanted triggers whose resource and event type the resources list offers. */
function offered(wanted: readonly WebhookTrigger[], resources: ProcoreWebhookResource[]): WebhookTrigger[] {
  const actions = new Map(resources.map((resource) => [resource.name.toLowerCase(), new Set(resource.actions.map(canonicalEventType))]));
  return wanted.filter((trigger) => actions.get(trigger.resourceName.toLowerCase())?.has(trigger.eventType));
}

/**
 * Whether the hook sends our Authorization header. Procore may list it masked to its last few
 * characters (`*****token`); then those characters are compared. An unmasked header is compared
 * whole. A hook without one is not ours to judge (no warning).
 */
export function sameSecret(hook: ProcoreWebhookHook, authorization: string): boolean {
  const headers = hook.destination_headers;
  if (!headers || typeof headers !== 'object') return true;
  const stored = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  if (typeof stored !== 'string') return true;
  if (stored === authorization) return true;
  const masked = /^\*+(.*)$/s.exec(stored);
  return masked !== null && masked[1].length > 0 && authorization.endsWith(masked[1]);
}

/** `create`, `CREATE`, `Created`, `CREATED` → `create`: Procore lists event types upper case, and
 * v2.0 in the past tense. */
export function canonicalEventType(value: string): string {
  const text = value.trim().toLowerCase();
  const present = text.endsWith('d') ? text.slice(0, -1) : text;
  return ['create', 'update', 'delete'].includes(present) ? present : text;
}

function key(trigger: { resourceName: string; eventType: string }): string {
  return `${trigger.resourceName.trim().toLowerCase()}\u0000${canonicalEventType(trigger.eventType)}`;
}

function describe(trigger: WebhookTrigger): string {
  return `${trigger.resourceName} ${trigger.eventType}`;
}
