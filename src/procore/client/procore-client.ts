import { Injectable } from '@nestjs/common';
import { HooksApiChoice } from './procore-hooks-api';
import { ProcoreClientStats, ProcoreHttp, RESET_MARGIN_MS } from './procore-http';
import {
  NO_LOGGER,
  positiveInteger,
  ProcoreClientOptions,
  ProcoreLogger,
  ResolvedProcoreClientOptions,
  resolveProcoreClientOptions,
} from './procore-client.options';
import { ProcoreApiError, ProcoreDataError } from './procore-errors';
import { PagedSpec, ProcorePager } from './procore-pager';
import {
  budgetChangeCheck,
  budgetLineItemCheck,
  budgetLockCheck,
  budgetViewCheck,
  companyUserCheck,
  costCodeCheck,
  detailRowCheck,
  lineItemTypeCheck,
  list,
  projectCheck,
  wrapped,
} from './procore-schema';
import { ProcoreTokenProvider } from './procore-token.provider';
import { ProcoreTransport, Query, validate } from './procore-transport';
import { ProcoreWebhooksEndpoints } from './procore-webhooks.endpoints';
import type {
  ProcoreBudgetChange,
  ProcoreBudgetLineItem,
  ProcoreBudgetLock,
  ProcoreBudgetLockChange,
  ProcoreBudgetView,
  ProcoreCompanyUser,
  ProcoreCostCode,
  ProcoreDetailRow,
  ProcoreDetailRowFilters,
  ProcoreLineItemType,
  ProcorePage,
  ProcoreProject,
  ProcoreWebhookHook,
  ProcoreWebhookResource,
  ProcoreWebhookTrigger,
  WebhookScope,
} from './procore.types';
import { RateLimiter } from './rate-limiter';

export type { ProcoreClientOptions, ProcoreLogger } from './procore-client.options';
export { MAX_PER_PAGE, V2_MAX_PER_PAGE } from './procore-client.options';
export type { ProcoreClientStats } from './procore-http';

/**
 * The Procore REST endpoints the connector uses, each one a few lines over the layers below it:
 * {@link ProcoreTransport} (one call: rate-limit pacing, the token from
 * {@link ProcoreTokenProvider}, retries), {@link ProcorePager} (lists page by page) and
 * {@link HooksApiChoice} (webhooks on v2.0, else v1.0). Responses are checked against the shapes
 * in procore-schema.ts. Usable without Nest: `new ProcoreClient(options, logger?)`.
 *
 * Errors are {@link ProcoreError}s: {@link ProcoreApiError} (HTTP error), `ProcoreAuthError`
 * (credentials refused), `ProcoreRateLimitError` (window too far away), `ProcoreNetworkError`
 * (no answer), {@link ProcoreDataError} (unexpected body).
 */
@Injectable()
export class ProcoreClient {
  private readonly options: ResolvedProcoreClientOptions;
  private readonly http: ProcoreHttp;
  private readonly limiter: RateLimiter;
  private readonly transport: ProcoreTransport;
  private readonly pager: ProcorePager;
  private readonly hooks: HooksApiChoice;
  private readonly webhooks: ProcoreWebhooksEndpoints;
  private waitBaselineMs = 0;

  constructor(options: ProcoreClientOptions, logger: ProcoreLogger = NO_LOGGER) {
    this.options = resolveProcoreClientOptions(options);
    this.http = new ProcoreHttp(this.options, logger);
    this.limiter = new RateLimiter({
      now: this.options.now,
      sleep: this.options.sleep,
      reserve: this.options.rateLimitReserve,
      maxWaitMs: this.options.maxWaitMs,
      marginMs: RESET_MARGIN_MS,
      onWait: (ms) => logger.debug?.(`rate limit reached; waiting ${ms} ms for the window to reset`),
    });
    this.transport = new ProcoreTransport(this.http, new ProcoreTokenProvider(this.http), this.limiter, this.options.sharedRateBudget);
    this.pager = new ProcorePager(this.transport, this.options.perPage);
    this.hooks = new HooksApiChoice(logger);
    this.webhooks = new ProcoreWebhooksEndpoints(this.transport, this.pager, this.hooks, this.options.companyId);
  }

  // ---- Projects and budgets ---------------------------------------------------------------------

  async getProject(projectId: number): Promise<ProcoreProject> {
    const result = await this.transport.call({
      method: 'GET',
      path: `/rest/v1.0/projects/${positiveInteger(projectId, 'projectId')}`,
      query: { company_id: this.options.companyId },
    });
    return validate(projectCheck, result);
  }

