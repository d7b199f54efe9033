import { Injectable } from '@nestjs/common';
import {
  backoffDelay,
  parseCountHeader,
  parseLinkHeader,
  parseRateLimitHeaders,
  parseRetryAfter,
  serverClockOffset,
} from './http-headers';
import {
  ProcoreApiError,
  ProcoreAuthError,
  ProcoreDataError,
  ProcoreNetworkError,
  ProcoreRateLimitError,
  procoreErrorMessage,
} from './procore-errors';
import {
  Check,
  ShapeError,
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
  v1WebhookHookCheck,
  v1WebhookResourceCheck,
  v2,
  webhookHookCheck,
  webhookResourceCheck,
  webhookTriggerCheck,
  wrapped,
} from './procore-schema';
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
import { RateLimitWaitTooLong, RateLimiter } from './rate-limiter';

export interface ProcoreClientOptions {
  /** API base, e.g. `https://api.procore.com`. */
  apiUrl: string;
  /** Login base, e.g. `https://login.procore.com`. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  companyId: number;
  /** Page size of v1 lists (1–2000, Procore's recommended maximum). Default 1000. v2.0 lists ask
   * for at most 100, Procore's maximum there. */
  perPage?: number;
  /** Per HTTP request, headers and body included. Default 30000. */
  timeoutMs?: number;
  /** Sends per request, the first included, for transient failures. Default 6. */
  maxAttempts?: number;
  /** Backoff base: the n-th retry waits a random time up to base · 2^(n−1). Default 500. */
  baseDelayMs?: number;
  /** Backoff ceiling. Default 30000. */
  maxDelayMs?: number;
  /** Longest single wait for a rate-limit reset or a `Retry-After`; beyond it the call fails with
   * a transient error (e.g. the hourly bucket is spent) instead of blocking. Default 300000. */
  maxWaitMs?: number;
  /** Requests kept in hand before waiting for the rate-limit reset. Default 0. */
  rateLimitReserve?: number;
  /** Refresh the access token this long before it expires (at most a tenth of its lifetime).
   * Default 60000. */
  tokenRefreshMarginMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
  userAgent?: string;
}

/** Structurally compatible with Nest's `Logger`. */
export interface ProcoreLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export interface ProcoreClientStats {
  /** HTTP requests sent, every attempt and the token endpoint included. */
  requests: number;
  byKind: { token: number; detailRowPages: number; other: number };
  /** 429 answers received. */
  rateLimited: number;
  /** Requests sent again after a failure (re-authentication included). */
  retries: number;
  /** Calls that met a 401 and fetched a new token. */
  reauthentications: number;
  /** Time callers spent waiting for a rate-limit window to reset before sending. */
  rateLimitWaitMs: number;
}

type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PATCH';
type QueryValue = string | number | boolean | undefined | Array<string | number>;
type Query = Record<string, QueryValue>;
type RequestKind = 'token' | 'detail_rows' | 'other';

interface CallSpec {
  method: HttpMethod;
  path: string;
  query?: Query;
  json?: unknown;
  kind?: RequestKind;
  /** Safe to send again after an ambiguous failure (timeout, 5xx). Default: not for POST. */
  idempotent?: boolean;
  /** The exchange may carry secrets: never quote either body. */
  sensitive?: boolean;
}

interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
  spec: CallSpec;
}

interface PagedSpec<T> extends CallSpec {
  item: Check<T>;
  /** v2.0 list: `{"data": [...]}`, at most 100 per page. */
  wrapped?: boolean;
}

interface CachedToken {
  value: string;
  refreshAtMs: number;
}

