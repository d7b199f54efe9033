import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  JobStatus,
  PhaseSeed,
  SpectrumStandInStore,
  StandInJob,
  StandInMessage,
  StandInPhaseRow,
} from './spectrum-stand-in.store';
import {
  loadWsdl,
  parseRequest,
  ParsedRequest,
  RenderedResponse,
  renderFault,
  renderRecords,
  ResponseField,
  servedWsdl,
  spectrumAmount,
  spectrumDecimal,
  WSDL_DIR,
} from './spectrum-stand-in.xml';

/**
 * A local Spectrum Data Exchange server for tests and the demo: a real HTTP server on 127.0.0.1
 * answering GetJob, GetPhase, GetPhaseEnhanced and AddPhase in the style captured from real
 * servers, with Spectrum's validations, state, and the quirks the connector must survive
 * (intermittent faults, cut-off responses, silently ignored current estimates, concurrency limits).
 */

export const STAND_IN_SERVICES = ['GetJob', 'GetPhase', 'GetPhaseEnhanced', 'AddPhase'] as const;
export type StandInService = (typeof STAND_IN_SERVICES)[number];

export type StandInAuthMode = 'none' | 'bearer' | 'basic';

/**
 * How a response is cut off:
 * - `between-records`: after `keepRecords` whole records, before the list closes (default);
 * - `inside-record`: in the middle of record `keepRecords + 1`;
 * - `after-records`: after `</returnArray>` (every record present, only the closing tags lost).
 * `delivery`: `length` sends the cut body with a matching Content-Length; `drop` closes the
 * connection after it.
 */
export interface TruncateOptions {
  mode?: 'between-records' | 'inside-record' | 'after-records';
  /** Whole records kept before the cut; default half of them. */
  keepRecords?: number;
  delivery?: 'length' | 'drop';
  /** Only responses of these services (default all). */
  services?: StandInService[];
}

export interface SpectrumStandInOptions {
  /** Default 0 (any free port). */
  port?: number;
  companyCode?: string;
  authorizationId?: string;
  auth?: StandInAuthMode;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued bearer tokens. Default 3600. */
  tokenTtlSeconds?: number;
  /** Delay before every SOAP answer. */
  latencyMs?: number;
  /** Probability (0..1) of an intermittent `SOAP-ENV:Server` fault. */
  faultRate?: number;
  /** When an injected fault happens after AddPhase was applied (the write stays). Default false. */
  faultAfterApply?: boolean;
  /** Probability (0..1) that a response is cut off, with `truncate` options. */
  truncateRate?: number;
  truncate?: TruncateOptions;
  /**
   * Seed behind faultRate and truncateRate. Whether a call faults (or is cut off) is drawn from the
   * seed, the service, the call's parameters and how many times the same call came before — not
   * from arrival order — so concurrent clients meet the same faults on every run.
   */
  seed?: number;
  /** Job Cost option "Current Estimate display only?": AddPhase silently ignores Current_Est_*. */
  currentEstimateDisplayOnly?: boolean;
  /** Calls in flight above this fault at once. */
  maxConcurrent?: number;
  /** Name of the current-estimate field in GetPhase answers. */
  fieldName?: 'Current_Estimate_Dollars' | 'Current_Estimated_Dollars';
  /** Fault unless the request root is `<Service xmlns="…types">` (the known-working form). Default true. */
  requireDefaultNamespace?: boolean;
  /**
   * The record a read by a wrong Authorization_ID answers. Default: Spectrum's Web Service Types
   * help page example for Get services — `E` "The web service is not Authorized" on
   * `Authorization_ID`. `configure({ readDenial: undefined })` restores the default.
   */
  readDenial?: StandInMessage;
  /**
   * A read with no rows answers an empty list (default) or one "No records found" error record.
   * Inferred: no capture of Spectrum's empty answer is public (see docs/spectrum-reads.md); the
   * record is the narrow form the connector accepts as "no rows".
   */
  emptyRead?: 'empty' | 'error-record';
  wsdlDir?: string;
}

type Config = Required<Omit<SpectrumStandInOptions, 'port' | 'maxConcurrent' | 'truncate' | 'readDenial'>> & {
  maxConcurrent?: number;
  readDenial?: StandInMessage;
  truncate: TruncateOptions;
};