  /** Active projects of the company; with `includeInactive`, inactive ones too (Procore lists
   * those only when asked with `filters[by_status]=All`). */
  async listProjects(options: { includeInactive?: boolean } = {}): Promise<ProcoreProject[]> {
    const projects = await this.pager.collect({
      method: 'GET',
      path: '/rest/v1.0/projects',
      query: { company_id: this.options.companyId, 'filters[by_status]': options.includeInactive ? 'All' : undefined },
      item: projectCheck,
    });
    return options.includeInactive ? projects : projects.filter((project) => project.active);
  }

  async getBudgetLock(projectId: number): Promise<ProcoreBudgetLock> {
    const result = await this.transport.call({ method: 'GET', path: this.budgetPath(projectId) });
    return validate(budgetLockCheck, result);
  }

  /**
   * Locks the budget. Already locked is not an error: `changed` is then false (also when a retried
   * request had taken effect the first time). To know whether the connector locked it, read
   * {@link getBudgetLock} first.
   */
  lockBudget(projectId: number): Promise<ProcoreBudgetLockChange> {
    return this.setLock(projectId, true);
  }

  /**
   * Unlocks the budget, keeping its budget modifications: Procore's unlock deletes them unless
   * `destroy_all_budget_line_item_transfers=false` is sent (the parameter defaults to true), so
   * this always sends it. Already unlocked is not an error: `changed` is then false.
   */
  unlockBudget(projectId: number): Promise<ProcoreBudgetLockChange> {
    return this.setLock(projectId, false);
  }

  listBudgetViews(projectId: number): Promise<ProcoreBudgetView[]> {
    return this.pager.collect({
      method: 'GET',
      path: '/rest/v1.0/budget_views',
      query: { project_id: positiveInteger(projectId, 'projectId') },
      item: budgetViewCheck,
    });
  }

  /** The budget lines of a view, page by page (`per_page` = the configured page size). */
  detailRowPages(
    viewId: number,
    projectId: number,
    filters: ProcoreDetailRowFilters = {},
  ): AsyncGenerator<ProcorePage<ProcoreDetailRow>> {
    return this.pager.pages(this.detailRowsSpec(viewId, projectId, filters));
  }

  /** Every budget line of a view. Fails with {@link ProcoreDataError} when the pages disagree with
   * Procore's `Total` or repeat a line (the budget changed while it was read). */
  listDetailRows(
    viewId: number,
    projectId: number,
    filters: ProcoreDetailRowFilters = {},
  ): Promise<ProcoreDetailRow[]> {
    return this.pager.collect(this.detailRowsSpec(viewId, projectId, filters));
  }

  async getBudgetLineItem(lineItemId: number, projectId: number): Promise<ProcoreBudgetLineItem> {
    const result = await this.transport.call({
      method: 'GET',
      path: `/rest/v1.0/budget_line_items/${positiveInteger(lineItemId, 'lineItemId')}`,
      query: { project_id: positiveInteger(projectId, 'projectId') },
    });
    return validate(budgetLineItemCheck, result);
  }

  listCostCodes(projectId: number): Promise<ProcoreCostCode[]> {
    return this.pager.collect({
      method: 'GET',
      path: '/rest/v1.0/cost_codes',
      query: { project_id: positiveInteger(projectId, 'projectId') },
      item: costCodeCheck,
    });
  }

  /** The company's categories ("line item types"). */
  listLineItemTypes(): Promise<ProcoreLineItemType[]> {
    return this.pager.collect({
      method: 'GET',
      path: '/rest/v1.0/line_item_types',
      query: { company_id: this.options.companyId },
      item: lineItemTypeCheck,
    });
  }

  /** The project's budget changes: one call, the body wrapped in `{"data": [...]}` (Procore's
   * reference lists no paging for it; test/fixtures/procore/list-budget-changes.json). */
  async listBudgetChanges(projectId: number): Promise<ProcoreBudgetChange[]> {
    const result = await this.transport.call({
      method: 'GET',
      path: `/rest/v1.0/projects/${positiveInteger(projectId, 'projectId')}/budget_changes`,
    });
    return validate(wrapped(list(budgetChangeCheck)), result);
  }

  listCompanyUsers(): Promise<ProcoreCompanyUser[]> {
    return this.pager.collect({
      method: 'GET',
      path: `/rest/v1.3/companies/${this.options.companyId}/users`,
      item: companyUserCheck,
    });
  }

  // ---- Webhooks: v2.0, else the developer guide's v1.0 ----------------------------------------

