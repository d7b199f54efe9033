import { randomBytes } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { procoreFixture } from '../../fixtures/procore';
import { Scaled, fromScaled, sumScaled, toScaled } from './stand-in-decimal';
import {
  AmountFormat,
  TOKEN_TEMPLATE,
  WEBHOOK_EVENT_TEMPLATE,
  budgetChangeJson,
  budgetViewJson,
  companyUserJson,
  conform,
  costCodeJson,
  detailRowJson,
  divisionOf,
  lineItemJson,
  lineItemTypeJson,
  projectJson,
} from './stand-in-json';
import { RateLimitConfig, StandInRateLimits } from './stand-in-rate-limits';
import { OAuthReply, StandInOAuth } from './stand-in-oauth';
import { StandInWebhooks, canonicalEventType } from './stand-in-webhooks';
import {
  STANDARD_VIEW_COLUMNS,
  type BudgetLineInput,
  type BudgetViewColumn,
  type FaultFilter,
  type RequestFilter,
  type RequestLogEntry,
  type StandInBudgetChange,
  type StandInBudgetLine,
  type StandInBudgetView,
  type StandInCompany,
  type StandInCostCode,
  type StandInHook,
  type StandInLineItemType,
  type StandInProject,
  type StandInTrigger,
  type StandInUser,
  type StandInUserRef,
  type UnlockRequest,
  type WebhookBehaviour,
  type WebhookEvent,
  type WebhookResource,
} from './procore-stand-in.types';

export interface ProcoreStandInOptions {
  companyId?: number;
  companyName?: string;
  clientId?: string;
  clientSecret?: string;
  /** Access-token lifetime. Default 5400 (Procore's). */
  tokenTtlSeconds?: number;
  /** v1 lists: `per_page` when the request has none. Default 100. */
  defaultPerPage?: number;
  /** v1 lists: largest `per_page` honoured; larger asks are cut to it. Default 10000. (v2.0 lists:
   * default 10, at most 100, as Procore publishes.) */
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

/** The user a budget view names as its creator when none is given. */
export const VIEW_CREATOR: StandInUserRef = { id: 1651450, login: 'service-automation@summit-builders.example', name: 'Service Automation' };

/** Which paging headers lists carry (Procore's do; a test can drop them to exercise fallbacks). */
export interface PagingHeaders {
  link: boolean;
  total: boolean;
  perPage: boolean;
}

const RATE_LIMIT_MESSAGE =
  'You have surpassed the max number of requests for an hour. Please wait until your limit resets.';
const V2_PAGING = procoreFixture('pagination').v2 as { defaultPerPage: number; maxPerPage: number };
/** What an unlock without `destroy_all_budget_line_item_transfers` does: the reference's default. */
const UNLOCK_DESTROYS_BY_DEFAULT = procoreFixture('budget-lock').unlock.parameterDefault === 'true';

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

/** A line as seeded: the stand-in recomputes the line from it on every change. */
interface LineState {
  id: number;
  projectId: number;
  costCodeId: number;
  categoryId: number;
  original: Scaled;
  modifications: Scaled;
  approvedCos: Scaled;
  approvedBudgetChanges: Scaled;
  pending: Scaled;
  committed: Scaled;
  direct: Scaled;
  /** A seeded revised budget (a view formula); else the sum. */
  revisedOverride?: Scaled;
}

/**
 * A local, stateful stand-in for Procore's login host and REST API on one base URL
 * (`http://127.0.0.1:<port>`). Every response has the shape Procore publishes
 * (test/fixtures/procore): detail rows keyed by column display names with amounts as text, budget
 * line items without `created_by`, `budget_changes` wrapped in `{data}`, v2.0 lists wrapped and
 * capped at 100 per page, hooks listed with masked secrets and upper-case event types, active
 * projects unless `filters[by_status]=All`, and an unlock that destroys the budget's modifications
 * unless `destroy_all_budget_line_item_transfers=false` is sent. Plus OAuth client credentials,
 * `Procore-Company-Id`, paging headers, rate limits, fault injection and a request log for tests.
 */
export class ProcoreStandIn {
  readonly company: StandInCompany;
  /** Every request answered (or dropped) since start or {@link clearLog}. */
  readonly requests: RequestLogEntry[] = [];
  /** Every unlock that reached a budget, with its `destroy_all_budget_line_item_transfers`. */
  readonly unlockRequests: UnlockRequest[] = [];
  latencyMs: number;

