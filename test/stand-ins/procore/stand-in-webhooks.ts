/**
 * Procore's webhooks configuration API for the stand-in: hooks and triggers at company and project
 * scope, the resources each scope offers, in both the v2.0 API (test/fixtures/procore/webhooks-v2.json)
 * and the developer guide's v1.0 API (webhooks-v1.json). Listed hooks show their Authorization
 * header masked and triggers their event types upper case (both inferred; configurable).
 */
import { procoreFixture } from '../../fixtures/procore';
import { conform } from './stand-in-json';
import type {
  StandInHook,
  StandInTrigger,
  WebhookBehaviour,
  WebhookEventType,
  WebhookResource,
} from './procore-stand-in.types';

type Json = Record<string, unknown>;

export interface WebhookReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What the stand-in lends the webhooks API: ids, paging, the company. */
export interface WebhookHost {
  companyId: number;
  hasProject(projectId: number): boolean;
  nextId(kind: string, first: number): number;
  /** A paged answer; `v2` wraps in `{data}`, defaults to 10 per page and allows at most 100. */
  paged(url: URL, items: unknown[], v2: boolean): WebhookReply;
}

const v2 = procoreFixture('webhooks-v2');
const v1 = procoreFixture('webhooks-v1');
const V2_HOOK: Json = v2.hookList.response.body.data[0];
const V2_TRIGGER: Json = v2.triggerList.response.body.data[0];
const V2_RESOURCE: Json = v2.resourceList.response.body.data[0];
const V1_HOOK: Json = v1.hookList.response.body[0];
const V1_TRIGGER: Json = v1.triggerList.response.body[0];
const V1_RESOURCE: Json = v1.resourceList.response.body[0];

/** The service account the v1.0 API names as owner of hooks and triggers. */
const OWNER_USER_ID = 532323;
const ALL_ACTIONS: WebhookEventType[] = ['create', 'update', 'delete'];

const resource = (name: string, category: string, tool: string, actions = ALL_ACTIONS): WebhookResource => ({ name, category, tool, actions });

/** Company scope per a sandbox listing (inferred): no budget resources there. */
export const DEFAULT_COMPANY_RESOURCES: WebhookResource[] = [
  resource('Projects', 'Core', 'Portfolio', ['create', 'update']),
  resource('Line Item Types', 'Construction Financials', 'Admin'),
  resource('Company Users', 'Core', 'Directory', ['create', 'update']),
  resource('ERP Requests', 'Construction Financials', 'ERP Integrations'),
  resource('Standard Cost Codes', 'Construction Financials', 'Admin'),
];

/** Project scope: where the budget and cost-code resources are offered. */
export const DEFAULT_PROJECT_RESOURCES: WebhookResource[] = [
  resource('Budget Line Items', 'Construction Financials', 'Budget'),
  resource('Budget Changes', 'Construction Financials', 'Budget'),
  resource('Budget Modifications', 'Construction Financials', 'Budget'),
  resource('Budget View Snapshots', 'Construction Financials', 'Budget', ['create']),
  resource('Cost Codes', 'Construction Financials', 'Admin'),
  resource('Direct Costs', 'Construction Financials', 'Direct Costs'),
  resource('RFIs', 'Project Management', 'RFIs'),
];

export function defaultWebhookBehaviour(): WebhookBehaviour {
  return {
    api: 'v2',
    maskSecrets: true,
    eventTypeStyle: 'past-upper',
    companyResources: DEFAULT_COMPANY_RESOURCES.map((r) => ({ ...r, actions: [...r.actions] })),
    projectResources: DEFAULT_PROJECT_RESOURCES.map((r) => ({ ...r, actions: [...r.actions] })),
  };
}

/** `create`, `CREATE`, `Created`, `CREATED` → `create`; anything else → undefined. */
export function canonicalEventType(value: unknown): WebhookEventType | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  const base = text.endsWith('d') && ALL_ACTIONS.includes(text.slice(0, -1) as WebhookEventType) ? text.slice(0, -1) : text;
  return ALL_ACTIONS.includes(base as WebhookEventType) ? (base as WebhookEventType) : undefined;
}