const NO_LOGGER: ProcoreLogger = { log() {}, warn() {}, error() {}, debug() {} };
/** Procore's recommended largest page for v1 lists (plan_your_app/pagination.md). */
export const MAX_PER_PAGE = 2000;
/** v2.0 lists allow at most 100 per page (announcements/new_rest_v2_version.md). */
export const V2_MAX_PER_PAGE = 100;
/** Reset has one-second resolution; come back a little after it. */
const RESET_MARGIN_MS = 100;
/** Network errors after which the request certainly did not reach Procore. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Procore REST client: OAuth 2 client credentials, paging, rate-limit pacing, retries and
 * response validation. Usable without Nest: `new ProcoreClient(options, logger?)`.
 *
 * Every call sends `Authorization: Bearer …` and `Procore-Company-Id`. Errors are
 * {@link ProcoreError}s: {@link ProcoreApiError} (HTTP error), {@link ProcoreAuthError}
 * (credentials refused), {@link ProcoreRateLimitError} (window too far away),
 * {@link ProcoreNetworkError} (no answer), {@link ProcoreDataError} (unexpected body).
 */
@Injectable()
export class ProcoreClient {
  private readonly apiUrl: string;
  private readonly loginUrl: string;
  private readonly companyId: number;
  private readonly perPage: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxWaitMs: number;
  private readonly tokenRefreshMarginMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly limiter: RateLimiter;
  private readonly counters: Omit<ProcoreClientStats, 'rateLimitWaitMs'>;
  private waitBaselineMs = 0;
  private token?: CachedToken;
  private tokenRequest?: Promise<CachedToken>;
  private hooksApi?: 'v2' | 'v1';