  private readonly options: ProcoreStandInOptions;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly tokenTtlSeconds: number;
  private readonly defaultPerPage: number;
  private readonly maxPerPage: number;
  private readonly rateLimits: StandInRateLimits;
  private readonly webhookApi: StandInWebhooks;
  private readonly routes: Route[];
  private server?: Server;
  private port?: number;
  private listening = false;
  /** Requests held by latency or delayNext, released early by down(). */
  private readonly held = new Map<NodeJS.Timeout, () => void>();

  private tokens = new Map<string, number>();
  /** "Sign in with Procore" (authorization code) for the console: see stand-in-oauth.ts. */
  readonly oauth = new StandInOAuth(() => this.usersList(), () => this.tokenTtlSeconds);
  private projects = new Map<number, StandInProject>();
  private locks = new Map<number, boolean>();
  private views = new Map<number, StandInBudgetView & { createdBy: StandInUserRef; createdAt: string }>();
  private lines = new Map<number, LineState>();
  private costCodes = new Map<number, StandInCostCode>();
  private divisions = new Map<string, { id: number; code: string; name: string }>();
  private lineItemTypes = new Map<number, StandInLineItemType>();
  private budgetChanges = new Map<number, StandInBudgetChange>();
  private users = new Map<number, StandInUser>();
  private faults: Fault[] = [];
  private nextIds: Record<string, number> = {};
  private rateLimitedCount = 0;
  private tokenCount = 0;
  private webhookEventId = 0;
  private amountFormat: AmountFormat = 'text';
  private pagingHeaders: PagingHeaders = { link: true, total: true, perPage: true };
  private clockSkewMs = 0;

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
    this.webhookApi = new StandInWebhooks({
      companyId: this.company.id,
      hasProject: (projectId) => this.projects.has(projectId),
      nextId: (kind, first) => this.idFor(kind, undefined, first),
      paged: (url, items, v2) => this.paged(url, items, undefined, v2),
    });
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

  /** Lets every request held by latency or delayNext go on now (a test that holds one until it has acted). */
  releaseHeld(): void {
    for (const [timer, release] of this.held) {
      clearTimeout(timer);
      release();
    }
    this.held.clear();
  }

