import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { generateBudgetLines, ProcoreStandIn } from '../stand-ins/procore';
import type { RateLimitConfig } from '../stand-ins/procore';
import { SmtpStandIn } from '../stand-ins/smtp';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { API_NODE_FLAGS, buildConnector, ROOT } from './infra/connector-build';
import { ConnectorProcess } from './infra/connector-process';
import { PrivatePostgres } from './infra/private-postgres';
import { PrivateRedis } from './infra/private-redis';
import { freePort, RunDirectory } from './infra/run-directory';

const run = promisify(execFile);

export const COST_TYPES = ['L', 'M', 'S', 'E', 'O'];
export const WEBHOOK_SECRET = 'chaos-webhook-secret-0123456789abcdef0123';
/** Procore projects are numbered from here; project i's Spectrum job is `CH-<100 + i>`. */
const FIRST_PROJECT_ID = 5001;

export interface LabOptions {
  /** Budgets (one Procore project and Spectrum job each). */
  budgets: number;
  rowsPerBudget: number;
  /** Users who may accept (each gets the daily summary and the re-send emails). */
  approvers: number;
  spectrumConcurrency: number;
  spectrumLatencyMs: number;
  spectrumFaultRate: number;
  seed: number;
  procoreRateLimits?: RateLimitConfig;
  /** Logs of the connector processes and the report go here (kept after the run). */
  outDir: string;
  /** Exit and signal handlers clean up (the CLI); under jest the test's afterAll does. */
  handleSignals?: boolean;
  log?: (line: string) => void;
}

export interface Budget {
  projectId: number;
  projectName: string;
  job: string;
}

/** Features of issue 12 the suite switches its checks on for, as they land (see features in scenario). */
export interface LandedFeatures {
  /** `/metrics` answers Prometheus text. */
  metrics: boolean;
  /** SHUTDOWN_TIMEOUT_MS is a documented variable (graceful shutdown). */
  gracefulShutdown: boolean;
  /** HEALTH_PORT is a documented variable (workers serve /health and, the suite assumes, /metrics there). */
  healthPort: boolean;
  /** In-flight Spectrum calls re-register their permits after a Redis restart before new ones are granted. */
  permitsAcrossRedisRestart: boolean;
  /** Procore's rate-limit state is shared through Redis (no 429 when workers ingest at once). */
  sharedProcoreRateBudget: boolean;
  /** The processes log JSON lines. */
  structuredLogs: boolean;
}

/**
 * The connector as an operator runs it, on one machine, for the chaos suite and the API load
 * benchmark: a private PostgreSQL and Redis, the stand-ins of Procore, Spectrum and SMTP in this
 * process, the connector built once and run as separate `node main.js` processes with APP_ROLE.
 * Only the HTTP API, the CLI, signals and the database are used to drive and observe it.
 */
export class ConnectorLab {
  readonly budgets: Budget[] = [];
  readonly workers = new Map<string, ConnectorProcess>();
  readonly retired: ConnectorProcess[] = [];
  api?: ConnectorProcess;
  apiUrl = '';
  adminToken = '';
  senderToken = '';
  approverEmails: string[] = [];
  private incarnations = new Map<string, number>();
  private pool?: Pool;
  private build!: { main: string; cli: string };
  private healthPorts = new Map<string, number>();

  private constructor(
    readonly options: LabOptions,
    readonly dir: RunDirectory,
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly procore: ProcoreStandIn,
    readonly spectrum: SpectrumStandIn,
    readonly smtp: SmtpStandIn,
    readonly databaseUrl: string,
  ) {}