  /**
   * Which hooks API the company answers: v2.0 is preferred; a company answering 404 there gets the
   * v1.0 hooks API the developer guide documents (decided on the first hooks call, then kept).
   */
  get webhooksApi(): 'v2' | 'v1' | undefined {
    return this.hooks.current;
  }

  /** The resources hooks of this scope may trigger on, with the event types each offers. */
  listWebhookResources(scope: WebhookScope = {}): Promise<ProcoreWebhookResource[]> {
    return this.webhooks.listResources(scope);
  }

  /** The hooks of a namespace at this scope (company-level unless `projectId`). Their
   * `Authorization` header may come back masked to its last 5 characters. */
  listWebhookHooks(namespace: string, scope: WebhookScope = {}): Promise<ProcoreWebhookHook[]> {
    return this.webhooks.listHooks(namespace, scope);
  }

  /** Registers a hook at this scope; Procore will send `authorizationHeader` verbatim as
   * `Authorization`. */
  createWebhookHook(
    input: { namespace: string; destinationUrl: string; authorizationHeader: string },
    scope: WebhookScope = {},
  ): Promise<ProcoreWebhookHook> {
    return this.webhooks.createHook(input, scope);
  }

  /** The triggers of a hook. Event types may come back upper case and past tense (`CREATED`). */
  listWebhookTriggers(hookId: string | number, scope: WebhookScope = {}): Promise<ProcoreWebhookTrigger[]> {
    return this.webhooks.listTriggers(hookId, scope);
  }

  createWebhookTrigger(
    hookId: string | number,
    input: { resourceName: string; eventType: string },
    scope: WebhookScope = {},
  ): Promise<ProcoreWebhookTrigger> {
    return this.webhooks.createTrigger(hookId, input, scope);
  }

  // ---- Counters ---------------------------------------------------------------------------------

  /** A copy of the counters since construction or the last {@link resetStats}. */
  get stats(): ProcoreClientStats {
    const counters = this.http.counters;
    return { ...counters, byKind: { ...counters.byKind }, rateLimitWaitMs: this.waitedMs() - this.waitBaselineMs };
  }

  resetStats(): void {
    this.http.resetCounters();
    this.waitBaselineMs = this.waitedMs();
  }

  /** Waits for a reset: this client's own, and for the budget shared with other processes. */
  private waitedMs(): number {
    return this.limiter.waitedMs + (this.options.sharedRateBudget?.waitedMs ?? 0);
  }

  // ---- Helpers ----------------------------------------------------------------------------------

  private async setLock(projectId: number, locked: boolean): Promise<ProcoreBudgetLockChange> {
    const path = `${this.budgetPath(projectId)}/lock`;
    const method = locked ? 'POST' : 'DELETE';
    // Never the default (true): it would delete every budget modification of the budget.
    const query: Query | undefined = locked ? undefined : { destroy_all_budget_line_item_transfers: 'false' };
    try {
      // Setting a state is safe to repeat after an ambiguous failure.
      const result = await this.transport.call({ method, path, query, idempotent: true });
      if (result.body !== null) {
        const state = validate(budgetLockCheck, result);
        if (state.locked !== locked) {
          throw new ProcoreDataError(method, path, `answered {"locked": ${state.locked}}`);
        }
      }
      return { locked, changed: true };
    } catch (error) {
      // Procore refuses to lock a locked budget or unlock an unlocked one; check which it is.
      if (error instanceof ProcoreApiError && [400, 409, 422].includes(error.status)) {
        const state = await this.getBudgetLock(projectId);
        if (state.locked === locked) return { locked, changed: false };
      }
      throw error;
    }
  }

  private detailRowsSpec(
    viewId: number,
    projectId: number,
    filters: ProcoreDetailRowFilters,
  ): PagedSpec<ProcoreDetailRow> {
    return {
      method: 'GET',
      path: `/rest/v1.0/budget_views/${positiveInteger(viewId, 'viewId')}/detail_rows`,
      query: {
        project_id: positiveInteger(projectId, 'projectId'),
        'cost_code_id[]': filters.costCodeIds?.map((value) => positiveInteger(value, 'costCodeIds')),
        'category_id[]': filters.categoryIds?.map((value) => positiveInteger(value, 'categoryIds')),
      },
      kind: 'detail_rows',
      item: detailRowCheck,
    };
  }

  private budgetPath(projectId: number): string {
    return `/rest/v1.0/projects/${positiveInteger(projectId, 'projectId')}/budget`;
  }
}