  /** Refuses connections (closes the listener and every open connection) until {@link up}. */
  async down(): Promise<void> {
    this.releaseHeld();
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
   * the constructor's rate limits and latency, published behaviour. Keeps listening on its URL. */
  reset(): void {
    this.rateLimits.configure(this.options.rateLimits ?? {});
    this.latencyMs = this.options.latencyMs ?? 0;
    this.tokens.clear();
    this.oauth.reset();
    this.projects.clear();
    this.locks.clear();
    this.views.clear();
    this.lines.clear();
    this.costCodes.clear();
    this.divisions.clear();
    this.lineItemTypes.clear();
    this.budgetChanges.clear();
    this.users.clear();
    this.webhookApi.reset();
    this.faults = [];
    this.nextIds = {};
    this.webhookEventId = 0;
    this.amountFormat = 'text';
    this.pagingHeaders = { link: true, total: true, perPage: true };
    this.clockSkewMs = 0;
    this.clearLog();
    for (const type of DEFAULT_LINE_ITEM_TYPES) this.addLineItemType({ ...type });
  }

  // ---- Behaviour switches -----------------------------------------------------------------------

  /** Amounts as Procore's published examples write them (`text`, the default) or as JSON numbers
   * (the reference schema's type). */
  setAmountFormat(format: AmountFormat): void {
    this.amountFormat = format;
  }

  /** Drops paging headers from every list (to exercise a reader's fallbacks). */
  setPagingHeaders(headers: Partial<PagingHeaders>): void {
    this.pagingHeaders = { ...this.pagingHeaders, ...headers };
  }

  /** Runs the server's clock `ms` ahead of (or, negative, behind) ours: its `Date` header and
   * `X-Rate-Limit-Reset` follow it. */
  setClockSkew(ms: number): void {
    this.clockSkewMs = ms;
  }

  /** The webhooks API's behaviour (which API answers, masking, event-type spelling, resources). */
  setWebhookBehaviour(behaviour: Partial<WebhookBehaviour>): void {
    Object.assign(this.webhookApi.behaviour, behaviour);
  }

  get webhookBehaviour(): WebhookBehaviour {
    return this.webhookApi.behaviour;
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

  /**
   * Adds a budget view. `columns`: the standard columns it shows, by display name, optionally
   * renamed (`{name: 'Revised Estimate', source: 'Revised Budget'}`); default every standard column.
   */
  addBudgetView(
    projectId: number,
    input: { id?: number; name: string; description?: string; columns?: BudgetViewColumn[]; createdBy?: StandInUserRef },
  ): StandInBudgetView {
    this.requireProject(projectId);
    const columns = (input.columns ?? [...STANDARD_VIEW_COLUMNS]).map((column) =>
      typeof column === 'string' ? { name: column, source: column } : { ...column },
    );
    for (const column of columns) {
      if (!(STANDARD_VIEW_COLUMNS as readonly string[]).includes(column.source)) {
        throw new Error(`stand-in: no standard column "${column.source}"`);
      }
    }
    const view = {
      id: this.idFor('view', input.id, 2001),
      project_id: projectId,
      name: input.name,
      description: input.description ?? null,
      columns,
      createdBy: input.createdBy ?? VIEW_CREATOR,
      createdAt: new Date().toISOString(),
    };
    this.views.set(view.id, view);
    return this.viewCopy(view);
  }

  budgetViews(projectId: number): StandInBudgetView[] {
    return [...this.views.values()].filter((view) => view.project_id === projectId).map((view) => this.viewCopy(view));
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
      if (line.projectId === projectId) this.lines.delete(line.id);
    }
    return this.addBudgetLines(projectId, inputs);
  }

  addBudgetLines(projectId: number, inputs: BudgetLineInput[]): StandInBudgetLine[] {
    this.requireProject(projectId);
    const codes = new Map(this.costCodesOf(projectId).map((code) => [code.full_code, code]));
    return inputs.map((input) => {
      let costCode = codes.get(input.costCode);
      if (!costCode) {
        costCode = this.addCostCode(projectId, { fullCode: input.costCode, name: input.costCodeName ?? input.costCode });
        codes.set(costCode.full_code, costCode);
      }
      const state = this.lineState(this.idFor('line', input.id, 500001), projectId, costCode, this.resolveLineItemType(input.category), input);
      this.lines.set(state.id, state);
      return this.lineOf(state);
    });
  }

  /** Changes one line (amounts are recomputed). */
  updateBudgetLine(lineId: number, patch: Partial<BudgetLineInput>): StandInBudgetLine {
    const state = this.lines.get(lineId);
    if (!state) throw new Error(`stand-in: no budget line ${lineId}`);
    const costCode = this.costCodes.get(state.costCodeId) as StandInCostCode;
    const type = this.lineItemTypes.get(state.categoryId) as StandInLineItemType;
    const current: BudgetLineInput = {
      costCode: costCode.full_code,
      category: type.code,
      originalBudget: fromScaled(state.original),
      budgetModifications: fromScaled(state.modifications),
      approvedCos: fromScaled(state.approvedCos),
      approvedBudgetChanges: fromScaled(state.approvedBudgetChanges),
      pendingBudgetChanges: fromScaled(state.pending),
      committedCosts: fromScaled(state.committed),
      directCosts: fromScaled(state.direct),
      revisedBudget: state.revisedOverride === undefined ? undefined : fromScaled(state.revisedOverride),
    };
    const merged = { ...current, ...patch };
    const nextCode =
      patch.costCode && patch.costCode !== costCode.full_code
        ? (this.costCodesOf(state.projectId).find((code) => code.full_code === patch.costCode) ??
          this.addCostCode(state.projectId, { fullCode: patch.costCode, name: patch.costCodeName ?? patch.costCode }))
        : costCode;
    const nextType = patch.category ? this.resolveLineItemType(patch.category) : type;
    const updated = this.lineState(lineId, state.projectId, nextCode, nextType, merged);
    this.lines.set(lineId, updated);
    return this.lineOf(updated);
  }

  removeBudgetLine(lineId: number): void {
    this.lines.delete(lineId);
  }

  /** The project's lines as the stand-in holds them (amounts as exact decimal text). */
  budgetLines(projectId: number): StandInBudgetLine[] {
    return this.statesOf(projectId).map((state) => this.lineOf(state));
  }

  /** The line's value in each standard column (what detail rows of a view showing it carry). */
  columnAmounts(lineId: number): Record<string, string> {
    const state = this.lines.get(lineId);
    if (!state) throw new Error(`stand-in: no budget line ${lineId}`);
    return this.columnTexts(this.lineOf(state));
  }

  addBudgetChange(
    projectId: number,
    input: {
      id?: number;
      number?: number;
      title?: string;
      status?: StandInBudgetChange['status'];
      erpStatus?: string | null;
      amount?: string | number;
    },
  ): StandInBudgetChange {
    this.requireProject(projectId);
    const id = this.idFor('budgetChange', input.id, 9001);
    const number = input.number ?? [...this.budgetChanges.values()].filter((c) => c.project_id === projectId).length + 1;
    const change: StandInBudgetChange = {
      id,
      project_id: projectId,
      number,
      title: input.title ?? `Budget change ${number}`,
      status: input.status ?? 'draft',
      erp_status: input.erpStatus === undefined ? 'not_in_erp' : input.erpStatus,
      amount: fromScaled(toScaled(input.amount ?? 0)),
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
    this.rateLimits.consume(this.serverNow(), count);
  }

  /** 429 answers sent since start or {@link clearLog}. */
  get rateLimitedResponses(): number {
    return this.rateLimitedCount;
  }

  // ---- Request log ------------------------------------------------------------------------------

  clearLog(): void {
    this.requests.length = 0;
    this.unlockRequests.length = 0;
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

  /** Every hook, company-level (`project_id` null) and project-level, with its headers unmasked. */
  hooks(): StandInHook[] {
    return this.webhookApi.hooks();
  }

  triggers(hookId?: string): StandInTrigger[] {
    return this.webhookApi.triggers(hookId);
  }

  /** Registers a hook directly (as if created through the API); `projectId` makes it project-level. */
  addHook(input: {
    namespace: string;
    destinationUrl: string;
    destinationHeaders?: Record<string, string>;
    payloadVersion?: string;
    projectId?: number | null;
  }): StandInHook {
    if (input.projectId != null) this.requireProject(input.projectId);
    return this.webhookApi.addHook(input);
  }

  /** Adds a trigger directly (`eventType` in any case or tense). */
  addTrigger(hookId: string, resourceName: string, eventType: string): StandInTrigger {
    if (!this.webhookApi.hook(hookId)) throw new Error(`stand-in: no hook ${hookId}`);
    const event = canonicalEventType(eventType);
    if (!event) throw new Error(`stand-in: not an event type: ${eventType}`);
    return this.webhookApi.addTrigger(hookId, resourceName, event);
  }

  /** Replaces the resources offered at company and/or project scope. */
  setWebhookResources(resources: { company?: WebhookResource[]; project?: WebhookResource[] }): void {
    if (resources.company) this.webhookApi.behaviour.companyResources = resources.company;
    if (resources.project) this.webhookApi.behaviour.projectResources = resources.project;
  }

  /**
   * Delivers a v2 payload to every hook the event's project reaches (company-level hooks and the
   * project's own; with `matchTriggers`, only hooks with a trigger for its resource and event),
   * sending each hook's `destination_headers` verbatim. Returns each delivery's HTTP status in
   * hook order; 0 when the destination did not answer.
   */
  async deliverWebhook(
    event: Partial<WebhookEvent> = {},
    options: { matchTriggers?: boolean } = {},
  ): Promise<number[]> {
    const payload = this.webhookPayload(event);
    const wanted = canonicalEventType(payload.event_type);
    const hooks = this.webhookApi.hooksFor(payload.project_id).filter(
      (hook) =>
        !options.matchTriggers ||
        this.triggers(hook.id).some((trigger) => trigger.resource_name === payload.resource_name && trigger.event_type === wanted),
    );
    return Promise.all(hooks.map((hook) => this.deliverTo(hook.destination_url, payload, hook.destination_headers)));
  }

  /** Builds the payload {@link deliverWebhook} would send (fresh id and ulid each time), in the
   * published v2 payload's shape (test/fixtures/procore/webhook-event.json). */
  webhookPayload(event: Partial<WebhookEvent> = {}): WebhookEvent {
    this.webhookEventId += 1;
    const userId = event.user_id === undefined ? null : event.user_id;
    const projectId = event.project_id === undefined ? null : event.project_id;
    const companyId = event.company_id ?? this.company.id;
    return conform(
      WEBHOOK_EVENT_TEMPLATE,
      {
        id: event.id ?? this.webhookEventId,
        ulid: event.ulid ?? ulid(),
        timestamp: event.timestamp ?? new Date().toISOString(),
        metadata: event.metadata ?? {
          source_user_id: userId,
          source_project_id: projectId,
          source_operation_id: null,
          source_company_id: companyId,
          source_application_id: null,
        },
        user_id: userId,
        company_id: companyId,
        project_id: projectId,
        api_version: event.api_version ?? 'v2.0',
        event_type: event.event_type ?? 'update',
        resource_name: event.resource_name ?? 'Budget View Snapshots',
        resource_id: event.resource_id ?? 1,
      },
      'a webhook event',
    ) as unknown as WebhookEvent;
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

  private serverNow(): number {
    return Date.now() + this.clockSkewMs;
  }

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
    else if (rawBody) entry.body = tryJson(rawBody);

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
    const headers: Record<string, string> = { Date: new Date(this.serverNow()).toUTCString(), ...reply.headers };
    if (reply.raw === undefined && reply.body !== undefined) {
      headers['Content-Type'] ??= 'application/json; charset=utf-8';
    }
    headers['Content-Length'] = String(Buffer.byteLength(body));
    // The Date header follows the server's (possibly skewed) clock.
    res.sendDate = false;
    entry.headers = headers;
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
      const verdict = this.rateLimits.hit(this.serverNow());
      if (!verdict.allowed) return { status: 429, headers: rateLimitHeaders(verdict), body: { errors: RATE_LIMIT_MESSAGE } };
      Object.assign(headers, rateLimitHeaders(verdict));
    }
    if (action.rateLimited !== undefined) {
      Object.assign(headers, rateLimitHeaders(this.rateLimits.exhaustedFor(this.serverNow(), action.rateLimited)));
    }
    return { status: action.status, headers, raw: action.body };
  }

  private handle(req: IncomingMessage, url: URL, rawBody: string): Reply & { raw?: string } {
    if (url.pathname === '/oauth/authorize' && req.method === 'GET') return oauthReply(this.oauth.authorize(url));
    if (url.pathname === '/oauth/token') return this.token(req, rawBody);
    if (!url.pathname.startsWith('/rest/')) return { status: 404, body: { errors: 'Not Found' } };

    // Every API request counts against the rate limit, refused ones (401) included. Then
    // authentication, then the limit's verdict, then the company.
    const verdict = this.rateLimits.hit(this.serverNow());
    const limitHeaders = rateLimitHeaders(verdict);
    // Show User Info answers a signed-in person's token (the authorization-code grant), no company header needed.
    const me = url.pathname === '/rest/v1.0/me' && req.method === 'GET' ? this.oauth.me(req.headers.authorization) : null;
    if (me) return { ...oauthReply(me), headers: { ...limitHeaders, ...me.headers } };
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
    const signIn = this.oauth.token(form, Date.now());
    if (signIn) return oauthReply(signIn);
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
      body: conform(
        TOKEN_TEMPLATE,
        { access_token: token, token_type: 'bearer', expires_in: this.tokenTtlSeconds, created_at: Math.floor(this.serverNow() / 1000) },
        'a token',
      ),
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
    const hooks = this.webhookApi;
    const v2Company = `/rest/v2\\.0/companies/${int}`;
    const v2Project = `/rest/v2\\.0/companies/${int}/projects/${int}`;
    return [
      r('GET', '/rest/v1\\.0/projects', (ctx) => this.listProjects(ctx)),
      r('GET', `/rest/v1\\.0/projects/${int}`, (ctx, [id]) => this.showProject(ctx, Number(id))),
      r('GET', `/rest/v1\\.0/projects/${int}/budget`, (_ctx, [id]) => this.lockState(Number(id))),
      r('POST', `/rest/v1\\.0/projects/${int}/budget/lock`, (_ctx, [id]) => this.lock(Number(id))),
      r('DELETE', `/rest/v1\\.0/projects/${int}/budget/lock`, (ctx, [id]) => this.unlock(ctx, Number(id))),
      r('GET', `/rest/v1\\.0/projects/${int}/budget_changes`, (_ctx, [id]) => this.listBudgetChanges(Number(id))),
      r('GET', '/rest/v1\\.0/budget_views', (ctx) => this.listBudgetViews(ctx)),
      r('GET', `/rest/v1\\.0/budget_views/${int}/detail_rows`, (ctx, [id]) => this.detailRows(ctx, Number(id))),
      r('GET', `/rest/v1\\.0/budget_line_items/${int}`, (ctx, [id]) => this.showLineItem(ctx, Number(id))),
      r('GET', '/rest/v1\\.0/cost_codes', (ctx) => this.listCostCodes(ctx)),
      r('GET', '/rest/v1\\.0/line_item_types', (ctx) => this.listLineItemTypes(ctx)),
      r('GET', `/rest/v1\\.3/companies/${int}/users`, (ctx, [id]) => this.listUsers(ctx, Number(id))),
      // Webhooks, v2.0 (company and project scope).
      r('GET', `${v2Company}/webhooks/hooks`, (ctx, [c]) => hooks.v2ListHooks(ctx.url, Number(c), null)),
      r('POST', `${v2Company}/webhooks/hooks`, (ctx, [c]) => hooks.v2CreateHook(ctx.body, Number(c), null)),
      r('GET', `${v2Company}/webhooks/hooks/([^/]+)/triggers`, (ctx, [c, h]) => hooks.v2ListTriggers(ctx.url, Number(c), null, decodeURIComponent(h))),
      r('POST', `${v2Company}/webhooks/hooks/([^/]+)/triggers`, (ctx, [c, h]) => hooks.v2CreateTrigger(ctx.body, Number(c), null, decodeURIComponent(h))),
      r('GET', `${v2Company}/webhooks/resources`, (ctx, [c]) => hooks.v2ListResources(ctx.url, Number(c), null)),
      r('GET', `${v2Project}/webhooks/hooks`, (ctx, [c, p]) => hooks.v2ListHooks(ctx.url, Number(c), Number(p))),
      r('POST', `${v2Project}/webhooks/hooks`, (ctx, [c, p]) => hooks.v2CreateHook(ctx.body, Number(c), Number(p))),
      r('GET', `${v2Project}/webhooks/hooks/([^/]+)/triggers`, (ctx, [c, p, h]) => hooks.v2ListTriggers(ctx.url, Number(c), Number(p), decodeURIComponent(h))),
      r('POST', `${v2Project}/webhooks/hooks/([^/]+)/triggers`, (ctx, [c, p, h]) =>
        hooks.v2CreateTrigger(ctx.body, Number(c), Number(p), decodeURIComponent(h)),
      ),
      r('GET', `${v2Project}/webhooks/resources`, (ctx, [c, p]) => hooks.v2ListResources(ctx.url, Number(c), Number(p))),
      // Webhooks, v1.0 (the developer guide's; the scope is a parameter).
      r('GET', '/rest/v1\\.0/webhooks/hooks', (ctx) => hooks.v1ListHooks(ctx.url)),
      r('POST', '/rest/v1\\.0/webhooks/hooks', (ctx) => hooks.v1CreateHook(ctx.body)),
      r('GET', '/rest/v1\\.0/webhooks/hooks/([^/]+)/triggers', (ctx, [h]) => hooks.v1ListTriggers(ctx.url, decodeURIComponent(h))),
      r('POST', '/rest/v1\\.0/webhooks/hooks/([^/]+)/triggers', (ctx, [h]) => hooks.v1CreateTrigger(ctx.body, decodeURIComponent(h))),
      r('GET', '/rest/v1\\.0/webhooks/resources', (ctx) => hooks.v1ListResources(ctx.url)),
    ];
  }

  /** Active projects only, unless `filters[by_status]` says `Inactive` or `All`. */
  private listProjects(ctx: RequestContext): Reply {
    const company = this.checkCompanyParam(ctx.url, true);
    if (company) return company;
    const status = ctx.url.searchParams.get('filters[by_status]') ?? 'Active';
    if (!['Active', 'Inactive', 'All'].includes(status)) {
      return { status: 400, body: { errors: 'filters[by_status] must be one of Active, Inactive, or All' } };
    }
    const projects = [...this.projects.values()]
      .filter((project) => status === 'All' || project.active === (status === 'Active'))
      .sort(byId)
      .map((project) => projectJson(project, this.company));
    return this.paged(ctx.url, projects);
  }

  private showProject(ctx: RequestContext, id: number): Reply {
    const company = this.checkCompanyParam(ctx.url, true);
    if (company) return company;
    const project = this.projects.get(id);
    return project ? { status: 200, body: projectJson(project, this.company) } : notFound('Project');
  }

  private lockState(projectId: number): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    return { status: 200, body: { locked: this.locks.get(projectId) ?? false } };
  }

  private lock(projectId: number): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    if (this.locks.get(projectId)) return { status: 422, body: { errors: 'Budget is already locked' } };
    this.locks.set(projectId, true);
    return { status: 201, body: { locked: true } };
  }