/** Five asterisks and the last 5 characters (`*****token`), as the reference describes. */
export function maskSecret(value: string): string {
  return `*****${value.slice(-5)}`;
}

type Scope = { projectId: number | null };

export class StandInWebhooks {
  behaviour: WebhookBehaviour = defaultWebhookBehaviour();
  private readonly hookList = new Map<string, StandInHook>();
  private readonly triggerList = new Map<string, StandInTrigger>();

  constructor(private readonly host: WebhookHost) {}

  reset(): void {
    this.behaviour = defaultWebhookBehaviour();
    this.hookList.clear();
    this.triggerList.clear();
  }

  // ---- Test-facing state ------------------------------------------------------------------------

  hooks(): StandInHook[] {
    return [...this.hookList.values()].map((hook) => ({ ...hook, destination_headers: { ...hook.destination_headers } }));
  }

  hook(id: string): StandInHook | undefined {
    return this.hookList.get(id);
  }

  triggers(hookId?: string): StandInTrigger[] {
    return [...this.triggerList.values()].filter((t) => hookId === undefined || t.hook_id === hookId).map((t) => ({ ...t }));
  }

  addHook(input: {
    namespace: string;
    destinationUrl: string;
    destinationHeaders?: Record<string, string>;
    payloadVersion?: string;
    projectId?: number | null;
  }): StandInHook {
    const now = new Date().toISOString();
    const hook: StandInHook = {
      id: String(this.host.nextId('hook', 1)),
      company_id: this.host.companyId,
      project_id: input.projectId ?? null,
      namespace: input.namespace,
      destination_url: input.destinationUrl,
      destination_headers: { ...input.destinationHeaders },
      payload_version: input.payloadVersion ?? 'v2',
      created_at: now,
    };
    this.hookList.set(hook.id, hook);
    return { ...hook, destination_headers: { ...hook.destination_headers } };
  }

  addTrigger(hookId: string, resourceName: string, eventType: WebhookEventType): StandInTrigger {
    const trigger: StandInTrigger = {
      id: String(this.host.nextId('trigger', 1)),
      hook_id: hookId,
      resource_name: resourceName,
      event_type: eventType,
      created_at: new Date().toISOString(),
    };
    this.triggerList.set(trigger.id, trigger);
    return { ...trigger };
  }

  /** Hooks an event of this project reaches: company-level ones and the project's own. */
  hooksFor(projectId: number | null): StandInHook[] {
    return this.hooks().filter((hook) => hook.project_id === null || hook.project_id === projectId);
  }

  resourcesAt(scope: Scope): WebhookResource[] {
    return scope.projectId === null ? this.behaviour.companyResources : this.behaviour.projectResources;
  }

  // ---- v2.0 -------------------------------------------------------------------------------------

  v2ListHooks(url: URL, companyId: number, projectId: number | null): WebhookReply {
    const refused = this.v2Refusal(companyId, projectId);
    if (refused) return refused;
    const namespace = url.searchParams.get('namespace');
    if (projectId === null && !namespace) return v2Error(400, 'namespace is required');
    const hooks = this.scoped({ projectId }).filter((hook) => !namespace || hook.namespace === namespace);
    return this.host.paged(url, hooks.map((hook) => this.v2HookJson(hook)), true);
  }

  v2CreateHook(body: unknown, companyId: number, projectId: number | null): WebhookReply {
    const refused = this.v2Refusal(companyId, projectId);
    if (refused) return refused;
    const input = object(body);
    const problems = hookProblems(input.namespace, input.destination_url, input.destination_headers);
    if (input.payload_version === undefined) problems.payload_version = ["can't be blank"];
    else if (!['v2', 'v3', 'v4', 'v2.0', 'v3.0', 'v4.0'].includes(String(input.payload_version))) problems.payload_version = ['is not a known payload version'];
    if (Object.keys(problems).length) return v2Error(422, 'Validation failed', problems);
    const hook = this.addHook({
      namespace: input.namespace as string,
      destinationUrl: input.destination_url as string,
      destinationHeaders: (input.destination_headers ?? {}) as Record<string, string>,
      payloadVersion: String(input.payload_version),
      projectId,
    });
    return { status: 201, body: { data: this.v2HookJson(hook) } };
  }