  constructor(
    private readonly options: ProcoreClientOptions,
    private readonly logger: ProcoreLogger = NO_LOGGER,
  ) {
    this.apiUrl = baseUrl(options.apiUrl, 'apiUrl');
    this.loginUrl = baseUrl(options.loginUrl, 'loginUrl');
    if (!options.clientId || !options.clientSecret) {
      throw new Error('ProcoreClient: clientId and clientSecret are required');
    }
    this.companyId = positiveInteger(options.companyId, 'companyId');
    this.perPage = positiveInteger(options.perPage ?? 1000, 'perPage');
    if (this.perPage > MAX_PER_PAGE) throw new Error(`ProcoreClient: perPage must be at most ${MAX_PER_PAGE}`);
    this.timeoutMs = positiveInteger(options.timeoutMs ?? 30000, 'timeoutMs');
    this.maxAttempts = positiveInteger(options.maxAttempts ?? 6, 'maxAttempts');
    this.baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
    this.maxDelayMs = Math.max(this.baseDelayMs, options.maxDelayMs ?? 30000);
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? 300000);
    this.tokenRefreshMarginMs = Math.max(0, options.tokenRefreshMarginMs ?? 60000);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? fetch;
    this.limiter = new RateLimiter({
      now: this.now,
      sleep: this.sleep,
      reserve: Math.max(0, options.rateLimitReserve ?? 0),
      maxWaitMs: this.maxWaitMs,
      marginMs: RESET_MARGIN_MS,
      onWait: (ms) => this.debug(`rate limit reached; waiting ${ms} ms for the window to reset`),
    });
    this.counters = this.emptyCounters();
  }

  // ---- Projects and budgets ---------------------------------------------------------------------

  async getProject(projectId: number): Promise<ProcoreProject> {
    const result = await this.call({
      method: 'GET',
      path: `/rest/v1.0/projects/${positiveInteger(projectId, 'projectId')}`,
      query: { company_id: this.companyId },
    });
    return this.validate(projectCheck, result);
  }

  /** Active projects of the company; with `includeInactive`, inactive ones too (Procore lists
   * those only when asked with `filters[by_status]=All`). */
  async listProjects(options: { includeInactive?: boolean } = {}): Promise<ProcoreProject[]> {
    const projects = await this.collect({
      method: 'GET',
      path: '/rest/v1.0/projects',
      query: { company_id: this.companyId, 'filters[by_status]': options.includeInactive ? 'All' : undefined },
      item: projectCheck,
    });
    return options.includeInactive ? projects : projects.filter((project) => project.active);
  }

  async getBudgetLock(projectId: number): Promise<ProcoreBudgetLock> {
    const result = await this.call({ method: 'GET', path: this.budgetPath(projectId) });
    return this.validate(budgetLockCheck, result);
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
    return this.collect({
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
    return this.pages(this.detailRowsSpec(viewId, projectId, filters));
  }

  /** Every budget line of a view. Fails with {@link ProcoreDataError} when the pages disagree with
   * Procore's `Total` or repeat a line (the budget changed while it was read). */
  listDetailRows(
    viewId: number,
    projectId: number,
    filters: ProcoreDetailRowFilters = {},
  ): Promise<ProcoreDetailRow[]> {
    return this.collect(this.detailRowsSpec(viewId, projectId, filters));
  }

  async getBudgetLineItem(lineItemId: number, projectId: number): Promise<ProcoreBudgetLineItem> {
    const result = await this.call({
      method: 'GET',
      path: `/rest/v1.0/budget_line_items/${positiveInteger(lineItemId, 'lineItemId')}`,
      query: { project_id: positiveInteger(projectId, 'projectId') },
    });
    return this.validate(budgetLineItemCheck, result);
  }

  listCostCodes(projectId: number): Promise<ProcoreCostCode[]> {
    return this.collect({
      method: 'GET',
      path: '/rest/v1.0/cost_codes',
      query: { project_id: positiveInteger(projectId, 'projectId') },
      item: costCodeCheck,
    });
  }

  /** The company's categories ("line item types"). */
  listLineItemTypes(): Promise<ProcoreLineItemType[]> {
    return this.collect({
      method: 'GET',
      path: '/rest/v1.0/line_item_types',
      query: { company_id: this.companyId },
      item: lineItemTypeCheck,
    });
  }

  /** The project's budget changes: one call, the body wrapped in `{"data": [...]}` (Procore's
   * reference lists no paging for it; test/fixtures/procore/list-budget-changes.json). */
  async listBudgetChanges(projectId: number): Promise<ProcoreBudgetChange[]> {
    const result = await this.call({
      method: 'GET',
      path: `/rest/v1.0/projects/${positiveInteger(projectId, 'projectId')}/budget_changes`,
    });
    return this.validate(wrapped(list(budgetChangeCheck)), result);
  }

  listCompanyUsers(): Promise<ProcoreCompanyUser[]> {
    return this.collect({
      method: 'GET',
      path: `/rest/v1.3/companies/${this.companyId}/users`,
      item: companyUserCheck,
    });
  }

  // ---- Webhooks: v2.0, else the developer guide's v1.0 ----------------------------------------

  /**
   * Which hooks API the company answers: v2.0 is preferred; a company answering 404 there gets the
   * v1.0 hooks API the developer guide documents (decided on the first hooks call, then kept).
   */
  get webhooksApi(): 'v2' | 'v1' | undefined {
    return this.hooksApi;
  }

  /** The resources hooks of this scope may trigger on, with the event types each offers. */
  listWebhookResources(scope: WebhookScope = {}): Promise<ProcoreWebhookResource[]> {
    return this.withHooksApi(
      () =>
        this.collect({
          method: 'GET',
          path: `${this.v2WebhooksPath(scope)}/resources`,
          query: { payload_version: 'v2.0' },
          item: webhookResourceCheck,
          wrapped: true,
        }),
      async () => {
        const result = await this.call({ method: 'GET', path: '/rest/v1.0/webhooks/resources', query: this.v1Scope(scope) });
        return this.validate(list(v1WebhookResourceCheck), result);
      },
    );
  }

  /** The hooks of a namespace at this scope (company-level unless `projectId`). Their
   * `Authorization` header may come back masked to its last 5 characters. */
  listWebhookHooks(namespace: string, scope: WebhookScope = {}): Promise<ProcoreWebhookHook[]> {
    return this.withHooksApi(
      () =>
        this.collect({
          method: 'GET',
          path: `${this.v2WebhooksPath(scope)}/hooks`,
          query: { namespace },
          item: webhookHookCheck,
          wrapped: true,
          sensitive: true,
        }),
      async () => {
        const result = await this.call({
          method: 'GET',
          path: '/rest/v1.0/webhooks/hooks',
          query: { ...this.v1Scope(scope), namespace },
          sensitive: true,
        });
        return this.validate(list(v1WebhookHookCheck), result);
      },
    );
  }

  /** Registers a hook at this scope; Procore will send `authorizationHeader` verbatim as
   * `Authorization`. */
  createWebhookHook(
    input: { namespace: string; destinationUrl: string; authorizationHeader: string },
    scope: WebhookScope = {},
  ): Promise<ProcoreWebhookHook> {
    const hook = {
      namespace: input.namespace,
      destination_url: input.destinationUrl,
      destination_headers: { Authorization: input.authorizationHeader },
    };
    return this.withHooksApi(
      async () => {
        const result = await this.call({
          method: 'POST',
          path: `${this.v2WebhooksPath(scope)}/hooks`,
          json: { payload_version: 'v2', ...hook },
          sensitive: true,
        });
        return this.validate(v2(webhookHookCheck), result);
      },
      async () => {
        const result = await this.call({
          method: 'POST',
          path: '/rest/v1.0/webhooks/hooks',
          json: { ...this.v1Scope(scope), hook: { api_version: 'v2', ...hook } },
          sensitive: true,
        });
        return this.validate(v1WebhookHookCheck, result);
      },
    );
  }

  /** The triggers of a hook. Event types may come back upper case and past tense (`CREATED`). */
  listWebhookTriggers(hookId: string | number, scope: WebhookScope = {}): Promise<ProcoreWebhookTrigger[]> {
    return this.withHooksApi(
      () => this.collect({ method: 'GET', path: this.v2TriggersPath(hookId, scope), item: webhookTriggerCheck, wrapped: true }),
      async () => {
        const result = await this.call({ method: 'GET', path: this.v1TriggersPath(hookId), query: this.v1Scope(scope) });
        return this.validate(list(webhookTriggerCheck), result);
      },
    );
  }

  async createWebhookTrigger(
    hookId: string | number,
    input: { resourceName: string; eventType: string },
    scope: WebhookScope = {},
  ): Promise<ProcoreWebhookTrigger> {
    const trigger = { resource_name: input.resourceName, event_type: input.eventType };
    return this.withHooksApi(
      async () => {
        const result = await this.call({ method: 'POST', path: this.v2TriggersPath(hookId, scope), json: trigger });
        return this.validate(v2(webhookTriggerCheck), result);
      },
      async () => {
        const result = await this.call({
          method: 'POST',
          path: this.v1TriggersPath(hookId),
          json: { ...this.v1Scope(scope), api_version: 'v2', trigger },
        });
        return this.validate(webhookTriggerCheck, result);
      },
    );
  }

  // ---- Counters ---------------------------------------------------------------------------------

  /** A copy of the counters since construction or the last {@link resetStats}. */
  get stats(): ProcoreClientStats {
    return {
      ...this.counters,
      byKind: { ...this.counters.byKind },
      rateLimitWaitMs: this.limiter.waitedMs - this.waitBaselineMs,
    };
  }

  resetStats(): void {
    Object.assign(this.counters, this.emptyCounters());
    this.waitBaselineMs = this.limiter.waitedMs;
  }

  // ---- Paging -----------------------------------------------------------------------------------

  private async *pages<T>(spec: PagedSpec<T>): AsyncGenerator<ProcorePage<T>> {
    const check = spec.wrapped ? wrapped(list(spec.item)) : list(spec.item);
    const requested = spec.wrapped ? Math.min(this.perPage, V2_MAX_PER_PAGE) : this.perPage;
    let page = 1;
    let seen = 0;
    for (;;) {
      const result = await this.call({ ...spec, query: { ...spec.query, page, per_page: requested } });
      const items = this.validate(check, result);
      const total = parseCountHeader(result.headers.get('total'));
      const perPage = parseCountHeader(result.headers.get('per-page')) || requested;
      seen += items.length;
      yield { items, page, perPage, total };

      // Procore's Link header decides; without one, Total; without that, a short page ends it.
      const links = parseLinkHeader(result.headers.get('link'));
      let next: number | undefined;
      if (Object.keys(links).length) {
        next = links.next ? pageOf(links.next) ?? page + 1 : undefined;
      } else if (total !== undefined) {
        next = seen < total ? page + 1 : undefined;
      } else {
        next = items.length >= perPage ? page + 1 : undefined;
      }
      if (next === undefined || items.length === 0) return;
      if (next <= page) {
        throw new ProcoreDataError(spec.method, spec.path, `Link rel="next" of page ${page} points to page ${next}`);
      }
      page = next;
    }
  }

  private async collect<T>(spec: PagedSpec<T>): Promise<T[]> {
    const all: T[] = [];
    let total: number | undefined;
    for await (const page of this.pages(spec)) {
      all.push(...page.items);
      total ??= page.total;
      // A record added or removed between pages shifts the others across page boundaries.
      if (page.total !== undefined && page.total !== total) {
        throw new ProcoreDataError(
          spec.method,
          spec.path,
          `Total went from ${total} to ${page.total} on page ${page.page}; the data changed while it was read`,
        );
      }
    }
    if (total !== undefined && all.length !== total) {
      throw new ProcoreDataError(
        spec.method,
        spec.path,
        `Procore announced ${total} records (Total) but the pages held ${all.length}; ` +
          'the data changed while it was read',
      );
    }
    const ids = new Set<unknown>();
    for (const item of all) {
      const itemId = (item as { id?: unknown }).id;
      if (itemId === undefined) continue;
      if (ids.has(itemId)) {
        throw new ProcoreDataError(
          spec.method,
          spec.path,
          `record id ${String(itemId)} appeared on two pages; the data changed while it was read`,
        );
      }
      ids.add(itemId);
    }
    return all;
  }

  // ---- One call: rate limits, token, retries ----------------------------------------------------

  private async call(spec: CallSpec): Promise<CallResult> {
    const url = this.urlFor(this.apiUrl, spec.path, spec.query);
    const idempotent = spec.idempotent ?? spec.method !== 'POST';
    const where = `${spec.method} ${spec.path}${describeQuery(spec.query)}`;
    let failures = 0;
    let reauthenticated = false;

    for (;;) {
      try {
        await this.limiter.acquire();
      } catch (error) {
        if (error instanceof RateLimitWaitTooLong) {
          throw new ProcoreRateLimitError(new Date(error.resetAtMs), spec.method, spec.path);
        }
        throw error;
      }
      let token: string;
      try {
        token = await this.accessToken();
      } catch (error) {
        this.limiter.release(undefined);
        throw error;
      }

      this.count(spec.kind ?? 'other');
      const headers: Record<string, string> = {
        Accept: 'application/json',
        Authorization: `Bearer ${token}`,
        'Procore-Company-Id': String(this.companyId),
      };
      if (this.options.userAgent) headers['User-Agent'] = this.options.userAgent;
      if (spec.json !== undefined) headers['Content-Type'] = 'application/json';
      const exchange = await this.exchange(url, {
        method: spec.method,
        headers,
        body: spec.json === undefined ? undefined : JSON.stringify(spec.json),
      });
      const response = exchange.response;
      const ok = response !== undefined && response.status >= 200 && response.status < 300;
      this.limiter.release(
        response ? (parseRateLimitHeaders(response.headers, this.now()) ?? (ok ? null : undefined)) : undefined,
        response?.status === 429 ? this.retryAt(response.headers) : undefined,
      );

      if (exchange.failure !== undefined || !response) {
        failures += 1;
        const timedOut = isTimeout(exchange.failure);
        if (!(idempotent || notSent(exchange.failure)) || failures >= this.maxAttempts) {
          throw new ProcoreNetworkError(spec.method, spec.path, timedOut, exchange.failure);
        }
        await this.backOff(where, timedOut ? 'timed out' : `failed (${causeCode(exchange.failure)})`, failures);
        continue;
      }

      const status = response.status;
      if (ok) return { status, headers: response.headers, body: this.parseBody(exchange.text, spec), spec };

      const message = spec.sensitive ? undefined : procoreErrorMessage(tryJson(exchange.text));
      if (status === 401 && !reauthenticated) {
        reauthenticated = true;
        this.counters.reauthentications += 1;
        this.counters.retries += 1;
        this.invalidateToken(token);
        this.logger.warn(`Procore ${where} answered 401; fetching a new access token and retrying once`);
        continue;
      }
      if (status === 429) this.counters.rateLimited += 1;
      const retryable = status === 429 || status === 503 || (idempotent && (status >= 500 || status === 408));
      if (!retryable) throw new ProcoreApiError(status, spec.method, spec.path, message);

      failures += 1;
      const delay = this.retryDelay(status, response.headers, failures);
      if (failures >= this.maxAttempts) {
        throw new ProcoreApiError(status, spec.method, spec.path, message, delay);
      }
      if (delay > this.maxWaitMs) {
        if (status === 429) {
          throw new ProcoreRateLimitError(new Date(this.now() + delay), spec.method, spec.path);
        }
        throw new ProcoreApiError(status, spec.method, spec.path, message, delay);
      }
      await this.backOff(where, `answered ${status}`, failures, delay);
    }
  }

  /**
   * Delay before retrying after an HTTP error, plus jitter: a 429 waits `Retry-After` when Procore
   * sends one, else until `X-Rate-Limit-Reset` — both measured against the response's `Date`, so a
   * server clock that differs from ours neither stretches nor shortens the wait; a 503 waits
   * `Retry-After`; otherwise exponential backoff with full jitter.
   */
  private retryDelay(status: number, headers: Headers, failures: number): number {
    const jitter = backoffDelay(failures, this.baseDelayMs, this.maxDelayMs, this.random);
    const now = this.now();
    const offset = serverClockOffset(headers.get('date'), now) ?? 0;
    const retryAfter = parseRetryAfter(headers.get('retry-after'), now, offset);
    if (status === 429) {
      if (retryAfter !== undefined) return retryAfter + jitter;
      const limits = parseRateLimitHeaders(headers, now);
      // Without any hint of when to come back, wait at least the base delay.
      if (!limits) return Math.max(jitter, this.baseDelayMs);
      return Math.max(0, limits.resetAtMs + RESET_MARGIN_MS - now) + jitter;
    }
    if (status === 503 && retryAfter !== undefined) {
      return retryAfter + Math.floor(this.random() * Math.min(this.baseDelayMs, 1000));
    }
    return jitter;
  }

  /** When a 429's `Retry-After` (measured against its `Date`) says to come back, on our clock. */
  private retryAt(headers: Headers): number | undefined {
    const now = this.now();
    const after = parseRetryAfter(headers.get('retry-after'), now, serverClockOffset(headers.get('date'), now) ?? 0);
    return after === undefined ? undefined : now + after;
  }

  private async backOff(where: string, what: string, failures: number, delay?: number): Promise<void> {
    const wait = delay ?? backoffDelay(failures, this.baseDelayMs, this.maxDelayMs, this.random);
    this.counters.retries += 1;
    this.logger.warn(
      `Procore ${where} ${what}; retry ${failures} of ${this.maxAttempts - 1} in ${wait} ms`,
    );
    await this.sleep(wait);
  }

  /** One HTTP exchange; the timeout covers the headers and the body. */
  private async exchange(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<{ response?: Response; text: string; failure?: unknown }> {
    let response: Response | undefined;
    try {
      response = await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await response.text();
      return { response, text };
    } catch (failure) {
      // A body cut off mid-way counts as no answer.
      return { text: '', failure: failure ?? new Error('request failed') };
    }
  }

  private parseBody(text: string, spec: CallSpec): unknown {
    if (!text.trim()) return null;
    try {
      return JSON.parse(text);
    } catch {
      const excerpt = spec.sensitive ? '' : `: ${JSON.stringify(text.slice(0, 60))}`;
      throw new ProcoreDataError(spec.method, spec.path, `the body is not JSON (${text.length} characters${excerpt})`);
    }
  }

  private validate<T>(check: Check<T>, result: CallResult): T {
    try {
      return check(result.body, '');
    } catch (error) {
      if (error instanceof ShapeError) {
        const problem = result.spec.sensitive ? `${error.at || 'body'}: expected ${error.expected}` : error.message;
        throw new ProcoreDataError(result.spec.method, result.spec.path, problem);
      }
      throw error;
    }
  }

  // ---- OAuth 2 client credentials ---------------------------------------------------------------

  /** A valid access token; at most one token request is in flight per client. */
  private async accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.refreshAtMs) return this.token.value;
    if (!this.tokenRequest) {
      this.token = undefined;
      this.tokenRequest = this.requestToken()
        .then((token) => {
          this.token = token;
          return token;
        })
        .finally(() => {
          this.tokenRequest = undefined;
        });
    }
    return (await this.tokenRequest).value;
  }

  /** Drops the cached token if it is still the one that was refused. */
  private invalidateToken(refused: string): void {
    if (this.token?.value === refused) this.token = undefined;
  }

  private async requestToken(): Promise<CachedToken> {
    const path = '/oauth/token';
    const url = `${this.loginUrl}${path}`;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    }).toString();
    let failures = 0;
    for (;;) {
      this.count('token');
      const startedAt = this.now();
      const { response, text, failure } = await this.exchange(url, {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      if (failure !== undefined || !response) {
        failures += 1;
        const timedOut = isTimeout(failure);
        if (failures >= this.maxAttempts) throw new ProcoreNetworkError('POST', path, timedOut, failure);
        await this.backOff(`POST ${path}`, timedOut ? 'timed out' : `failed (${causeCode(failure)})`, failures);
        continue;
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        const token = readToken(tryJson(text));
        if (typeof token === 'string') throw new ProcoreDataError('POST', path, token);
        const lifetimeMs = token.expiresIn * 1000;
        const margin = Math.min(this.tokenRefreshMarginMs, lifetimeMs / 10);
        this.debug(`obtained a Procore access token valid for ${token.expiresIn} s`);
        return { value: token.accessToken, refreshAtMs: startedAt + lifetimeMs - margin };
      }
      // OAuth error bodies (`error`, `error_description`) never contain the secret.
      const message = procoreErrorMessage(tryJson(text));
      if (status === 400 || status === 401 || status === 403) {
        throw new ProcoreAuthError(status, 'POST', path, message ?? 'check the Procore client id and secret');
      }
      if (status === 429) this.counters.rateLimited += 1;
      if (!(status === 429 || status === 408 || status >= 500)) {
        throw new ProcoreApiError(status, 'POST', path, message);
      }
      failures += 1;
      const delay = this.retryDelay(status, response.headers, failures);
      if (failures >= this.maxAttempts || delay > this.maxWaitMs) {
        throw new ProcoreApiError(status, 'POST', path, message, delay);
      }
      await this.backOff(`POST ${path}`, `answered ${status}`, failures, delay);
    }
  }

  // ---- Helpers ----------------------------------------------------------------------------------

  private async setLock(projectId: number, locked: boolean): Promise<ProcoreBudgetLockChange> {
    const path = `${this.budgetPath(projectId)}/lock`;
    const method = locked ? 'POST' : 'DELETE';
    // Never the default (true): it would delete every budget modification of the budget.
    const query: Query | undefined = locked ? undefined : { destroy_all_budget_line_item_transfers: 'false' };
    try {
      // Setting a state is safe to repeat after an ambiguous failure.
      const result = await this.call({ method, path, query, idempotent: true });
      if (result.body !== null) {
        const state = this.validate(budgetLockCheck, result);
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

  /**
   * Runs a hooks call on the company's hooks API: v2.0 unless the company answered 404 there, in
   * which case the v1.0 call is made (and v1.0 is kept once it answers). A 404 from v1.0 too is
   * the v2.0 error: the resource itself is missing.
   */
  private async withHooksApi<T>(viaV2: () => Promise<T>, viaV1: () => Promise<T>): Promise<T> {
    if (this.hooksApi === 'v1') return viaV1();
    try {
      const result = await viaV2();
      this.hooksApi = 'v2';
      return result;
    } catch (error) {
      if (this.hooksApi === 'v2' || !(error instanceof ProcoreApiError) || error.status !== 404) throw error;
      let result: T;
      try {
        result = await viaV1();
      } catch (fallback) {
        if (fallback instanceof ProcoreApiError && fallback.status === 404) throw error;
        throw fallback;
      }
      this.hooksApi = 'v1';
      this.logger.warn('Procore answered 404 to the v2.0 webhooks API; using the v1.0 hooks API the developer guide documents');
      return result;
    }
  }

  private urlFor(base: string, path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) value.forEach((item) => params.append(key, String(item)));
      else params.append(key, String(value));
    }
    const search = params.toString();
    return `${base}${path}${search ? `?${search}` : ''}`;
  }

  private count(kind: RequestKind): void {
    this.counters.requests += 1;
    if (kind === 'token') this.counters.byKind.token += 1;
    else if (kind === 'detail_rows') this.counters.byKind.detailRowPages += 1;
    else this.counters.byKind.other += 1;
  }

  private emptyCounters(): Omit<ProcoreClientStats, 'rateLimitWaitMs'> {
    return {
      requests: 0,
      byKind: { token: 0, detailRowPages: 0, other: 0 },
      rateLimited: 0,
      retries: 0,
      reauthentications: 0,
    };
  }

  private debug(message: string): void {
    this.logger.debug?.(message);
  }
}

function baseUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`ProcoreClient: ${name} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`ProcoreClient: ${name} must be an absolute http(s) URL`);
  }
  return value.replace(/\/+$/, '');
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`ProcoreClient: ${name} must be a positive whole number, got ${String(value)}`);
  }
  return value;
}

function hookIdText(hookId: string | number): string {
  const text = String(hookId);
  if (!text.trim()) throw new Error('ProcoreClient: hookId is required');
  return text;
}

function pageOf(url: string): number | undefined {
  try {
    const page = Number(new URL(url, 'http://procore.invalid').searchParams.get('page'));
    return Number.isSafeInteger(page) && page > 0 ? page : undefined;
  } catch {
    return undefined;
  }
}

function describeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined && !Array.isArray(value))
    .map(([key, value]) => `${key}=${String(value)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function tryJson(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** The token response, or the problem with it (never quoting a value). */
function readToken(body: unknown): { accessToken: string; expiresIn: number } | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the token response is not a JSON object';
  const fields = body as Record<string, unknown>;
  if (typeof fields.access_token !== 'string' || !fields.access_token) {
    return 'access_token is missing or empty';
  }
  if (typeof fields.token_type === 'string' && fields.token_type.toLowerCase() !== 'bearer') {
    return 'token_type is not "bearer"';
  }
  const expiresIn = Number(fields.expires_in);
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) return 'expires_in is not a positive number of seconds';
  return { accessToken: fields.access_token, expiresIn };
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function causeCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : 'unknown error';
}

/** The request certainly never reached Procore, so even a POST may be sent again. */
function notSent(error: unknown): boolean {
  return NOT_SENT_CODES.has(causeCode(error));
}