  /**
   * `DELETE …/budget/lock`: `destroy_all_budget_line_item_transfers` defaults to true, which
   * deletes every budget modification of the budget (test/fixtures/procore/budget-lock.json).
   */
  private unlock(ctx: RequestContext, projectId: number): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    const given = ctx.url.searchParams.get('destroy_all_budget_line_item_transfers');
    let destroy: boolean;
    if (given === null) destroy = UNLOCK_DESTROYS_BY_DEFAULT;
    else if (given === 'true' || given === '1') destroy = true;
    else if (given === 'false' || given === '0') destroy = false;
    else return { status: 400, body: { errors: 'destroy_all_budget_line_item_transfers must be true or false' } };
    if (!this.locks.get(projectId)) {
      this.unlockRequests.push({ projectId, destroyAllBudgetLineItemTransfers: given, destroyedModifications: false });
      return { status: 422, body: { errors: 'Budget is not locked' } };
    }
    this.locks.set(projectId, false);
    if (destroy) {
      for (const state of this.statesOf(projectId)) {
        if (state.revisedOverride !== undefined) state.revisedOverride -= state.modifications;
        state.modifications = 0n;
      }
    }
    this.unlockRequests.push({ projectId, destroyAllBudgetLineItemTransfers: given, destroyedModifications: destroy });
    return { status: 200, body: { locked: false } };
  }