export type RequestOutcome =
  | 'ok'
  | 'data-error'
  | 'fault'
  | 'truncated'
  | 'unauthorized'
  | 'not-found'
  | 'token';

export interface RecordedRequest {
  seq: number;
  at: number;
  method: string;
  path: string;
  service?: StandInService;
  /** Parsed request parameters (empty when the body could not be parsed). */
  fields: Record<string, string>;
  /** Parameter elements in the order sent. */
  order: string[];
  rawBody: string;
  headers: http.IncomingHttpHeaders;
  outcome?: RequestOutcome;
  status?: number;
  /** SOAP calls in flight when this one arrived, itself included (what `peakConcurrent` takes the maximum of). */
  concurrent?: number;
  /** When the answer was sent (or the call abandoned): SOAP calls only. */
  finishedAt?: number;
  /** The caller's TCP port (which process is calling, for tests that tell processes apart). */
  remotePort?: number;
}

export interface AppliedAddPhase {
  seq: number;
  at: number;
  jobNumber: string;
  phaseCode: string;
  costType: string;
  fields: Record<string, string>;
  createdRow: boolean;
  createdPhase: boolean;
}

export interface RowFilter {
  jobNumber?: string;
  phaseCode?: string;
  costType?: string;
}

type FaultPredicate = (request: RecordedRequest) => boolean;

export class SpectrumStandIn {
  readonly store: SpectrumStandInStore;
  readonly recorded: RecordedRequest[] = [];
  readonly appliedAddPhases: AppliedAddPhase[] = [];
  /** Highest number of SOAP calls in flight at once since start or clearRecords(). */
  peakConcurrent = 0;
  tokenRequests = 0;

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly tokens = new Map<string, number>();
  private config: Config;
  /** Per (purpose, call): how many draws it has had, for the deterministic fault and cut-off draws. */
  private draws = new Map<string, number>();
  private port = 0;
  private seq = 0;
  private inFlight = 0;
  private faultBudget: Array<{ remaining: number; service?: StandInService }> = [];
  private truncateBudget: Array<{ remaining: number; options: TruncateOptions }> = [];
  private faultPredicate?: FaultPredicate;
  private noteBudget: Array<{ remaining: number; message: StandInMessage }> = [];
  private recordOverrides = new Map<string, Record<string, string | null>>();
  private isDown = false;

