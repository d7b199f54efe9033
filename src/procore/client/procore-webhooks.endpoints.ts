import { positiveInteger } from './procore-client.options';
import { HooksApiChoice } from './procore-hooks-api';
import { ProcorePager } from './procore-pager';
import { list, v1WebhookHookCheck, v1WebhookResourceCheck, v2, webhookHookCheck, webhookResourceCheck, webhookTriggerCheck } from './procore-schema';
import { ProcoreTransport, validate } from './procore-transport';
import type { ProcoreWebhookHook, ProcoreWebhookResource, ProcoreWebhookTrigger, WebhookScope } from './procore.types';

/**
 * Procore's webhooks endpoints (resources, hooks, triggers) at company or project scope, on the
 * v2.0 API or, for a company answering 404 there, the v1.0 one (HooksApiChoice). ProcoreClient
 * exposes them as `listWebhookResources`, `createWebhookHook`, …
 */
export class ProcoreWebhooksEndpoints {
  constructor(
    private readonly transport: ProcoreTransport,
    private readonly pager: ProcorePager,
    private readonly choice: HooksApiChoice,
    private readonly companyId: number,
  ) {}

  /** The resources hooks of this scope may trigger on, with the event types each offers. */
  listResources(scope: WebhookScope = {}): Promise<ProcoreWebhookResource[]> {
    return this.choice.run(
      () =>
        this.pager.collect({
          method: 'GET',
          path: `${this.v2WebhooksPath(scope)}/resources`,
          query: { payload_version: 'v2.0' },
          item: webhookResourceCheck,
          wrapped: true,
        }),
      async () => {
        const result = await this.transport.call({ method: 'GET', path: '/rest/v1.0/webhooks/resources', query: this.v1Scope(scope) });
        return validate(list(v1WebhookResourceCheck), result);
      },
    );
  }

  /** The hooks of a namespace at this scope (company-level unless `projectId`). Their
   * `Authorization` header may come back masked to its last 5 characters. */
  listHooks(namespace: string, scope: WebhookScope = {}): Promise<ProcoreWebhookHook[]> {
    return this.choice.run(
      () =>
        this.pager.collect({
          method: 'GET',
          path: `${this.v2WebhooksPath(scope)}/hooks`,
          query: { namespace },
          item: webhookHookCheck,
          wrapped: true,
          sensitive: true,
        }),
      async () => {
        const result = await this.transport.call({
          method: 'GET',
          path: '/rest/v1.0/webhooks/hooks',
          query: { ...this.v1Scope(scope), namespace },
          sensitive: true,
        });
        return validate(list(v1WebhookHookCheck), result);
      },
    );
  }

  /** Registers a hook at this scope; Procore will send `authorizationHeader` verbatim as
   * `Authorization`. */
  createHook(
    input: { namespace: string; destinationUrl: string; authorizationHeader: string },
    scope: WebhookScope = {},
  ): Promise<ProcoreWebhookHook> {
    const hook = {
      namespace: input.namespace,
      destination_url: input.destinationUrl,
      destination_headers: { Authorization: input.authorizationHeader },
    };
    return this.choice.run(
      async () => {
        const result = await this.transport.call({
          method: 'POST',
          path: `${this.v2WebhooksPath(scope)}/hooks`,
          json: { payload_version: 'v2', ...hook },
          sensitive: true,
        });
        return validate(v2(webhookHookCheck), result);
      },
      async () => {
        const result = await this.transport.call({
          method: 'POST',
          path: '/rest/v1.0/webhooks/hooks',
          json: { ...this.v1Scope(scope), hook: { api_version: 'v2', ...hook } },
          sensitive: true,
        });
        return validate(v1WebhookHookCheck, result);
      },
    );
  }

  /** The triggers of a hook. Event types may come back upper case and past tense (`CREATED`). */
  listTriggers(hookId: string | number, scope: WebhookScope = {}): Promise<ProcoreWebhookTrigger[]> {
    return this.choice.run(
      () => this.pager.collect({ method: 'GET', path: this.v2TriggersPath(hookId, scope), item: webhookTriggerCheck, wrapped: true }),
      async () => {
        const result = await this.transport.call({ method: 'GET', path: this.v1TriggersPath(hookId), query: this.v1Scope(scope) });
        return validate(list(webhookTriggerCheck), result);
      },
    );
  }

  async createTrigger(
    hookId: string | number,
    input: { resourceName: string; eventType: string },
    scope: WebhookScope = {},
  ): Promise<ProcoreWebhookTrigger> {
    const trigger = { resource_name: input.resourceName, event_type: input.eventType };
    return this.choice.run(
      async () => {
        const result = await this.transport.call({ method: 'POST', path: this.v2TriggersPath(hookId, scope), json: trigger });
        return validate(v2(webhookTriggerCheck), result);
      },
      async () => {
        const result = await this.transport.call({
          method: 'POST',
          path: this.v1TriggersPath(hookId),
          json: { ...this.v1Scope(scope), api_version: 'v2', trigger },
        });
        return validate(webhookTriggerCheck, result);
      },
    );
  }

  /** `/rest/v2.0/companies/{c}[/projects/{p}]/webhooks`. */
  private v2WebhooksPath(scope: WebhookScope): string {
    const project = scope.projectId === undefined ? '' : `/projects/${positiveInteger(scope.projectId, 'projectId')}`;
    return `/rest/v2.0/companies/${this.companyId}${project}/webhooks`;
  }

  private v2TriggersPath(hookId: string | number, scope: WebhookScope): string {
    return `${this.v2WebhooksPath(scope)}/hooks/${encodeURIComponent(hookIdText(hookId))}/triggers`;
  }

  private v1TriggersPath(hookId: string | number): string {
    return `/rest/v1.0/webhooks/hooks/${encodeURIComponent(hookIdText(hookId))}/triggers`;
  }

  /** The v1.0 hooks API names its scope with `company_id` or `project_id`. */
  private v1Scope(scope: WebhookScope): { company_id?: number; project_id?: number } {
    return scope.projectId === undefined ? { company_id: this.companyId } : { project_id: positiveInteger(scope.projectId, 'projectId') };
  }
}

function hookIdText(hookId: string | number): string {
  const text = String(hookId);
  if (!text.trim()) throw new Error('ProcoreClient: hookId is required');
  return text;
}