  static async create(options: LabOptions): Promise<ConnectorLab> {
    const log = options.log ?? (() => undefined);
    const dir = new RunDirectory({ handleSignals: options.handleSignals });
    const stopped: Array<() => Promise<void> | void> = [];
    try {
      mkdirSync(join(options.outDir, 'logs'), { recursive: true });
      log(`building the connector into ${dir.path}/connector …`);
      const build = buildConnector(join(dir.path, 'connector'));

      const postgres = await PrivatePostgres.start(dir.path, await freePort());
      dir.guard(postgres.command('pg_ctl', ['-D', postgres.dataDir, '-m', 'immediate', 'stop']).flat());
      dir.onCleanUp(() => postgres.stopNow());
      const databaseUrl = await postgres.createDatabase('connector');
      log(`private PostgreSQL on port ${postgres.port} (${postgres.dataDir})`);

      const redis = await PrivateRedis.start(await freePort(), dir.path);
      dir.recordPid(redis.pid);
      dir.onCleanUp(() => redis.stopNow());
      log(`private Redis on port ${redis.port}`);

      const procore = new ProcoreStandIn(options.procoreRateLimits ? { rateLimits: options.procoreRateLimits } : {});
      await procore.start();
      stopped.push(() => procore.stop());
      const spectrum = await SpectrumStandIn.start({
        latencyMs: options.spectrumLatencyMs,
        faultRate: options.spectrumFaultRate,
        seed: options.seed,
      });
      stopped.push(() => spectrum.stop());
      const smtp = new SmtpStandIn();
      await smtp.start();
      stopped.push(() => smtp.stop());

      const lab = new ConnectorLab(options, dir, postgres, redis, procore, spectrum, smtp, databaseUrl);
      lab.build = build;
      lab.pool = new Pool({ connectionString: databaseUrl, max: 3 });
      // An idle connection broken by a PostgreSQL restart must not crash the suite.
      lab.pool.on('error', () => undefined);
      dir.onCleanUp(() => {
        for (const process of lab.allProcesses()) process.killNow();
      });
      lab.seedBudgets();
      log(`stand-ins: Procore ${procore.url}, Spectrum ${spectrum.url}, SMTP ${smtp.url}`);
      log((await lab.cli(['migration:up'])).trim());
      await lab.createUsers();
      return lab;
    } catch (error) {
      await Promise.allSettled(stopped.map((stop) => stop()));
      dir.cleanUp();
      throw error;
    }
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  // ---- data ----------------------------------------------------------------------------------

  /** Procore: one project per budget with `rowsPerBudget` distinct lines; Spectrum: its job, empty. */
  private seedBudgets(): void {
    for (let i = 0; i < this.options.budgets; i++) {
      const projectId = FIRST_PROJECT_ID + i;
      const budget = { projectId, projectName: `Chaos Tower ${i + 1}`, job: `CH-${101 + i}` };
      this.procore.addProject({ id: projectId, name: budget.projectName, project_number: budget.job, active: true });
      this.procore.setBudgetLines(projectId, generateBudgetLines(this.options.rowsPerBudget, this.options.seed * 100 + i + 1));
      this.spectrum.addJob({ jobNumber: budget.job, description: budget.projectName, statusCode: 'A' });
      this.budgets.push(budget);
    }
    for (const code of COST_TYPES) this.spectrum.addCostType(code);
  }

  /** Approvers (the first an admin) and the project manager who sends, through the CLI. */
  private async createUsers(): Promise<void> {
    for (let i = 1; i <= this.options.approvers; i++) {
      const email = `approver${i}@chaos.example`;
      const output = await this.cli([
        'users:create',
        '--email',
        email,
        '--name',
        `Approver ${i}`,
        '--permission',
        i === 1 ? 'admin' : 'standard',
        '--can-push-to-accounting',
      ]);
      if (i === 1) this.adminToken = lastLine(output);
      this.approverEmails.push(email);
    }
    this.senderToken = lastLine(await this.cli(['users:create', '--email', 'pm@chaos.example', '--name', 'Project Manager', '--permission', 'standard']));
  }

  // ---- the connector's processes -------------------------------------------------------------

  /** The environment every connector process gets (APP_ROLE set per process). */
  env(role: 'api' | 'worker', extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      // The build lives outside the repository (see buildConnector): its packages are the repository's.
      NODE_PATH: join(ROOT, 'node_modules'),
      NODE_ENV: 'production',
      APP_ROLE: role,
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      PUBLIC_URL: 'http://connector.chaos.example',
      ...this.procore.environment(),
      PROCORE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      PROCORE_PROJECT_IDS: this.budgets.map((budget) => budget.projectId).join(','),
      // No polling sweep during the run: budgets arrive by explicit sends only.
      POLL_CRON: '0 0 1 1 *',
      SPECTRUM_URL: this.spectrum.url,
      SPECTRUM_AUTHORIZATION_ID: this.spectrum.options.authorizationId,
      SPECTRUM_COMPANY_CODE: this.spectrum.options.companyCode,
      SPECTRUM_CONCURRENCY: String(this.options.spectrumConcurrency),
      SPECTRUM_TIMEOUT_MS: '20000',
      SMTP_URL: this.smtp.url,
      MAIL_FROM: 'Chaos Connector <connector@chaos.example>',
      // The shortest the connector allows: pending work without a live job is re-enqueued after a minute.
      STUCK_AFTER_MINUTES: '1',
      ...extra,
    };
  }

  async startApi(extra: Record<string, string> = {}): Promise<void> {
    const port = await freePort();
    this.apiUrl = `http://127.0.0.1:${port}`;
    const api = new ConnectorProcess('api', this.build.main, this.env('api', { PORT: String(port), ...extra }), this.logDir, this.dir.path, API_NODE_FLAGS);
    this.dir.recordPid(api.pid);
    this.api = api;
    await api.waitReady(async () => (await fetch(`${this.apiUrl}/health`)).status === 200);
  }