  v2ListTriggers(url: URL, companyId: number, projectId: number | null, hookId: string): WebhookReply {
    const refused = this.v2Refusal(companyId, projectId);
    if (refused) return refused;
    const hook = this.hookIn(hookId, { projectId });
    if (!hook) return v2Error(404, 'Hook not found');
    return this.host.paged(url, this.triggers(hookId).map((trigger) => this.v2TriggerJson(trigger, hook)), true);
  }

  v2CreateTrigger(body: unknown, companyId: number, projectId: number | null, hookId: string): WebhookReply {
    const refused = this.v2Refusal(companyId, projectId);
    if (refused) return refused;
    const hook = this.hookIn(hookId, { projectId });
    if (!hook) return v2Error(404, 'Hook not found');
    const input = object(body);
    const created = this.createTrigger(hook, input.resource_name, input.event_type);
    if ('problems' in created) return v2Error(422, 'Validation failed', created.problems);
    return { status: 201, body: { data: this.v2TriggerJson(created.trigger, hook) } };
  }

  v2ListResources(url: URL, companyId: number, projectId: number | null): WebhookReply {
    const refused = this.v2Refusal(companyId, projectId);
    if (refused) return refused;
    const version = url.searchParams.get('payload_version');
    if (!version) return v2Error(400, 'payload_version is required');
    const items = this.resourcesAt({ projectId }).map((r) =>
      conform(V2_RESOURCE, { category: r.category, tool: r.tool, name: r.name, payload_version: version, actions: [...r.actions] }, 'a v2.0 webhook resource'),
    );
    return this.host.paged(url, items, true);
  }

  // ---- v1.0 -------------------------------------------------------------------------------------

  v1ListHooks(url: URL): WebhookReply {
    const scope = this.v1Scope(url.searchParams.get('company_id'), url.searchParams.get('project_id'));
    if ('status' in scope) return scope;
    const namespace = url.searchParams.get('namespace');
    const hooks = this.scoped(scope).filter((hook) => !namespace || namespace === '*' || hook.namespace === namespace);
    return { status: 200, body: hooks.map((hook) => this.v1HookJson(hook)) };
  }

  v1CreateHook(body: unknown): WebhookReply {
    const outer = object(body);
    const scope = this.v1Scope(outer.company_id, outer.project_id);
    if ('status' in scope) return scope;
    const input = object(outer.hook);
    const problems = hookProblems(input.namespace, input.destination_url, input.destination_headers);
    if (input.api_version === undefined) problems.api_version = ["can't be blank"];
    if (Object.keys(problems).length) return { status: 422, body: { errors: problems } };
    const hook = this.addHook({
      namespace: input.namespace as string,
      destinationUrl: input.destination_url as string,
      destinationHeaders: (input.destination_headers ?? {}) as Record<string, string>,
      payloadVersion: String(input.api_version),
      projectId: scope.projectId,
    });
    return { status: 201, body: this.v1HookJson(hook) };
  }

  v1ListTriggers(url: URL, hookId: string): WebhookReply {
    const scope = this.v1Scope(url.searchParams.get('company_id'), url.searchParams.get('project_id'));
    if ('status' in scope) return scope;
    const hook = this.hookIn(hookId, scope);
    if (!hook) return { status: 404, body: { errors: 'Hook not found' } };
    return { status: 200, body: this.triggers(hookId).map((trigger) => this.v1TriggerJson(trigger, hook)) };
  }