  private listBudgetViews(ctx: RequestContext): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    const views = [...this.views.values()]
      .filter((view) => view.project_id === project)
      .sort(byId)
      .map((view) => budgetViewJson(view, this.url, view.createdBy, view.createdAt));
    return this.paged(ctx.url, views);
  }

  private detailRows(ctx: RequestContext, viewId: number): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    const view = this.views.get(viewId);
    if (!view || view.project_id !== project) return notFound('Budget View');
    const costCodeIds = ctx.url.searchParams.getAll('cost_code_id[]').map(Number);
    const categoryIds = ctx.url.searchParams.getAll('category_id[]').map(Number);
    const states = this.statesOf(project)
      .filter((state) => !costCodeIds.length || costCodeIds.includes(state.costCodeId))
      .filter((state) => !categoryIds.length || categoryIds.includes(state.categoryId));
    const projectRef = this.requireProject(project);
    // Page first, then build JSON: a 20,000-line budget stays cheap per page.
    return this.paged(ctx.url, states, (state) => {
      const costCode = this.costCodes.get(state.costCodeId) as StandInCostCode;
      return detailRowJson(this.lineOf(state), {
        company: this.company,
        project: projectRef,
        costCode,
        division: this.divisionFor(costCode),
        columns: view.columns,
        format: this.amountFormat,
      });
    });
  }

  private showLineItem(ctx: RequestContext, id: number): Reply {
    const project = this.projectParam(ctx.url);
    if (typeof project !== 'number') return project;
    const state = this.lines.get(id);
    if (!state || state.projectId !== project) return notFound('Budget Line Item');
    const costCode = this.costCodes.get(state.costCodeId) as StandInCostCode;
    const type = this.lineItemTypes.get(state.categoryId) as StandInLineItemType;
    return {
      status: 200,
      body: lineItemJson(this.lineOf(state), { costCode, division: this.divisionFor(costCode), type, format: this.amountFormat }),
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

  /** `{"data": [...]}`, unpaged: the reference lists no paging parameters for it. */
  private listBudgetChanges(projectId: number): Reply {
    if (!this.projects.has(projectId)) return notFound('Project');
    const changes = [...this.budgetChanges.values()].filter((change) => change.project_id === projectId).sort(byId);
    return { status: 200, body: { data: changes.map(budgetChangeJson) } };
  }

  private listUsers(ctx: RequestContext, companyId: number): Reply {
    if (companyId !== this.company.id) return forbidden();
    return this.paged(ctx.url, [...this.users.values()].sort(byId).map(companyUserJson));
  }

  // ---- Helpers ----------------------------------------------------------------------------------

  /**
   * Procore paging: `page` (1-based) and `per_page`; headers `Total`, `Per-Page` and an RFC 8288
   * `Link` with absolute first/prev/next/last URLs when there is more than one page. v1 lists:
   * default and maximum as configured. v2.0 lists wrap the items in `{"data": [...]}`, default to
   * 10 per page and allow at most 100 (a larger ask is cut to 100).
   */
  private paged<T>(url: URL, items: T[], toJson?: (item: T) => unknown, v2 = false): Reply {
    const requested = Number(url.searchParams.get('per_page'));
    const [defaultPerPage, maxPerPage] = v2 ? [V2_PAGING.defaultPerPage, V2_PAGING.maxPerPage] : [this.defaultPerPage, this.maxPerPage];
    const perPage = Number.isInteger(requested) && requested > 0 ? Math.min(requested, maxPerPage) : defaultPerPage;
    const requestedPage = Number(url.searchParams.get('page'));
    const page = Number.isInteger(requestedPage) && requestedPage > 0 ? requestedPage : 1;
    const total = items.length;
    const lastPage = Math.max(1, Math.ceil(total / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const json = toJson ? slice.map(toJson) : slice;
    const headers: Record<string, string> = {};
    if (this.pagingHeaders.total) headers.Total = String(total);
    if (this.pagingHeaders.perPage) headers['Per-Page'] = String(perPage);
    if (lastPage > 1 && this.pagingHeaders.link) {
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
    return { status: 200, headers, body: v2 ? { data: json } : json };
  }

  private viewCopy(view: StandInBudgetView): StandInBudgetView {
    return {
      id: view.id,
      project_id: view.project_id,
      name: view.name,
      description: view.description,
      columns: view.columns.map((column) => ({ ...column })),
    };
  }

  private columnTexts(line: StandInBudgetLine): Record<string, string> {
    const view = { columns: STANDARD_VIEW_COLUMNS.map((name) => ({ name, source: name })) };
    const costCode = this.costCodes.get(line.cost_code_id) as StandInCostCode;
    const row = detailRowJson(line, {
      company: this.company,
      project: this.requireProject(line.project_id),
      costCode,
      division: this.divisionFor(costCode),
      columns: view.columns,
      format: 'text',
    });
    return Object.fromEntries(STANDARD_VIEW_COLUMNS.map((name) => [name, row[name] as string]));
  }

  /** A cost code's division (first segment), with an id per project and code. */
  private divisionFor(costCode: StandInCostCode): { id: number; code: string; name: string } {
    const code = divisionOf(costCode);
    const key = `${costCode.project_id}/${code}`;
    let division = this.divisions.get(key);
    if (!division) {
      division = { id: this.idFor('division', undefined, 20001), code, name: `Division ${code}` };
      this.divisions.set(key, division);
    }
    return division;
  }

  /** `company_id` query parameter: required when `required`, must be ours. */
  private checkCompanyParam(url: URL, required: boolean): Reply | undefined {
    const value = url.searchParams.get('company_id');
    if (value === null || value === '') {
      return required ? { status: 400, body: { errors: 'company_id is required' } } : undefined;
    }
    return value === String(this.company.id) ? undefined : forbidden();
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

  private statesOf(projectId: number): LineState[] {
    return [...this.lines.values()].filter((state) => state.projectId === projectId).sort(byId);
  }

  private resolveLineItemType(category: string): StandInLineItemType {
    const known = [...this.lineItemTypes.values()].find(
      (type) => type.code === category || type.name.toLowerCase() === category.toLowerCase(),
    );
    return known ?? this.addLineItemType({ code: category, name: category });
  }

  private lineState(
    id: number,
    projectId: number,
    costCode: StandInCostCode,
    type: StandInLineItemType,
    input: BudgetLineInput,
  ): LineState {
    const amount = (value: string | number | undefined) => toScaled(value ?? 0);
    return {
      id,
      projectId,
      costCodeId: costCode.id,
      categoryId: type.id,
      original: toScaled(input.originalBudget),
      modifications: amount(input.budgetModifications),
      approvedCos: amount(input.approvedCos),
      approvedBudgetChanges: amount(input.approvedBudgetChanges),
      pending: amount(input.pendingBudgetChanges),
      committed: amount(input.committedCosts),
      direct: amount(input.directCosts),
      revisedOverride: input.revisedBudget === undefined ? undefined : toScaled(input.revisedBudget),
    };
  }

  private lineOf(state: LineState): StandInBudgetLine {
    const costCode = this.costCodes.get(state.costCodeId) as StandInCostCode;
    const type = this.lineItemTypes.get(state.categoryId) as StandInLineItemType;
    const revised = state.revisedOverride ?? sumScaled(state.original, state.modifications, state.approvedCos, state.approvedBudgetChanges);
    return {
      id: state.id,
      project_id: state.projectId,
      cost_code_id: costCode.id,
      cost_code: `${costCode.full_code} - ${costCode.name}`,
      cost_code_origin_id: costCode.origin_id,
      category_id: type.id,
      category: type.name,
      original_budget_amount: fromScaled(state.original),
      budget_modifications: fromScaled(state.modifications),
      approved_cos: fromScaled(state.approvedCos),
      approved_budget_changes: fromScaled(state.approvedBudgetChanges),
      pending_budget_changes: fromScaled(state.pending),
      committed_costs: fromScaled(state.committed),
      direct_costs: fromScaled(state.direct),
      pending_cost_changes: '0.00',
      revised_budget: fromScaled(revised),
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

function forbidden(): Reply {
  return { status: 403, body: { errors: 'You do not have access to this company' } };
}

function notFound(what: string): Reply {
  return { status: 404, body: { errors: `${what} not found` } };
}

function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
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

function oauthReply(reply: OAuthReply): Reply & { raw?: string } {
  if (reply.html !== undefined) return { status: reply.status, headers: { 'Content-Type': 'text/html; charset=utf-8', ...reply.headers }, raw: reply.html };
  return { status: reply.status, headers: reply.headers, body: reply.body };
}