  /** Starts (or restarts) worker `slot`, e.g. `worker-2`; resolves at once, `ready` when it takes jobs. */
  async startWorker(slot: string, features: LandedFeatures, extra: Record<string, string> = {}): Promise<{ process: ConnectorProcess; ready: Promise<void> }> {
    const incarnation = (this.incarnations.get(slot) ?? 0) + 1;
    this.incarnations.set(slot, incarnation);
    const env = this.env('worker', extra);
    if (features.healthPort) {
      const port = await freePort();
      this.healthPorts.set(slot, port);
      env.HEALTH_PORT = String(port);
    }
    const worker = new ConnectorProcess(`${slot}.${incarnation}`, this.build.main, env, this.logDir, this.dir.path);
    this.dir.recordPid(worker.pid);
    const previous = this.workers.get(slot);
    if (previous) this.retired.push(previous);
    this.workers.set(slot, worker);
    // "Worker started" is what the worker logs once its queues and schedules run (src/main.ts).
    const ready = worker.waitReady(async () => /Worker started/.test(worker.output()));
    ready.catch(() => undefined);
    return { process: worker, ready };
  }

  /** Where worker `slot` serves /health and /metrics, when HEALTH_PORT has landed. */
  healthPortOf(slot: string): number | undefined {
    return this.healthPorts.get(slot);
  }

  allProcesses(): ConnectorProcess[] {
    return [...(this.api ? [this.api] : []), ...this.workers.values(), ...this.retired];
  }

  get logDir(): string {
    return join(this.options.outDir, 'logs');
  }

  /** Every process, SIGTERM then SIGKILL after 15 s. */
  async stopProcesses(): Promise<void> {
    const live = this.allProcesses().filter((p) => p.alive);
    for (const p of live) p.signal('SIGTERM');
    await Promise.all(live.map((p) => p.waitExit(15_000)));
  }

  // ---- talking to it -------------------------------------------------------------------------

  /** The connector's CLI (`node cli.js …`) with the workers' environment; its stdout. */
  async cli(args: string[]): Promise<string> {
    try {
      const { stdout } = await run(process.execPath, [this.build.cli, ...args], { cwd: this.dir.path, env: this.env('worker') });
      return stdout;
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`cli ${args.join(' ')} failed: ${failure.stderr || failure.stdout || failure.message}`);
    }
  }

  async call(method: string, path: string, body?: unknown, token = this.adminToken): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: response.status, body: parsed };
  }

  /** One query on the private database (a small pool that survives PostgreSQL restarts). */
  async query<T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool!.query<T>(text, params)).rows;
  }

  /** What issue 12's features look like from outside, today (see LandedFeatures). */
  async detectFeatures(): Promise<LandedFeatures> {
    const example = readFileSync(join(ROOT, 'config', 'connector.env.example'), 'utf8');
    const documented = (name: string) => new RegExp(`^#?\\s*${name}=`, 'm').test(example);
    let metrics = false;
    if (this.apiUrl) {
      const scraped = await this.call('GET', '/metrics').catch(() => null);
      metrics = scraped?.status === 200 && typeof scraped.body === 'string' && scraped.body.includes('# TYPE');
    }
    const firstLine = (this.api?.output() ?? '').split('\n').find((line) => line.trim()) ?? '';
    return {
      metrics,
      gracefulShutdown: documented('SHUTDOWN_TIMEOUT_MS'),
      healthPort: documented('HEALTH_PORT'),
      // Not visible from outside: the ops engineer switches it on here when it lands (NOTES.md).
      permitsAcrossRedisRestart: PERMITS_ACROSS_REDIS_RESTART_LANDED,
      sharedProcoreRateBudget: SHARED_PROCORE_RATE_BUDGET_LANDED,
      structuredLogs: isJson(firstLine),
    };
  }

  async close(): Promise<void> {
    await this.stopProcesses().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await Promise.allSettled([this.procore.stop(), this.spectrum.stop(), this.smtp.stop()]);
    await this.redis.down().catch(() => undefined);
    this.dir.cleanUp();
  }
}

/**
 * Issue 12 features the suite cannot see from outside. Whoever lands one sets it true: the chaos
 * suite then enforces the checks that depend on it (the cap across a Redis restart; no Procore 429
 * when three workers ingest at once).
 */
export const PERMITS_ACROSS_REDIS_RESTART_LANDED = true;
export const SHARED_PROCORE_RATE_BUDGET_LANDED = true;

function lastLine(output: string): string {
  return output.trim().split('\n').pop()!.trim();
}

function isJson(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

