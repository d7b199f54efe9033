import { randomBytes } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { fromScaled, sumScaled, toJsonNumber, toScaled } from './stand-in-decimal';
import { RateLimitConfig, StandInRateLimits } from './stand-in-rate-limits';
import type {
  BudgetLineInput,
  BudgetViewColumn,
  FaultFilter,
  RequestFilter,
  RequestLogEntry,
  StandInBudgetChange,
  StandInBudgetLine,
  StandInBudgetView,
  StandInCompany,
  StandInCostCode,
  StandInHook,
  StandInLineItemType,
  StandInProject,
  StandInTrigger,
  StandInUser,
  WebhookEvent,
} from './procore-stand-in.types';

export interface ProcoreStandInOptions {
  companyId?: number;
  companyName?: string;
  clientId?: string;
  clientSecret?: string;
  /** Access-token lifetime. Default 5400 (Procore's). */
  tokenTtlSeconds?: number;
  /** `per_page` when the request has none. Default 100. */
  defaultPerPage?: number;
  /** Largest `per_page` honoured; larger asks are cut to it. Default 10000. */
  maxPerPage?: number;
  /** Default: no spike bucket, an hourly one of 1,000,000. */
  rateLimits?: RateLimitConfig;
  /** Added to every request. */
  latencyMs?: number;
}

export const STAND_IN_DEFAULTS = {
  companyId: 8,
  companyName: 'Summit Builders Inc.',
  clientId: 'stand-in-client-id',
  clientSecret: 'stand-in-client-secret',
} as const;

/** The company-wide categories a new stand-in starts with. */
export const DEFAULT_LINE_ITEM_TYPES = [
  { code: 'L', name: 'Labor', base_type: 'labor' },
  { code: 'M', name: 'Material', base_type: 'material' },
  { code: 'S', name: 'Subcontract', base_type: 'commitment' },
  { code: 'E', name: 'Equipment', base_type: 'equipment' },
  { code: 'O', name: 'Other', base_type: 'other' },
] as const;

const ALL_COLUMNS: BudgetViewColumn[] = ['approved_cos', 'revised_budget', 'pending_budget_changes'];
const RATE_LIMIT_MESSAGE =
  'You have surpassed the max number of requests for an hour. Please wait until your limit resets.';

interface Fault {
  remaining: number;
  skip: number;
  filter: FaultFilter;
  action:
    | { type: 'respond'; status: number; body: string; headers: Record<string, string>; rateLimited?: number }
    | { type: 'delay'; ms: number }
    | { type: 'drop' };
}

interface Route {
  method: string;
  pattern: RegExp;
  handle: (ctx: RequestContext, params: string[]) => Reply;
}

interface RequestContext {
  req: IncomingMessage;
  url: URL;
  body: unknown;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Json = Record<string, unknown>;

/**
 * A local, stateful stand-in for Procore's login host and REST API on one base URL
 * (`http://127.0.0.1:<port>`): OAuth client credentials, `Procore-Company-Id`, paging headers,
 * rate limits, budget lock, webhooks, plus fault injection and a request log for tests.
 */
export class ProcoreStandIn {
  readonly company: StandInCompany;
  /** Every request answered (or dropped) since start or {@link clearLog}. */
  readonly requests: RequestLogEntry[] = [];
  latencyMs: number;

  private readonly options: ProcoreStandInOptions;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly tokenTtlSeconds: number;
  private readonly defaultPerPage: number;
  private readonly maxPerPage: number;
  private readonly rateLimits: StandInRateLimits;
  private readonly routes: Route[];
  private server?: Server;
  private port?: number;
  private listening = false;
  /** Requests held by latency or delayNext, released early by down(). */
  private readonly held = new Map<NodeJS.Timeout, () => void>();

  private tokens = new Map<string, number>();
  private projects = new Map<number, StandInProject>();
  private locks = new Map<number, boolean>();
  private views = new Map<number, StandInBudgetView>();
  private lines = new Map<number, StandInBudgetLine>();
  private costCodes = new Map<number, StandInCostCode>();
  private lineItemTypes = new Map<number, StandInLineItemType>();
  private budgetChanges = new Map<number, StandInBudgetChange>();
  private users = new Map<number, StandInUser>();
  private hookList = new Map<string, StandInHook>();
  private triggerList = new Map<string, StandInTrigger>();
  private faults: Fault[] = [];
  private nextIds: Record<string, number> = {};
  private rateLimitedCount = 0;
  private tokenCount = 0;
  private webhookEventId = 0;

  constructor(options: ProcoreStandInOptions = {}) {
    this.options = options;
    this.company = {
      id: options.companyId ?? STAND_IN_DEFAULTS.companyId,
      name: options.companyName ?? STAND_IN_DEFAULTS.companyName,
    };
    this.clientId = options.clientId ?? STAND_IN_DEFAULTS.clientId;
    this.clientSecret = options.clientSecret ?? STAND_IN_DEFAULTS.clientSecret;
    this.tokenTtlSeconds = options.tokenTtlSeconds ?? 5400;
    this.defaultPerPage = options.defaultPerPage ?? 100;
    this.maxPerPage = options.maxPerPage ?? 10000;
    this.latencyMs = options.latencyMs ?? 0;
    this.rateLimits = new StandInRateLimits(options.rateLimits);
    this.routes = this.buildRoutes();
    this.reset();
  }

  // ---- Lifecycle --------------------------------------------------------------------------------

  /** Starts listening on 127.0.0.1 (`port` 0 = any free port); returns the base URL. */
  async start(port = 0): Promise<string> {
    if (this.listening) return this.url;
    this.server = createServer((req, res) => void this.onRequest(req, res));
    await this.listen(port);
    return this.url;
  }

  /** Stops listening and drops every connection and pending answer. */
  async stop(): Promise<void> {
    await this.down();
    this.server = undefined;
  }