  v1CreateTrigger(body: unknown, hookId: string): WebhookReply {
    const outer = object(body);
    const scope = this.v1Scope(outer.company_id, outer.project_id);
    if ('status' in scope) return scope;
    const hook = this.hookIn(hookId, scope);
    if (!hook) return { status: 404, body: { errors: 'Hook not found' } };
    if (outer.api_version === undefined) return { status: 422, body: { errors: { api_version: ["can't be blank"] } } };
    const input = object(outer.trigger);
    const created = this.createTrigger(hook, input.resource_name, input.event_type);
    if ('problems' in created) return { status: 422, body: { errors: created.problems } };
    return { status: 201, body: this.v1TriggerJson(created.trigger, hook) };
  }

  v1ListResources(url: URL): WebhookReply {
    const scope = this.v1Scope(url.searchParams.get('company_id'), url.searchParams.get('project_id'));
    if ('status' in scope) return scope;
    const items = this.resourcesAt(scope).map((r) =>
      conform(
        V1_RESOURCE,
        {
          api_version: 'v2',
          product_category: r.category,
          tools: r.name,
          except: ALL_ACTIONS.filter((action) => !r.actions.includes(action)),
          create: null,
          update: null,
          delete: null,
        },
        'a v1.0 webhook resource',
      ),
    );
    return { status: 200, body: items };
  }

  // ---- Helpers ----------------------------------------------------------------------------------

  private v2Refusal(companyId: number, projectId: number | null): WebhookReply | undefined {
    // A company without the v2.0 hooks API: the route does not exist there.
    if (this.behaviour.api === 'v1') return { status: 404, body: { errors: 'Not Found' } };
    if (companyId !== this.host.companyId) return v2Error(403, 'You do not have access to this company');
    if (projectId !== null && !this.host.hasProject(projectId)) return v2Error(404, 'Project not found');
    return undefined;
  }

  /** `company_id` xor `project_id` (either may be text or a number). */
  private v1Scope(companyId: unknown, projectId: unknown): Scope | WebhookReply {
    const given = (value: unknown) => value !== undefined && value !== null && value !== '';
    if (given(companyId) === given(projectId)) {
      return { status: 400, body: { errors: 'You must supply either a company_id or project_id' } };
    }
    if (given(projectId)) {
      const id = Number(projectId);
      return this.host.hasProject(id) ? { projectId: id } : { status: 404, body: { errors: 'Project not found' } };
    }
    return Number(companyId) === this.host.companyId
      ? { projectId: null }
      : { status: 403, body: { errors: 'You do not have access to this company' } };
  }

  private scoped(scope: Scope): StandInHook[] {
    return [...this.hookList.values()].filter((hook) => hook.project_id === scope.projectId);
  }

  private hookIn(hookId: string, scope: Scope): StandInHook | undefined {
    const hook = this.hookList.get(hookId);
    return hook && hook.project_id === scope.projectId ? hook : undefined;
  }

  private createTrigger(
    hook: StandInHook,
    resourceName: unknown,
    eventType: unknown,
  ): { trigger: StandInTrigger } | { problems: Record<string, string[]> } {
    const problems: Record<string, string[]> = {};
    const event = canonicalEventType(eventType);
    if (typeof resourceName !== 'string' || !resourceName.trim()) problems.resource_name = ["can't be blank"];
    if (!event) problems.event_type = ['must be one of create, update, delete'];
    if (Object.keys(problems).length) return { problems };
    const offered = this.resourcesAt({ projectId: hook.project_id }).find((r) => r.name === resourceName);
    const scope = hook.project_id === null ? 'company' : 'project';
    if (!offered) return { problems: { resource_name: [`is not a webhook resource at ${scope} scope`] } };
    if (!offered.actions.includes(event as WebhookEventType)) {
      return { problems: { event_type: [`${event} is not offered for ${resourceName as string}`] } };
    }
    const duplicate = this.triggers(hook.id).some((t) => t.resource_name === resourceName && t.event_type === event);
    if (duplicate) return { problems: { resource_name: ['has already been taken for this event type'] } };
    return { trigger: this.addTrigger(hook.id, resourceName as string, event as WebhookEventType) };
  }