  private constructor(options: SpectrumStandInOptions) {
    this.config = {
      companyCode: 'ABC',
      authorizationId: 'API',
      auth: 'none',
      clientId: 'connector',
      clientSecret: 'stand-in-secret',
      tokenTtlSeconds: 3600,
      latencyMs: 0,
      faultRate: 0,
      faultAfterApply: false,
      truncateRate: 0,
      seed: 1,
      currentEstimateDisplayOnly: false,
      fieldName: 'Current_Estimate_Dollars',
      requireDefaultNamespace: true,
      emptyRead: 'empty',
      wsdlDir: WSDL_DIR,
      ...stripUndefined(options),
      truncate: options.truncate ?? {},
    } as Config;
    this.store = new SpectrumStandInStore(this.config.companyCode, this.config.authorizationId);
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts a stand-in on 127.0.0.1. */
  static async start(options: SpectrumStandInOptions = {}): Promise<SpectrumStandIn> {
    const standIn = new SpectrumStandIn(options);
    await standIn.listen(options.port ?? 0);
    return standIn;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234` (services at `/ws/<Service>`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get options(): Readonly<Config> {
    return this.config;
  }

  /** Connection settings a client needs to talk to this stand-in (the shape of SpectrumClientOptions). */
  clientOptions(): {
    url: string;
    authorizationId: string;
    companyCode: string;
    auth: StandInAuthMode;
    clientId?: string;
    clientSecret?: string;
  } {
    const { authorizationId, companyCode, auth, clientId, clientSecret } = this.config;
    return {
      url: this.url,
      authorizationId,
      companyCode,
      auth,
      ...(auth === 'bearer' ? { clientId, clientSecret } : {}),
    };
  }

  /** Changes options at run time (latency, fault rate, auth mode, …). A new seed restarts the draws. */
  configure(options: Partial<SpectrumStandInOptions>): void {
    this.config = { ...this.config, ...stripUndefined(options) } as Config;
    if ('readDenial' in options && options.readDenial === undefined) this.config.readDenial = undefined;
    if (options.seed !== undefined) this.draws.clear();
    if (options.companyCode !== undefined) this.store.companyCode = options.companyCode;
    if (options.authorizationId !== undefined) this.store.authorizationId = options.authorizationId;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.closeListener();
  }

  /** Resolves once no SOAP call is in flight (a timed-out client's call may still be running). */
  async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Stops accepting connections and drops open ones: callers see ECONNREFUSED until up(). */
  async down(): Promise<void> {
    this.isDown = true;
    await this.closeListener();
  }

  async up(): Promise<void> {
    if (!this.isDown) return;
    this.isDown = false;
    await this.listen(this.port);
  }

  // ---- seeding -------------------------------------------------------------------------------

  addJob(job: Omit<StandInJob, 'statusCode'> & { statusCode?: JobStatus }): this {
    this.store.addJob(job);
    return this;
  }

  addCostType(code: string, description = ''): this {
    this.store.addCostType(code, description);
    return this;
  }

  setPhase(seed: PhaseSeed): StandInPhaseRow {
    return this.store.setPhase(seed);
  }

  getPhase(jobNumber: string, phaseCode: string, costType: string): StandInPhaseRow | undefined {
    return this.store.getPhase(jobNumber, phaseCode, costType);
  }

  listPhases(jobNumber?: string): StandInPhaseRow[] {
    return this.store.listPhases(jobNumber);
  }

  /** Forgets all data, records, injected faults and truncations (options stay). */
  reset(): void {
    this.store.reset();
    this.clearRecords();
    this.faultBudget = [];
    this.truncateBudget = [];
    this.noteBudget = [];
    this.recordOverrides.clear();
    this.faultPredicate = undefined;
    this.tokens.clear();
    this.draws.clear();
  }

  clearRecords(): void {
    this.recorded.length = 0;
    this.appliedAddPhases.length = 0;
    this.peakConcurrent = 0;
    this.tokenRequests = 0;
  }

  // ---- injection -----------------------------------------------------------------------------

  /** The next `count` SOAP calls (of `service`, if given) answer a `SOAP-ENV:Server` fault. */
  faultNext(count: number, service?: StandInService): this {
    this.faultBudget.push({ remaining: count, service });
    return this;
  }

  /** Calls matching the predicate fault every time (e.g. one row, to test "same fault repeats"). */
  faultWhen(predicate: FaultPredicate | undefined): this {
    this.faultPredicate = predicate;
    return this;
  }

  /** The next `count` SOAP answers are cut off (see TruncateOptions). */
  truncateNext(count: number, options: TruncateOptions = {}): this {
    this.truncateBudget.push({ remaining: count, options });
    return this;
  }

  /**
   * The next `count` successful AddPhase calls answer this message (e.g. a `W` warning or a `G`
   * good-with-message) instead of a blank record; the write is applied.
   */
  noteNext(message: StandInMessage, count = 1): this {
    this.noteBudget.push({ remaining: count, message });
    return this;
  }

  /**
   * Fault injection: the GetPhase / GetPhaseEnhanced record of one row is answered with these
   * fields changed (`null` drops the element, e.g. a record without its estimate), to test how a
   * malformed record is handled. Not a behaviour of Spectrum's own.
   */
  corruptRecord(row: { jobNumber: string; phaseCode: string; costType: string }, fields: Record<string, string | null>): this {
    this.recordOverrides.set(`${row.jobNumber}|${row.phaseCode}|${row.costType}`, fields);
    return this;
  }

  /** Invalidates every issued bearer token: the next call gets 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  // ---- recording -----------------------------------------------------------------------------

  requests(service?: StandInService): RecordedRequest[] {
    return service ? this.recorded.filter((r) => r.service === service) : [...this.recorded];
  }

  lastRequest(service?: StandInService): RecordedRequest | undefined {
    const list = this.requests(service);
    return list[list.length - 1];
  }

  /** AddPhase requests received (whatever their outcome) for the matching rows. */
  addPhaseCalls(filter: RowFilter = {}): RecordedRequest[] {
    return this.requests('AddPhase').filter((r) => matchesRow(r.fields, filter));
  }

  /** AddPhase calls that changed data, for the matching rows. */
  applied(filter: RowFilter = {}): AppliedAddPhase[] {
    return this.appliedAddPhases.filter((a) =>
      matchesRow({ Job_Number: a.jobNumber, Phase_Code: a.phaseCode, Cost_Type: a.costType }, filter),
    );
  }

  /** AddPhase requests per row key `job|phase|costType`. */
  addPhaseCountsByRow(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.requests('AddPhase')) {
      const key = [r.fields.Job_Number, r.fields.Phase_Code, r.fields.Cost_Type].map((v) => (v ?? '').trim()).join('|');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private closeListener(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      this.route(req, res, rawBody).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`stand-in error: ${(error as Error).message}`);
        }
      });
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const record: RecordedRequest = {
      seq: ++this.seq,
      at: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      fields: {},
      order: [],
      rawBody,
      headers: req.headers,
      remotePort: req.socket.remotePort,
    };
    const wsdl = /^\/wsdls\/(\w+)\.jws$/.exec(url.pathname);
    if (req.method === 'GET' && wsdl && isService(wsdl[1])) {
      return send(res, 200, servedWsdl(wsdl[1], this.url, this.config.wsdlDir), 'text/xml; charset=utf-8');
    }
    if (req.method === 'POST' && url.pathname === '/connect/token') {
      this.recorded.push({ ...record, outcome: 'token' });
      return this.issueToken(res, rawBody);
    }
    const ws = /^\/ws\/(\w+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !ws || !isService(ws[1])) {
      this.recorded.push({ ...record, outcome: 'not-found', status: 404 });
      return send(res, 404, 'Not Found', 'text/plain');
    }
    record.service = ws[1];
    this.recorded.push(record);
    this.inFlight++;
    record.concurrent = this.inFlight;
    this.peakConcurrent = Math.max(this.peakConcurrent, this.inFlight);
    try {
      await this.soap(record, req, res);
    } finally {
      this.inFlight--;
      record.finishedAt = Date.now();
    }
  }

  private async soap(record: RecordedRequest, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const service = record.service!;
    const fault = (status = 500) => {
      record.outcome = 'fault';
      record.status = status;
      send(res, status, renderFault(), 'text/xml; charset=utf-8');
    };

    if (!this.authorized(req.headers.authorization)) {
      record.outcome = 'unauthorized';
      record.status = 401;
      const scheme = this.config.auth === 'bearer' ? 'Bearer error="invalid_token"' : 'Basic realm="Spectrum"';
      res.writeHead(401, { 'WWW-Authenticate': scheme, 'Content-Type': 'text/plain' });
      res.end('Unauthorized');
      return;
    }
    if (this.config.maxConcurrent !== undefined && this.inFlight > this.config.maxConcurrent) return fault();

    // The real server faults on a request it cannot read, that lacks a declared parameter, or that
    // sends the declared parameters out of WSDL order (or one twice).
    let parsed: ParsedRequest;
    try {
      parsed = parseRequest(record.rawBody);
    } catch {
      return fault();
    }
    record.fields = parsed.fields;
    record.order = parsed.order;
    const declared = loadWsdl(service, this.config.wsdlDir).parameters;
    const sentDeclared = parsed.order.filter((name) => declared.includes(name));
    if (
      parsed.operation !== service ||
      declared.some((name) => !(name in parsed.fields)) ||
      sentDeclared.join('|') !== declared.join('|') ||
      (this.config.requireDefaultNamespace && !parsed.defaultNamespaceRoot)
    ) {
      return fault();
    }

    if (this.config.latencyMs > 0) await this.sleep(this.config.latencyMs);

    const injectedFault = this.takeFault(record);
    if (injectedFault && !this.config.faultAfterApply) return fault();

    const rendered = this.execute(service, parsed.fields, record);
    if (injectedFault) return fault();

    const truncate = this.takeTruncation(record);
    if (truncate) {
      record.outcome = 'truncated';
      record.status = 200;
      return this.sendTruncated(res, rendered, truncate);
    }
    record.outcome ??= 'ok';
    record.status = 200;
    send(res, 200, rendered.body, 'text/xml; charset=utf-8');
  }

  private execute(service: StandInService, fields: Record<string, string>, record: RecordedRequest): RenderedResponse {
    switch (service) {
      case 'GetJob':
        return renderRecords(service, this.readJobs(fields));
      case 'GetPhase':
        return renderRecords(service, this.readPhases(fields, false));
      case 'GetPhaseEnhanced':
        return renderRecords(service, this.readPhases(fields, true));
      case 'AddPhase': {
        const outcome = this.store.addPhase(fields, {
          currentEstimateDisplayOnly: this.config.currentEstimateDisplayOnly,
        });
        if (outcome.row) {
          this.appliedAddPhases.push({
            seq: record.seq,
            at: Date.now(),
            jobNumber: outcome.row.jobNumber,
            phaseCode: outcome.row.phaseCode,
            costType: outcome.row.costType,
            fields: { ...fields },
            createdRow: !!outcome.createdRow,
            createdPhase: !!outcome.createdPhase,
          });
        } else {
          record.outcome = 'data-error';
        }
        const note = outcome.row ? this.noteBudget.find((b) => b.remaining > 0) : undefined;
        if (note) note.remaining--;
        const messages: StandInMessage[] = outcome.errors.length
          ? outcome.errors
          : [note?.message ?? { code: ' ', desc: ' ', column: ' ' }];
        return renderRecords(
          service,
          messages.map((m) => [
            ['error_code', m.code],
            ['desc', m.desc],
            ['column', m.column],
          ]),
        );
      }
    }
  }

  private readJobs(fields: Record<string, string>): ResponseField[][] {
    const denied = this.readDenied(fields);
    if (denied) return [jobRecord(undefined, this.config.companyCode, denied)];
    // Blank pStatus_Code = Active and Inactive only; one code = that status only (docs/spectrum.md;
    // Spectrum's Get Job help page: "leave blank to see Active and Inactive only").
    const status = (fields.pStatus_Code ?? '').trim();
    const jobs = [...this.store.jobs.values()]
      .filter((job) => (status ? job.statusCode === status : job.statusCode !== 'C'))
      .sort((a, b) => a.jobNumber.localeCompare(b.jobNumber));
    if (!jobs.length && this.config.emptyRead === 'error-record') {
      return [jobRecord(undefined, this.config.companyCode, { code: 'I', desc: 'No records found', column: ' ' })];
    }
    return jobs.map((job) => jobRecord(job, this.config.companyCode));
  }

  private readPhases(fields: Record<string, string>, enhanced: boolean): ResponseField[][] {
    const denied = this.readDenied(fields);
    const fieldName = this.config.fieldName;
    if (denied) return [phaseRecord(undefined, this.config.companyCode, fieldName, enhanced, denied)];
    const job = (fields.pJob_Number ?? '').trim();
    const costType = (fields.pCost_Type ?? '').trim();
    // As GetJob: a blank status answers Active and Inactive rows only, `C` the Complete ones
    // (docs/spectrum.md; Spectrum's Get Phase help page). pJob_Number is matched exactly: the
    // SuperSelect operators it also takes are never sent by the connector (it refuses such jobs).
    const status = (fields.pStatus_Code ?? '').trim();
    const costCenter = (fields.pCost_Center ?? '').trim();
    const rows = this.store
      .listPhases(job || undefined)
      .filter((row) => !costType || row.costType === costType)
      .filter((row) => (status ? row.statusCode === status : row.statusCode !== 'C'))
      .filter((row) => !costCenter || row.costCenter === costCenter);
    if (!rows.length && this.config.emptyRead === 'error-record') {
      const none = { code: 'I', desc: 'No records found', column: ' ' };
      return [phaseRecord(undefined, this.config.companyCode, fieldName, enhanced, none)];
    }
    return rows.map((row) => {
      const record = phaseRecord(row, this.config.companyCode, fieldName, enhanced);
      const overrides = this.recordOverrides.get(`${row.jobNumber}|${row.phaseCode}|${row.costType}`);
      if (!overrides) return record;
      return record
        .filter(([name]) => overrides[name] !== null)
        .map(([name, value]): ResponseField => [name, name in overrides ? overrides[name] : value]);
    });
  }

  /** A read by a wrong Authorization_ID or for another company answers one error record. */
  private readDenied(fields: Record<string, string>): StandInMessage | undefined {
    if ((fields.Authorization_ID ?? '').trim() !== this.config.authorizationId) {
      return this.config.readDenial ?? { code: 'E', desc: 'The web service is not Authorized', column: 'Authorization_ID' };
    }
    const company = (fields.pCompany_Code ?? '').trim();
    if (company && company !== this.config.companyCode) {
      return { code: 'I', desc: `Invalid company code ${company}`, column: 'pCompany_Code' };
    }
    return undefined;
  }

  private takeFault(record: RecordedRequest): boolean {
    if (this.faultPredicate?.(record)) return true;
    const budget = this.faultBudget.find((b) => b.remaining > 0 && (!b.service || b.service === record.service));
    if (budget) {
      budget.remaining--;
      return true;
    }
    return this.config.faultRate > 0 && this.draw('fault', record) < this.config.faultRate;
  }

  private takeTruncation(record: RecordedRequest): TruncateOptions | undefined {
    const service = record.service!;
    const applies = (o: TruncateOptions) => !o.services || o.services.includes(service);
    const budget = this.truncateBudget.find((b) => b.remaining > 0 && applies(b.options));
    if (budget) {
      budget.remaining--;
      return budget.options;
    }
    if (this.config.truncateRate > 0 && applies(this.config.truncate) && this.draw('truncate', record) < this.config.truncateRate) {
      return this.config.truncate;
    }
    return undefined;
  }

  private sendTruncated(res: http.ServerResponse, rendered: RenderedResponse, options: TruncateOptions): void {
    const mode = options.mode ?? 'between-records';
    const count = rendered.records.length;
    const keep = Math.min(options.keepRecords ?? Math.floor(count / 2), count);
    let cut: number;
    if (mode === 'after-records') cut = rendered.listEnd;
    else if (mode === 'inside-record' && keep < count) {
      const next = rendered.records[keep];
      cut = next.start + Math.floor((next.end - next.start) / 2);
    } else cut = keep > 0 ? rendered.records[keep - 1].end : rendered.listStart;
    const body = Buffer.from(rendered.body.slice(0, cut), 'utf8');
    if (options.delivery === 'drop') {
      // Announce the whole length, send part of it, then drop the connection.
      res.writeHead(200, {
        'Content-Type': 'text/xml; charset=utf-8',
        'Content-Length': Buffer.byteLength(rendered.body, 'utf8'),
      });
      res.write(body, () => setImmediate(() => res.socket?.destroy()));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
  }

  /**
   * A number in [0, 1) for the n-th `purpose` draw of this very call (service and parameters): the
   * same on every run with the same seed, whatever order concurrent calls arrive in.
   */
  private draw(purpose: 'fault' | 'truncate', record: RecordedRequest): number {
    const call = `${purpose}|${record.service}|${record.order.map((name) => `${name}=${record.fields[name]}`).join('&')}`;
    const n = (this.draws.get(call) ?? 0) + 1;
    this.draws.set(call, n);
    return createHash('sha256').update(`${this.config.seed}|${call}|${n}`).digest().readUInt32BE(0) / 2 ** 32;
  }

  private authorized(header: string | undefined): boolean {
    switch (this.config.auth) {
      case 'none':
        return true;
      case 'basic': {
        const expected = Buffer.from(`${this.config.companyCode}:${this.config.authorizationId}`).toString('base64');
        return header === `Basic ${expected}`;
      }
      case 'bearer': {
        const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
        const expiresAt = token ? this.tokens.get(token) : undefined;
        return expiresAt !== undefined && expiresAt > Date.now();
      }
    }
  }

  private issueToken(res: http.ServerResponse, rawBody: string): void {
    this.tokenRequests++;
    const form = new URLSearchParams(rawBody);
    const valid =
      form.get('client_id') === this.config.clientId &&
      form.get('client_secret') === this.config.clientSecret &&
      form.get('grant_type') === 'client_credentials' &&
      (form.get('scope') ?? '').split(' ').includes('spectrumapi');
    if (!valid) {
      return send(res, 400, JSON.stringify({ error: 'invalid_client' }), 'application/json');
    }
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, Date.now() + this.config.tokenTtlSeconds * 1000);
    send(
      res,
      200,
      JSON.stringify({ access_token: token, expires_in: this.config.tokenTtlSeconds, token_type: 'Bearer', scope: 'spectrumapi' }),
      'application/json',
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function jobRecord(job: StandInJob | undefined, companyCode: string, error?: StandInMessage): ResponseField[] {
  return [
    ['Company_Code', job ? companyCode : null],
    ['Job_Number', job?.jobNumber ?? null],
    ['Job_Description', job?.description ?? null],
    ['Division', job?.division ?? null],
    ['Address_1', job?.address1 ?? null],
    ['Address_2', null],
    ['City', job?.city ?? null],
    ['State', job?.state ?? null],
    ['Zip_Code', job?.zipCode ?? null],
    ['Project_Manager', job?.projectManager ?? null],
    ['Superintendent', job?.superintendent ?? null],
    ['Estimator', job?.estimator ?? null],
    ['Certified_Flag', job ? 'N' : null],
    ['Customer_Code', job?.customerCode ?? null],
    ['Status_Code', job?.statusCode ?? null],
    ['Work_State_Tax_Code', null],
    ['Contract_Number', job?.contractNumber ?? null],
    ['Cost_Center', job?.costCenter ?? null],
    ...errorFields(error),
  ];
}

function phaseRecord(
  row: StandInPhaseRow | undefined,
  companyCode: string,
  currentField: string,
  enhanced: boolean,
  error?: StandInMessage,
): ResponseField[] {
  const fields: ResponseField[] = [
    ['Company_Code', row ? companyCode : null],
    ['Job_Number', row?.jobNumber ?? null],
    ['Phase_Code', row?.phaseCode ?? null],
    ['Cost_Type', row?.costType ?? null],
    ['Description', row?.description ?? null],
    ['Status_Code', row?.statusCode ?? null],
    ['Unit_of_Measure', row?.unitOfMeasure ?? null],
    ['JTD_Quantity', row ? spectrumDecimal(row.jtdQuantity) : null],
    ['JTD_Hours', row ? spectrumDecimal(row.jtdHours) : null],
    ['JTD_Actual_Dollars', row ? spectrumAmount(row.jtdActualDollars) : null],
    ['Projected_Quantity', row ? spectrumDecimal(row.projectedQuantity) : null],
    ['Projected_Hours', row ? spectrumDecimal(row.projectedHours) : null],
    ['Projected_Dollars', row ? spectrumAmount(row.projectedDollars) : null],
    ['Estimated_Quantity', row ? spectrumDecimal(row.currentEstQuantity) : null],
    ['Estimated_Hours', row ? spectrumDecimal(row.currentEstHours) : null],
    [currentField, row ? spectrumAmount(row.currentEstCost) : null],
    ['Cost_Center', row?.costCenter ?? null],
  ];
  if (enhanced) {
    fields.push(
      ['Price_Method_Code', row?.priceMethodCode ?? null],
      ['Complete_Date', row?.completeDate ?? null],
      ['Start_Date', row?.startDate ?? null],
      ['End_Date', row?.endDate ?? null],
      ['Comment', row?.comment ?? null],
    );
  }
  return [...fields, ...errorFields(error)];
}

/** Clean rows carry a single space in each error field, as real servers answer. */
function errorFields(error?: StandInMessage): ResponseField[] {
  return [
    ['Error_Code', error?.code ?? ' '],
    ['Error_Description', error?.desc ?? ' '],
    ['Error_Column', error?.column ?? ' '],
  ];
}

function matchesRow(fields: Record<string, string>, filter: RowFilter): boolean {
  const same = (value: string | undefined, wanted: string | undefined) => wanted === undefined || (value ?? '').trim() === wanted;
  return (
    same(fields.Job_Number, filter.jobNumber) &&
    same(fields.Phase_Code, filter.phaseCode) &&
    same(fields.Cost_Type, filter.costType)
  );
}

function isService(name: string): name is StandInService {
  return (STAND_IN_SERVICES as readonly string[]).includes(name);
}

function send(res: http.ServerResponse, status: number, body: string, contentType: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