  /** Refuses connections (closes the listener and every open connection) until {@link up}. */
  async down(): Promise<void> {
    for (const [timer, release] of this.held) {
      clearTimeout(timer);
      release();
    }
    this.held.clear();
    const server = this.server;
    if (!server || !this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Listens again on the same port after {@link down}. */
  async up(): Promise<void> {
    if (this.listening) return;
    if (!this.server || this.port === undefined) throw new Error('stand-in: up() before start()');
    await this.listen(this.port);
  }

  /** Base URL of both the login host and the API, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    if (this.port === undefined) throw new Error('stand-in: not started');
    return `http://127.0.0.1:${this.port}`;
  }

  get companyId(): number {
    return this.company.id;
  }

  /** What a `ProcoreClient` needs to talk to this stand-in. */
  clientOptions(): { apiUrl: string; loginUrl: string; clientId: string; clientSecret: string; companyId: number } {
    return {
      apiUrl: this.url,
      loginUrl: this.url,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      companyId: this.company.id,
    };
  }

  /** The connector's `PROCORE_*` variables pointing at this stand-in. */
  environment(): Record<string, string> {
    return {
      PROCORE_API_URL: this.url,
      PROCORE_LOGIN_URL: this.url,
      PROCORE_CLIENT_ID: this.clientId,
      PROCORE_CLIENT_SECRET: this.clientSecret,
      PROCORE_COMPANY_ID: String(this.company.id),
    };
  }

  /** Back to the state right after construction: no data, tokens, hooks or faults, an empty log,
   * the constructor's rate limits and latency. Keeps listening on the same URL. */
  reset(): void {
    this.rateLimits.configure(this.options.rateLimits ?? {});
    this.latencyMs = this.options.latencyMs ?? 0;
    this.tokens.clear();
    this.projects.clear();
    this.locks.clear();
    this.views.clear();
    this.lines.clear();
    this.costCodes.clear();
    this.lineItemTypes.clear();
    this.budgetChanges.clear();
    this.users.clear();
    this.hookList.clear();
    this.triggerList.clear();
    this.faults = [];
    this.nextIds = {};
    this.webhookEventId = 0;
    this.clearLog();
    for (const type of DEFAULT_LINE_ITEM_TYPES) this.addLineItemType({ ...type });
  }

  // ---- Seeding ----------------------------------------------------------------------------------

  /** Adds a project with a default budget view ("Procore Standard Budget") unless told not to. */
  addProject(
    input: Partial<StandInProject> & { name: string; budgetViewId?: number; withDefaultView?: boolean },
  ): StandInProject {
    const project: StandInProject = {
      id: this.idFor('project', input.id, 1001),
      name: input.name,
      project_number: input.project_number ?? null,
      active: input.active ?? true,
      origin_id: input.origin_id ?? null,
    };
    this.projects.set(project.id, project);
    this.locks.set(project.id, false);
    if (input.withDefaultView !== false) {
      this.addBudgetView(project.id, { id: input.budgetViewId, name: 'Procore Standard Budget' });
    }
    return { ...project };
  }

  updateProject(projectId: number, patch: Partial<Omit<StandInProject, 'id'>>): StandInProject {
    const project = this.requireProject(projectId);
    Object.assign(project, patch);
    return { ...project };
  }

  addBudgetView(
    projectId: number,
    input: { id?: number; name: string; description?: string; columns?: BudgetViewColumn[] },
  ): StandInBudgetView {
    this.requireProject(projectId);
    const view: StandInBudgetView = {
      id: this.idFor('view', input.id, 2001),
      project_id: projectId,
      name: input.name,
      description: input.description ?? null,
      columns: input.columns ?? [...ALL_COLUMNS],
    };
    this.views.set(view.id, view);
    return { ...view };
  }

  budgetViews(projectId: number): StandInBudgetView[] {
    return [...this.views.values()].filter((view) => view.project_id === projectId);
  }

  addCostCode(
    projectId: number,
    input: { id?: number; fullCode: string; name: string; originId?: string | null },
  ): StandInCostCode {
    this.requireProject(projectId);
    const costCode: StandInCostCode = {
      id: this.idFor('costCode', input.id, 30001),
      project_id: projectId,
      code: input.fullCode.split('-').pop() ?? input.fullCode,
      full_code: input.fullCode,
      name: input.name,
      origin_id: input.originId ?? null,
    };
    this.costCodes.set(costCode.id, costCode);
    return { ...costCode };
  }

  costCodesOf(projectId: number): StandInCostCode[] {
    return [...this.costCodes.values()].filter((code) => code.project_id === projectId);
  }

  addLineItemType(input: {
    id?: number;
    code: string;
    name: string;
    base_type?: string;
    origin_id?: string | null;
  }): StandInLineItemType {
    const type: StandInLineItemType = {
      id: this.idFor('lineItemType', input.id, 40001),
      code: input.code,
      name: input.name,
      base_type: input.base_type ?? 'other',
      origin_id: input.origin_id ?? null,
    };
    this.lineItemTypes.set(type.id, type);
    return { ...type };
  }

  updateLineItemType(typeId: number, patch: Partial<Omit<StandInLineItemType, 'id'>>): StandInLineItemType {
    const type = this.lineItemTypes.get(typeId);
    if (!type) throw new Error(`stand-in: no line item type ${typeId}`);
    Object.assign(type, patch);
    return { ...type };
  }

  lineItemTypesList(): StandInLineItemType[] {
    return [...this.lineItemTypes.values()];
  }

  /** Replaces every budget line of the project. */
  setBudgetLines(projectId: number, inputs: BudgetLineInput[]): StandInBudgetLine[] {
    this.requireProject(projectId);
    for (const line of [...this.lines.values()]) {
      if (line.project_id === projectId) this.lines.delete(line.id);
    }
    return this.addBudgetLines(projectId, inputs);
  }

  addBudgetLines(projectId: number, inputs: BudgetLineInput[]): StandInBudgetLine[] {
    this.requireProject(projectId);
    const codes = new Map(this.costCodesOf(projectId).map((code) => [code.full_code, code]));
    return inputs.map((input) => {
      let costCode = codes.get(input.costCode);
      if (!costCode) {
        const name = input.costCodeName ?? input.costCode;
        costCode = this.addCostCode(projectId, { fullCode: input.costCode, name });
        codes.set(costCode.full_code, costCode);
      }
      const type = this.resolveLineItemType(input.category);
      const line = this.buildLine(projectId, costCode, type, input);
      this.lines.set(line.id, line);
      return { ...line };
    });
  }

  /** Changes one line (amounts are recomputed). */
  updateBudgetLine(lineId: number, patch: Partial<BudgetLineInput>): StandInBudgetLine {
    const line = this.lines.get(lineId);
    if (!line) throw new Error(`stand-in: no budget line ${lineId}`);
    const costCode = this.costCodes.get(line.cost_code_id) as StandInCostCode;
    const type = this.lineItemTypes.get(line.category_id) as StandInLineItemType;
    const current: BudgetLineInput = {
      id: line.id,
      costCode: costCode.full_code,
      category: type.code,
      description: line.description,
      originalBudget: line.original_budget_amount,
      budgetModifications: line.budget_modifications,
      approvedCos: line.approved_cos,
      pendingBudgetChanges: line.pending_budget_changes,
      uom: line.uom,
      quantity: line.quantity,
      unitCost: line.unit_cost,
      createdAt: line.created_at,
      createdBy: line.created_by,
    };
    const merged = { ...current, ...patch, id: line.id };
    const nextCode =
      patch.costCode && patch.costCode !== costCode.full_code
        ? (this.costCodesOf(line.project_id).find((code) => code.full_code === patch.costCode) ??
          this.addCostCode(line.project_id, { fullCode: patch.costCode, name: patch.costCodeName ?? patch.costCode }))
        : costCode;
    const nextType = patch.category ? this.resolveLineItemType(patch.category) : type;
    const updated = this.buildLine(line.project_id, nextCode, nextType, merged);
    this.lines.set(line.id, updated);
    return { ...updated };
  }

  removeBudgetLine(lineId: number): void {
    this.lines.delete(lineId);
  }

  budgetLines(projectId: number): StandInBudgetLine[] {
    return this.linesOf(projectId).map((line) => ({ ...line }));
  }

  addBudgetChange(
    projectId: number,
    input: {
      id?: number;
      number?: string;
      title?: string;
      status?: StandInBudgetChange['status'];
      erpStatus?: string | null;
      amount?: string | number;
    },
  ): StandInBudgetChange {
    this.requireProject(projectId);
    const id = this.idFor('budgetChange', input.id, 9001);
    const change: StandInBudgetChange = {
      id,
      project_id: projectId,
      number: input.number ?? String(id),
      title: input.title ?? `Budget change ${id}`,
      status: input.status ?? 'draft',
      erp_status: input.erpStatus === undefined ? 'not_in_erp' : input.erpStatus,
      amount: fromScaled(toScaled(input.amount ?? 0)),
      created_at: new Date().toISOString(),
    };
    this.budgetChanges.set(id, change);
    return { ...change };
  }

  addUser(input: {
    id?: number;
    name: string;
    email: string;
    isActive?: boolean;
    erpIntegratedAccountant?: boolean;
    jobTitle?: string;
  }): StandInUser {
    const [first, ...rest] = input.name.split(' ');
    const user: StandInUser = {
      id: this.idFor('user', input.id, 7001),
      name: input.name,
      first_name: first || null,
      last_name: rest.join(' ') || null,
      email_address: input.email,
      is_active: input.isActive ?? true,
      erp_integrated_accountant: input.erpIntegratedAccountant ?? false,
      job_title: input.jobTitle ?? null,
    };
    this.users.set(user.id, user);
    return { ...user };
  }

  updateUser(userId: number, patch: Partial<Omit<StandInUser, 'id'>>): StandInUser {
    const user = this.users.get(userId);
    if (!user) throw new Error(`stand-in: no user ${userId}`);
    Object.assign(user, patch);
    return { ...user };
  }

  usersList(): StandInUser[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }

  setLocked(projectId: number, locked: boolean): void {
    this.requireProject(projectId);
    this.locks.set(projectId, locked);
  }

  isLocked(projectId: number): boolean {
    this.requireProject(projectId);
    return this.locks.get(projectId) ?? false;
  }

  // ---- Auth -------------------------------------------------------------------------------------

  /** Every issued token stops working now (the next API call gets 401). */
  expireAllTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  /** Every access token issued so far (to prove none leaks into logs). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  /** Requests to `/oauth/token` since start or {@link clearLog}. */
  get tokenRequests(): number {
    return this.tokenCount;
  }

  // ---- Faults, latency, rate limits -------------------------------------------------------------

  /**
   * The next `count` matching requests get `status` (default 500) instead of an answer.
   * 502/504 carry an HTML body like a gateway's; 429 carries rate-limit headers (remaining 0,
   * reset in `resetInSeconds`, default 1); `retryAfterSeconds` or `retryAfter` (raw header text,
   * e.g. an HTTP date) sets `Retry-After`.
   */
  failNext(
    count: number,
    status = 500,
    options: FaultFilter & {
      retryAfterSeconds?: number;
      retryAfter?: string;
      resetInSeconds?: number;
      body?: unknown;
    } = {},
  ): void {
    const headers: Record<string, string> = {};
    if (options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(options.retryAfterSeconds);
    if (options.retryAfter !== undefined) headers['Retry-After'] = options.retryAfter;
    let body: string;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['Content-Type'] = typeof options.body === 'string' ? 'text/plain' : 'application/json';
    } else if (status === 502 || status === 504) {
      const text = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
      body = `<html><head><title>${text}</title></head><body><center><h1>${text}</h1></center></body></html>`;
      headers['Content-Type'] = 'text/html';
    } else if (status === 429) {
      body = JSON.stringify({ errors: RATE_LIMIT_MESSAGE });
      headers['Content-Type'] = 'application/json';
    } else {
      body = JSON.stringify({ errors: status >= 500 ? 'Something went wrong' : 'Request failed' });
      headers['Content-Type'] = 'application/json';
    }
    this.addFault(count, options, {
      type: 'respond',
      status,
      body,
      headers,
      rateLimited: status === 429 ? (options.resetInSeconds ?? 1) : undefined,
    });
  }

  /** The next `count` matching requests get exactly this answer (for malformed bodies). */
  respondNext(
    count: number,
    response: { status?: number; body: string | object; headers?: Record<string, string> },
    filter: FaultFilter = {},
  ): void {
    const raw = typeof response.body === 'string';
    this.addFault(count, filter, {
      type: 'respond',
      status: response.status ?? 200,
      body: raw ? (response.body as string) : JSON.stringify(response.body),
      headers: { 'Content-Type': raw ? 'text/plain' : 'application/json', ...response.headers },
    });
  }

  /** The next `count` matching requests are held `ms` longer before being handled. */
  delayNext(count: number, ms: number, filter: FaultFilter = {}): void {
    this.addFault(count, filter, { type: 'delay', ms });
  }

  /** The next `count` matching requests get their connection destroyed without an answer. */
  dropNext(count: number, filter: FaultFilter = {}): void {
    this.addFault(count, filter, { type: 'drop' });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Replaces the rate-limit buckets (their counts restart). */
  setRateLimits(config: RateLimitConfig): void {
    this.rateLimits.configure(config);
  }

  /** Spends rate-limit budget as another application with the same credentials would; without
   * `count`, all that is left in the tightest bucket. */
  consumeRateLimit(count?: number): void {
    this.rateLimits.consume(Date.now(), count);
  }

  /** 429 answers sent since start or {@link clearLog}. */
  get rateLimitedResponses(): number {
    return this.rateLimitedCount;
  }

  // ---- Request log ------------------------------------------------------------------------------

  clearLog(): void {
    this.requests.length = 0;
    this.rateLimitedCount = 0;
    this.tokenCount = 0;
  }

  countRequests(filter: RequestFilter = {}): number {
    return this.requests.filter((entry) => matches(entry, filter)).length;
  }

  /** Detail-row page requests answered 200 (of one view, if given). */
  detailRowPageRequests(viewId?: number): number {
    const path = viewId === undefined ? /\/budget_views\/\d+\/detail_rows$/ : `/budget_views/${viewId}/detail_rows`;
    return this.countRequests({ method: 'GET', path, status: 200 });
  }

  // ---- Webhooks ---------------------------------------------------------------------------------

  hooks(): StandInHook[] {
    return [...this.hookList.values()].map((hook) => ({ ...hook }));
  }

  triggers(hookId?: string): StandInTrigger[] {
    return [...this.triggerList.values()]
      .filter((trigger) => hookId === undefined || trigger.hook_id === hookId)
      .map((trigger) => ({ ...trigger }));
  }

  /** Registers a hook directly (as if created through the API). */
  addHook(input: {
    namespace: string;
    destinationUrl: string;
    destinationHeaders?: Record<string, string>;
    payloadVersion?: string;
  }): StandInHook {
    const hook: StandInHook = {
      id: String(this.idFor('hook', undefined, 1)),
      company_id: this.company.id,
      namespace: input.namespace,
      destination_url: input.destinationUrl,
      destination_headers: { ...input.destinationHeaders },
      payload_version: input.payloadVersion ?? 'v2',
      created_at: new Date().toISOString(),
    };
    this.hookList.set(hook.id, hook);
    return { ...hook };
  }

  /**
   * Delivers a v2 payload to every registered hook (with `matchTriggers`, only to hooks with a
   * trigger for its resource and event), sending each hook's `destination_headers` verbatim.
   * Returns each delivery's HTTP status in hook order; 0 when the destination did not answer.
   */
  async deliverWebhook(
    event: Partial<WebhookEvent> = {},
    options: { matchTriggers?: boolean } = {},
  ): Promise<number[]> {
    const payload = this.webhookPayload(event);
    const hooks = [...this.hookList.values()].filter(
      (hook) =>
        !options.matchTriggers ||
        this.triggers(hook.id).some(
          (trigger) => trigger.resource_name === payload.resource_name && trigger.event_type === payload.event_type,
        ),
    );
    return Promise.all(hooks.map((hook) => this.deliverTo(hook.destination_url, payload, hook.destination_headers)));
  }

  /** Builds the payload {@link deliverWebhook} would send (fresh id and ulid each time). */
  webhookPayload(event: Partial<WebhookEvent> = {}): WebhookEvent {
    this.webhookEventId += 1;
    return {
      id: event.id ?? this.webhookEventId,
      ulid: event.ulid ?? ulid(),
      timestamp: event.timestamp ?? new Date().toISOString(),
      user_id: event.user_id === undefined ? null : event.user_id,
      company_id: event.company_id ?? this.company.id,
      project_id: event.project_id === undefined ? null : event.project_id,
      api_version: 'v2',
      event_type: event.event_type ?? 'update',
      resource_name: event.resource_name ?? 'Budget View Snapshots',
      resource_id: event.resource_id ?? 1,
      metadata: event.metadata ?? {},
    };
  }

  /** POSTs `body` (JSON) to `url` with `headers`; returns the status, 0 when nothing answered. */
  async deliverTo(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Procore-Webhooks', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  private listen(port: number): Promise<void> {
    const server = this.server as Server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        this.port = (server.address() as AddressInfo).port;
        this.listening = true;
        resolve();
      });
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: queryObject(url.searchParams),
      status: 0,
      at,
      durationMs: 0,
      aborted: false,
    };
    // Logged on arrival (status 0 until answered), so held and aborted requests show too.
    this.requests.push(entry);
    res.on('close', () => {
      if (!res.writableFinished) entry.aborted = true;
    });
    let rawBody = '';
    try {
      rawBody = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    if (url.pathname === '/oauth/token') this.tokenCount += 1;

    const fault = this.takeFault(entry.method, url.pathname);
    const delay = this.latencyMs + (fault?.action.type === 'delay' ? fault.action.ms : 0);
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.held.delete(timer);
          resolve();
        }, delay);
        this.held.set(timer, resolve);
      });
      if (!this.listening) return;
    }

    let reply: Reply & { raw?: string };
    if (fault?.action.type === 'drop') {
      entry.aborted = true;
      req.socket.destroy();
      return;
    } else if (fault?.action.type === 'respond') {
      reply = this.injected(fault.action, url);
    } else {
      reply = this.handle(req, url, rawBody);
    }
    if (reply.status === 429) this.rateLimitedCount += 1;
    entry.status = reply.status;
    entry.durationMs = Date.now() - at;
    if (res.destroyed) return;
    const body = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.raw === undefined && reply.body !== undefined) {
      headers['Content-Type'] ??= 'application/json; charset=utf-8';
    }
    headers['Content-Length'] = String(Buffer.byteLength(body));
    res.writeHead(reply.status, headers);
    res.end(body);
  }

  /**
   * An injected answer to an API request. It is still a request: it counts against the rate-limit
   * buckets like any other and carries their headers — and the limit, like Procore's, answers
   * first: a request over it gets 429, not the injected answer. An injected 429 reports its own
   * reset. Injected answers on the login host (/oauth/token) count against nothing.
   */
  private injected(action: Extract<Fault['action'], { type: 'respond' }>, url: URL): Reply & { raw?: string } {
    const headers = { ...action.headers };
    if (url.pathname.startsWith('/rest/')) {
      const verdict = this.rateLimits.hit(Date.now());
      if (!verdict.allowed) return { status: 429, headers: rateLimitHeaders(verdict), body: { errors: RATE_LIMIT_MESSAGE } };
      Object.assign(headers, rateLimitHeaders(verdict));
    }
    if (action.rateLimited !== undefined) Object.assign(headers, rateLimitHeaders(this.rateLimits.exhaustedFor(Date.now(), action.rateLimited)));
    return { status: action.status, headers, raw: action.body };
  }

  private handle(req: IncomingMessage, url: URL, rawBody: string): Reply {
    if (url.pathname === '/oauth/token') return this.token(req, rawBody);
    if (!url.pathname.startsWith('/rest/')) return { status: 404, body: { errors: 'Not Found' } };

    // Every API request counts against the rate limit, refused ones (401) included. Then
    // authentication, then the limit's verdict, then the company.
    const verdict = this.rateLimits.hit(Date.now());
    const limitHeaders = rateLimitHeaders(verdict);
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const expiresAt = auth ? this.tokens.get(auth[1]) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      return {
        status: 401,
        headers: { ...limitHeaders, 'WWW-Authenticate': 'Bearer realm="Procore API", error="invalid_token"' },
        body: { errors: auth ? 'The access token expired or is invalid' : 'Authentication required' },
      };
    }
    if (!verdict.allowed) return { status: 429, headers: limitHeaders, body: { errors: RATE_LIMIT_MESSAGE } };

    const companyHeader = req.headers['procore-company-id'];
    let reply: Reply;
    if (companyHeader === undefined || companyHeader === '') {
      reply = { status: 400, body: { errors: 'The Procore-Company-Id header is required' } };
    } else if (String(companyHeader) !== String(this.company.id)) {
      reply = forbidden();
    } else {
      reply = this.route(req, url, rawBody);
    }
    return { ...reply, headers: { ...limitHeaders, ...reply.headers } };
  }

  private route(req: IncomingMessage, url: URL, rawBody: string): Reply {
    let body: unknown;
    if (rawBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return { status: 400, body: { errors: 'The request body is not valid JSON' } };
      }
    }
    let methodMismatch = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      if (route.method !== req.method) {
        methodMismatch = true;
        continue;
      }
      return route.handle({ req, url, body }, match.slice(1));
    }
    return methodMismatch
      ? { status: 405, body: { errors: 'Method Not Allowed' } }
      : { status: 404, body: { errors: 'Not Found' } };
  }

  private token(req: IncomingMessage, rawBody: string): Reply {
    if (req.method !== 'POST') return { status: 404, body: { error: 'not_found' } };
    const contentType = req.headers['content-type'] ?? '';
    let form: Record<string, string> = {};
    if (contentType.includes('application/json')) {
      try {
        form = JSON.parse(rawBody) as Record<string, string>;
      } catch {
        form = {};
      }
    } else {
      form = Object.fromEntries(new URLSearchParams(rawBody));
    }
    if (form.grant_type !== 'client_credentials') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported.' },
      };
    }
    if (form.client_id !== this.clientId || form.client_secret !== this.clientSecret) {
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description:
            'Client authentication failed due to unknown client, no client authentication included, ' +
            'or unsupported authentication method.',
        },
      };
    }
    const token = randomBytes(24).toString('hex');
    const now = Date.now();
    this.tokens.set(token, now + this.tokenTtlSeconds * 1000);
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      body: {
        access_token: token,
        token_type: 'bearer',
        expires_in: this.tokenTtlSeconds,
        created_at: Math.floor(now / 1000),
      },
    };
  }

  // ---- API routes -------------------------------------------------------------------------------

  private buildRoutes(): Route[] {
    const int = '(\\d+)';
    const r = (method: string, path: string, handle: Route['handle']): Route => ({
      method,
      pattern: new RegExp(`^${path}$`),
      handle,
    });
    return [
      r('GET', '/rest/v1\\.0/projects', (ctx) => this.listProjects(ctx)),
      r('GET', `/rest/v1\\.0/projects/${int}`, (ctx, [id]) => this.showProject(ctx, Number(id))),
      r('GET', `/rest/v1\\.0/projects/${int}/budget`, (_ctx, [id]) => this.lockState(Number(id))),
      r('POST', `/rest/v1\\.0/projects/${int}/budget/lock`, (_ctx, [id]) => this.lock(Number(id), true)),
      r('DELETE', `/rest/v1\\.0/projects/${int}/budget/lock`, (_ctx, [id]) => this.lock(Number(id), false)),
      r('GET', `/rest/v1\\.0/projects/${int}/budget_changes`, (ctx, [id]) => this.listBudgetChanges(ctx, Number(id))),
      r('GET', '/rest/v1\\.0/budget_views', (ctx) => this.listBudgetViews(ctx)),
      r('GET', `/rest/v1\\.0/budget_views/${int}/detail_rows`, (ctx, [id]) => this.detailRows(ctx, Number(id))),
      r('GET', `/rest/v1\\.0/budget_line_items/${int}`, (ctx, [id]) => this.showLineItem(ctx, Number(id))),
      r('GET', '/rest/v1\\.0/cost_codes', (ctx) => this.listCostCodes(ctx)),
      r('GET', '/rest/v1\\.0/line_item_types', (ctx) => this.listLineItemTypes(ctx)),
      r('GET', `/rest/v1\\.3/companies/${int}/users`, (ctx, [id]) => this.listUsers(ctx, Number(id))),
      r('GET', `/rest/v2\\.0/companies/${int}/webhooks/hooks`, (ctx, [id]) => this.listHooks(ctx, Number(id))),
      r('POST', `/rest/v2\\.0/companies/${int}/webhooks/hooks`, (ctx, [id]) => this.createHook(ctx, Number(id))),
      r('GET', `/rest/v2\\.0/companies/${int}/webhooks/hooks/([^/]+)/triggers`, (ctx, [id, hook]) =>
        this.listTriggers(ctx, Number(id), decodeURIComponent(hook)),
      ),
      r('POST', `/rest/v2\\.0/companies/${int}/webhooks/hooks/([^/]+)/triggers`, (ctx, [id, hook]) =>
        this.createTrigger(ctx, Number(id), decodeURIComponent(hook)),
      ),
    ];
  }

  private listProjects(ctx: RequestContext): Reply {
    const company = this.checkCompanyParam(ctx.url, true);
    if (company) return company;
    const projects = [...this.projects.values()].sort(byId).map((project) => this.projectJson(project));
    return this.paged(ctx.url, projects);
  }

  private showProject(ctx: RequestContext, id: number): Reply {
    const company = this.checkCompanyParam(ctx.url, true);
    if (company) return company;
    const project = this.projects.get(id);
    return project ? { status: 200, body: this.projectJson(project) } : notFound('Project');
  }

  private lockState(projectId: number): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    return { status: 200, body: { locked: this.locks.get(projectId) ?? false } };
  }

  private lock(projectId: number, locked: boolean): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    if ((this.locks.get(projectId) ?? false) === locked) {
      return { status: 422, body: { errors: locked ? 'Budget is already locked' : 'Budget is not locked' } };
    }
    this.locks.set(projectId, locked);
    return { status: locked ? 201 : 200, body: { locked } };
  }

  private listBudgetViews(ctx: RequestContext): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    const views = this.budgetViews(project)
      .sort(byId)
      .map((view) => ({
        id: view.id,
        name: view.name,
        description: view.description,
        project_id: view.project_id,
      }));
    return this.paged(ctx.url, views);
  }

  private detailRows(ctx: RequestContext, viewId: number): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    const view = this.views.get(viewId);
    if (!view || view.project_id !== project) return notFound('Budget View');
    const costCodeIds = ctx.url.searchParams.getAll('cost_code_id[]').map(Number);
    const categoryIds = ctx.url.searchParams.getAll('category_id[]').map(Number);
    const rows = this.linesOf(project)
      .filter((line) => !costCodeIds.length || costCodeIds.includes(line.cost_code_id))
      .filter((line) => !categoryIds.length || categoryIds.includes(line.category_id));
    // Page first, then build JSON: a 20,000-line budget stays cheap per page.
    return this.paged(ctx.url, rows, (line) => this.detailRowJson(line, view));
  }

  private showLineItem(ctx: RequestContext, id: number): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    const line = this.lines.get(id);
    if (!line || line.project_id !== project) return notFound('Budget Line Item');
    const costCode = this.costCodes.get(line.cost_code_id) as StandInCostCode;
    const type = this.lineItemTypes.get(line.category_id) as StandInLineItemType;
    return {
      status: 200,
      body: {
        id: line.id,
        description: line.description,
        // Amounts as decimal text here (detail rows send numbers).
        original_budget_amount: line.original_budget_amount,
        approved_budget_changes: fromScaled(toScaled(line.revised_budget) - toScaled(line.original_budget_amount)),
        revised_budget: line.revised_budget,
        cost_code: costCodeJson(costCode),
        line_item_type: lineItemTypeJson(type),
        uom: line.uom,
        quantity: line.quantity,
        unit_cost: line.unit_cost,
        project_id: line.project_id,
        created_at: line.created_at,
        updated_at: line.created_at,
        created_by: line.created_by,
      },
    };
  }

  private listCostCodes(ctx: RequestContext): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    return this.paged(ctx.url, this.costCodesOf(project).sort(byId).map(costCodeJson));
  }

  private listLineItemTypes(ctx: RequestContext): Reply {
    const company = this.checkCompanyParam(ctx.url, true);
    if (company) return company;
    return this.paged(ctx.url, [...this.lineItemTypes.values()].sort(byId).map(lineItemTypeJson));
  }

  private listBudgetChanges(ctx: RequestContext, projectId: number): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    const changes = [...this.budgetChanges.values()].filter((change) => change.project_id === projectId).sort(byId);
    return this.paged(ctx.url, changes);
  }

  private listUsers(ctx: RequestContext, companyId: number): Reply {
    if (companyId !== this.company.id) return forbidden();
    const users = [...this.users.values()].sort(byId).map((user) => ({
      ...user,
      login: user.email_address,
      company: { id: this.company.id, name: this.company.name },
    }));
    return this.paged(ctx.url, users);
  }

  private listHooks(ctx: RequestContext, companyId: number): Reply {
    if (companyId !== this.company.id) return forbidden();
    const namespace = ctx.url.searchParams.get('namespace');
    const hooks = this.hooks().filter((hook) => !namespace || hook.namespace === namespace);
    return this.paged(ctx.url, hooks, undefined, true);
  }

  private createHook(ctx: RequestContext, companyId: number): Reply {
    if (companyId !== this.company.id) return forbidden();
    const input = unwrap(ctx.body, 'hook');
    const problems: Record<string, string[]> = {};
    if (typeof input.namespace !== 'string' || !input.namespace.trim()) problems.namespace = ["can't be blank"];
    if (typeof input.destination_url !== 'string' || !/^https?:\/\/\S+$/.test(input.destination_url)) {
      problems.destination_url = ['must be an http(s) URL'];
    }
    if (input.payload_version !== undefined && input.payload_version !== 'v2' && input.payload_version !== 'v1') {
      problems.payload_version = ['must be v1 or v2'];
    }
    const headers = input.destination_headers ?? {};
    const textValues =
      typeof headers === 'object' &&
      headers !== null &&
      !Array.isArray(headers) &&
      Object.values(headers as Json).every((value) => typeof value === 'string');
    if (!textValues) {
      problems.destination_headers = ['must be an object of header names to text'];
    }
    if (Object.keys(problems).length) return { status: 422, body: { errors: problems } };
    const hook = this.addHook({
      namespace: input.namespace as string,
      destinationUrl: input.destination_url as string,
      destinationHeaders: headers as Record<string, string>,
      payloadVersion: input.payload_version as string | undefined,
    });
    return { status: 201, body: { data: hook } };
  }

  private listTriggers(ctx: RequestContext, companyId: number, hookId: string): Reply {
    if (companyId !== this.company.id) return forbidden();
    if (!this.hookList.has(hookId)) return notFound('Hook');
    return this.paged(ctx.url, this.triggers(hookId), undefined, true);
  }

  private createTrigger(ctx: RequestContext, companyId: number, hookId: string): Reply {
    if (companyId !== this.company.id) return forbidden();
    if (!this.hookList.has(hookId)) return notFound('Hook');
    const input = unwrap(ctx.body, 'trigger');
    const problems: Record<string, string[]> = {};
    if (typeof input.resource_name !== 'string' || !input.resource_name.trim()) {
      problems.resource_name = ["can't be blank"];
    }
    if (!['create', 'update', 'delete'].includes(input.event_type as string)) {
      problems.event_type = ['must be one of create, update, delete'];
    }
    const duplicate = this.triggers(hookId).some(
      (trigger) => trigger.resource_name === input.resource_name && trigger.event_type === input.event_type,
    );
    if (duplicate) problems.resource_name = ['has already been taken for this event type'];
    if (Object.keys(problems).length) return { status: 422, body: { errors: problems } };
    const trigger: StandInTrigger = {
      id: String(this.idFor('trigger', undefined, 1)),
      hook_id: hookId,
      resource_name: input.resource_name as string,
      event_type: input.event_type as string,
      created_at: new Date().toISOString(),
    };
    this.triggerList.set(trigger.id, trigger);
    return { status: 201, body: { data: trigger } };
  }

  // ---- Helpers ----------------------------------------------------------------------------------

  /**
   * Procore paging: `page` (1-based), `per_page` (default and maximum as configured); headers
   * `Total`, `Per-Page` and an RFC 8288 `Link` with absolute first/prev/next/last URLs when there
   * is more than one page. v2.0 lists wrap the items in `{"data": [...]}`.
   */
  private paged<T>(url: URL, items: T[], toJson?: (item: T) => unknown, wrapped = false): Reply {
    const requested = Number(url.searchParams.get('per_page'));
    const perPage =
      Number.isInteger(requested) && requested > 0 ? Math.min(requested, this.maxPerPage) : this.defaultPerPage;
    const requestedPage = Number(url.searchParams.get('page'));
    const page = Number.isInteger(requestedPage) && requestedPage > 0 ? requestedPage : 1;
    const total = items.length;
    const lastPage = Math.max(1, Math.ceil(total / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const json = toJson ? slice.map(toJson) : slice;
    const headers: Record<string, string> = { Total: String(total), 'Per-Page': String(perPage) };
    if (lastPage > 1) {
      const link = (target: number, rel: string) => {
        const params = new URLSearchParams(url.searchParams);
        params.set('page', String(target));
        params.set('per_page', String(perPage));
        return `<${this.url}${url.pathname}?${params.toString()}>; rel="${rel}"`;
      };
      const links = [link(1, 'first')];
      if (page > 1) links.push(link(Math.min(page - 1, lastPage), 'prev'));
      if (page < lastPage) links.push(link(page + 1, 'next'));
      links.push(link(lastPage, 'last'));
      headers.Link = links.join(', ');
    }
    return { status: 200, headers, body: wrapped ? { data: json } : json };
  }

  private detailRowJson(line: StandInBudgetLine, view: StandInBudgetView): Json {
    const row: Json = {
      id: line.id,
      project_id: line.project_id,
      company_id: this.company.id,
      cost_code_id: line.cost_code_id,
      cost_code: line.cost_code,
      cost_code_origin_id: line.cost_code_origin_id,
      category_id: line.category_id,
      category: line.category,
      // Amounts as JSON numbers, as Procore's detail rows send them.
      original_budget_amount: toJsonNumber(toScaled(line.original_budget_amount)),
      budget_modifications: toJsonNumber(toScaled(line.budget_modifications)),
      deletable: true,
    };
    for (const column of view.columns) row[column] = toJsonNumber(toScaled(line[column]));
    return row;
  }

  private projectJson(project: StandInProject): Json {
    return {
      id: project.id,
      name: project.name,
      display_name: project.project_number ? `${project.project_number} - ${project.name}` : project.name,
      project_number: project.project_number,
      active: project.active,
      origin_id: project.origin_id,
      company: { id: this.company.id, name: this.company.name },
    };
  }

  /** `company_id` query parameter: required when `required`, must be ours. */
  private checkCompanyParam(url: URL, required: boolean): Reply | undefined {
    const value = url.searchParams.get('company_id');
    if (value === null || value === '') {
      return required ? { status: 400, body: { errors: 'company_id is required' } } : undefined;
    }
    return value === String(this.company.id)
      ? undefined
      : forbidden();
  }

  /** `project_id` query parameter: required and must exist. */
  private projectParam(url: URL): number | Reply {
    const value = url.searchParams.get('project_id');
    if (value === null || value === '') return { status: 400, body: { errors: 'project_id is required' } };
    const id = Number(value);
    return this.projects.has(id) ? id : notFound('Project');
  }

  private requireProject(projectId: number): StandInProject {
    const project = this.projects.get(projectId);
    if (!project) throw new Error(`stand-in: no project ${projectId}`);
    return project;
  }

  private linesOf(projectId: number): StandInBudgetLine[] {
    return [...this.lines.values()].filter((line) => line.project_id === projectId).sort(byId);
  }

  private resolveLineItemType(category: string): StandInLineItemType {
    const known = [...this.lineItemTypes.values()].find(
      (type) => type.code === category || type.name.toLowerCase() === category.toLowerCase(),
    );
    return known ?? this.addLineItemType({ code: category, name: category });
  }

  private buildLine(
    projectId: number,
    costCode: StandInCostCode,
    type: StandInLineItemType,
    input: BudgetLineInput,
  ): StandInBudgetLine {
    const original = toScaled(input.originalBudget);
    const modifications = toScaled(input.budgetModifications ?? 0);
    const approvedCos = toScaled(input.approvedCos ?? 0);
    const revised =
      input.revisedBudget === undefined
        ? sumScaled(original, modifications, approvedCos)
        : toScaled(input.revisedBudget);
    const optionalAmount = (value: string | number | null | undefined) =>
      value === undefined || value === null ? null : fromScaled(toScaled(value));
    return {
      id: this.idFor('line', input.id, 500001),
      project_id: projectId,
      cost_code_id: costCode.id,
      cost_code: `${costCode.full_code} - ${costCode.name}`,
      cost_code_origin_id: costCode.origin_id,
      category_id: type.id,
      category: type.name,
      description: input.description ?? null,
      original_budget_amount: fromScaled(original),
      budget_modifications: fromScaled(modifications),
      approved_cos: fromScaled(approvedCos),
      pending_budget_changes: fromScaled(toScaled(input.pendingBudgetChanges ?? 0)),
      revised_budget: fromScaled(revised),
      uom: input.uom ?? null,
      quantity: optionalAmount(input.quantity),
      unit_cost: optionalAmount(input.unitCost),
      created_at: input.createdAt ?? new Date().toISOString(),
      created_by: input.createdBy ?? null,
    };
  }

  /** The given id (kept ahead of the counter), else the next of the kind. */
  private idFor(kind: string, given: number | undefined, first: number): number {
    const next = this.nextIds[kind] ?? first;
    if (given !== undefined) {
      this.nextIds[kind] = Math.max(next, given + 1);
      return given;
    }
    this.nextIds[kind] = next + 1;
    return next;
  }

  private addFault(count: number, filter: FaultFilter, action: Fault['action']): void {
    if (count > 0) this.faults.push({ remaining: count, skip: filter.skip ?? 0, filter, action });
  }

  private takeFault(method: string, path: string): Fault | undefined {
    for (const fault of this.faults) {
      const { filter } = fault;
      if (filter.method && filter.method.toUpperCase() !== method) continue;
      if (filter.path === undefined ? !path.startsWith('/rest/') : !pathMatches(path, filter.path)) continue;
      if (fault.skip > 0) {
        fault.skip -= 1;
        continue;
      }
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
      return fault;
    }
    return undefined;
  }
}

function rateLimitHeaders(verdict: { limit: number; remaining: number; reset: number }): Record<string, string> {
  return {
    'X-Rate-Limit-Limit': String(verdict.limit),
    'X-Rate-Limit-Remaining': String(verdict.remaining),
    'X-Rate-Limit-Reset': String(verdict.reset),
  };
}

function costCodeJson(code: StandInCostCode): Json {
  return {
    id: code.id,
    code: code.code,
    full_code: code.full_code,
    name: code.name,
    origin_id: code.origin_id,
    sortable_code: code.full_code,
    project_id: code.project_id,
  };
}

function lineItemTypeJson(type: StandInLineItemType): Json {
  return { id: type.id, name: type.name, code: type.code, base_type: type.base_type, origin_id: type.origin_id };
}

function forbidden(): Reply {
  return { status: 403, body: { errors: 'You do not have access to this company' } };
}

function notFound(what: string): Reply {
  return { status: 404, body: { errors: `${what} not found` } };
}

function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id;
}

function unwrap(body: unknown, key: string): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const object = body as Json;
  const inner = object[key];
  return inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Json) : object;
}

function pathMatches(path: string, pattern: string | RegExp): boolean {
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}

function matches(entry: RequestLogEntry, filter: RequestFilter): boolean {
  if (filter.method && filter.method.toUpperCase() !== entry.method) return false;
  if (filter.path !== undefined && !pathMatches(entry.path, filter.path)) return false;
  if (filter.status !== undefined && filter.status !== entry.status) return false;
  return true;
}

function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    query[key] = values.length > 1 || key.endsWith('[]') ? values : values[0];
  }
  return query;
}

function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48-bit millisecond time + 80 random bits, Crockford base32. */
export function ulid(time = Date.now()): string {
  let timePart = '';
  let t = time;
  for (let i = 0; i < 10; i += 1) {
    timePart = CROCKFORD[t % 32] + timePart;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let randomPart = '';
  for (let i = 0; i < 16; i += 1) randomPart += CROCKFORD[random[i] % 32];
  return timePart + randomPart;
}