  private authorizationShown(hook: StandInHook): Record<string, string> {
    const shown: Record<string, string> = {};
    for (const [name, value] of Object.entries(hook.destination_headers)) {
      shown[name] = this.behaviour.maskSecrets && name.toLowerCase() === 'authorization' ? maskSecret(value) : value;
    }
    return shown;
  }

  private eventTypeShown(eventType: WebhookEventType, api: 'v1' | 'v2'): string {
    const style = this.behaviour.eventTypeStyle;
    if (style === 'lower') return eventType;
    if (style === 'upper' || api === 'v1') return eventType.toUpperCase();
    return `${eventType}d`.toUpperCase();
  }

  private v2HookJson(hook: StandInHook): Json {
    return conform(
      V2_HOOK,
      {
        id: hook.id,
        status: 'active',
        payload_version: hook.payload_version,
        namespace: hook.namespace,
        destination_headers: this.authorizationShown(hook),
        destination_url: hook.destination_url,
        company_id: hook.project_id === null ? String(hook.company_id) : null,
        project_id: hook.project_id === null ? null : String(hook.project_id),
        created_at: hook.created_at,
        updated_at: hook.created_at,
        hook_type: 'classic',
      },
      'a v2.0 hook',
    );
  }

  private v2TriggerJson(trigger: StandInTrigger, hook: StandInHook): Json {
    return conform(
      V2_TRIGGER,
      {
        id: trigger.id,
        webhook_hook_id: hook.id,
        resource_name: trigger.resource_name,
        event_type: this.eventTypeShown(trigger.event_type, 'v2'),
        company_id: hook.project_id === null ? String(hook.company_id) : null,
        project_id: hook.project_id === null ? null : String(hook.project_id),
      },
      'a v2.0 trigger',
    );
  }

  private v1HookJson(hook: StandInHook): Json {
    return conform(
      V1_HOOK,
      {
        id: Number(hook.id),
        api_version: hook.payload_version,
        destination_headers: this.authorizationShown(hook),
        destination_url: hook.destination_url,
        owned_by_company_id: hook.project_id === null ? hook.company_id : null,
        owned_by_project_id: hook.project_id,
        owned_by_user_id: OWNER_USER_ID,
        namespace: hook.namespace,
      },
      'a v1.0 hook',
    );
  }

  private v1TriggerJson(trigger: StandInTrigger, hook: StandInHook): Json {
    return conform(
      V1_TRIGGER,
      {
        id: Number(trigger.id),
        webhook_hook_id: Number(hook.id),
        resource_name: trigger.resource_name,
        resource_id: null,
        event_type: this.eventTypeShown(trigger.event_type, 'v1'),
        company_id: hook.project_id === null ? hook.company_id : null,
        project_id: hook.project_id,
        user_id: OWNER_USER_ID,
      },
      'a v1.0 trigger',
    );
  }
}

function object(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function hookProblems(namespace: unknown, destinationUrl: unknown, headers: unknown): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  // The developer guide: lowercase a–z, digits and dashes.
  if (typeof namespace !== 'string' || !namespace.trim()) problems.namespace = ["can't be blank"];
  else if (!/^[a-z0-9-]+$/.test(namespace)) problems.namespace = ['may hold lowercase letters, digits and dashes only'];
  if (typeof destinationUrl !== 'string' || !/^https?:\/\/\S+$/.test(destinationUrl)) {
    problems.destination_url = ['must be an http(s) URL'];
  }
  const textValues =
    headers === undefined ||
    (typeof headers === 'object' && headers !== null && !Array.isArray(headers) && Object.values(headers as Json).every((v) => typeof v === 'string'));
  if (!textValues) problems.destination_headers = ['must be an object of header names to text'];
  return problems;
}

/** v2.0's standardised error body. */
function v2Error(status: number, message: string, details?: Record<string, string[]>): WebhookReply {
  const text = details ? Object.entries(details).map(([field, reasons]) => `${field} ${reasons.join(', ')}`).join('; ') : message;
  return { status, body: { error: { code: String(status), message: text, ...(details ? { details } : {}) } } };
}
