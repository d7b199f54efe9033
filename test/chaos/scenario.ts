import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ChaosEvent,
  CheckResult,
  checkAllSynced,
  checkCap,
  checkEmails,
  checkNoPendingWork,
  checkNoResendAfterCommit,
  checkSpectrumExact,
  classifyResends,
  concurrencyProfile,
  EmailSummary,
  EventKind,
  ExemptWindow,
  gated,
  LedgerRow,
  NotificationRecord,
  ReceivedEmail,
  ResendSummary,
  rowKey,
  SpectrumCall,
  SpectrumRow,
} from './checks';
import { ConnectorLab, LabOptions, LandedFeatures } from './lab';
import { ConnectorProcess } from './infra/connector-process';
import { pidsOwningLocalPorts } from './infra/process-sockets';
import { timelineSvg } from './timeline-svg';
import type { RateLimitConfig } from '../stand-ins/procore';

/**
 * The chaos scenario of issue 12: one API and several worker processes of the built connector on
 * one PostgreSQL and one Redis; budgets sent, some rejected and sent again, the daily summary run,
 * all accepted and exported at once through a slow, faulty Spectrum stand-in — while workers are
 * SIGKILLed and restarted every few seconds, one is stopped gracefully (SIGTERM), Redis and
 * PostgreSQL are restarted and SMTP is down for a while. Then the end state is checked (checks.ts)
 * and a report with a timeline picture is written.
 *
 * Outages are triggered by progress (the share of rows Spectrum has applied), not by the clock, so
 * they land mid-export on a fast or a slow machine alike.
 */
export interface ChaosOptions {
  label: string;
  budgets: number;
  rowsPerBudget: number;
  /** Budgets rejected once and sent again (changed) before all are accepted. */
  rejectAndResend: number;
  approvers: number;
  workers: number;
  spectrumConcurrency: number;
  spectrumLatencyMs: number;
  spectrumFaultRate: number;
  seed: number;
  /** A worker is SIGKILLed this often, from the first send (or the first accept) on … */
  killEveryMs: number;
  killFrom: 'send' | 'accept';
  /** … until this share of the rows is in Spectrum, or this many kills. */
  killUntil: number;
  maxKills: number;
  /** A killed worker is started again after this long. */
  restartAfterMs: number;
  /**
   * When Redis is restarted (empty): at a share of the rows in Spectrum, or right before the
   * second accept — new exports then ask for permits while the running ones still hold theirs — or
   * never (null).
   */
  redisRestartAt: number | 'before-second-accept' | null;
  redisDownMs: number;
  pgRestartAt: number | null;
  pgDownMs: number;
  /** A worker gets SIGTERM at this share (graceful stop), or null. */
  termAt: number | null;
  /** SMTP is down from before the first email until this share of the rows is in Spectrum. */
  smtpUpAt: number;
  /** SHUTDOWN_TIMEOUT_MS given to the workers (once graceful shutdown has landed). */
  shutdownTimeoutMs: number;
  procoreRateLimits?: RateLimitConfig;
  /** The whole run (sends to settled) must end within this. */
  timeoutMs: number;
}

export const FULL_RUN: ChaosOptions = {
  label: 'full',
  budgets: 10,
  rowsPerBudget: 2_000,
  rejectAndResend: 3,
  approvers: 5,
  workers: 3,
  spectrumConcurrency: 8,
  spectrumLatencyMs: 30,
  spectrumFaultRate: 0.1,
  seed: 12,
  killEveryMs: 6_000,
  killFrom: 'send',
  killUntil: 0.85,
  maxKills: 30,
  restartAfterMs: 1_000,
  redisRestartAt: 'before-second-accept',
  redisDownMs: 3_000,
  pgRestartAt: 0.55,
  pgDownMs: 4_000,
  // Past the seven first budgets' 70 %: while the resent three export. At 0.7 it could fall in the
  // lull between the two accepts (the second waits for every email, retried after SMTP's outage).
  termAt: 0.8,
  smtpUpAt: 0.1,
  shutdownTimeoutMs: 10_000,
  procoreRateLimits: { spike: { limit: 60, windowSeconds: 10 } },
  timeoutMs: 25 * 60_000,
};

/** The variant `npm test` runs: every kind of fault, on a budget size two cores finish quickly. */
export const CI_RUN: ChaosOptions = {
  ...FULL_RUN,
  label: 'ci',
  budgets: 3,
  rowsPerBudget: 400,
  rejectAndResend: 1,
  approvers: 3,
  spectrumConcurrency: 4,
  killEveryMs: 10_000,
  killFrom: 'accept',
  killUntil: 0.8,
  maxKills: 3,
  pgRestartAt: 0.3,
  termAt: 0.45,
  smtpUpAt: 0.05,
  procoreRateLimits: { spike: { limit: 30, windowSeconds: 10 } },
  timeoutMs: 9 * 60_000,
};

export interface ChaosResult {
  options: ChaosOptions;
  outDir: string;
  features: LandedFeatures;
  checks: CheckResult[];
  events: ChaosEvent[];
  figures: Record<string, number | string>;
  resends: ResendSummary;
  emails: EmailSummary;
  /** Every email the SMTP stand-in received: notification id, ms since the start, subject. */
  inbox: Array<{ notificationId: string | null; at: number; subject: string }>;
  /** True when no enforced check failed. */
  ok: boolean;
}

interface GracefulStop {
  slot: string;
  /** Spectrum calls the worker had in flight when it got SIGTERM. */
  callsInFlight: number;
  ms: number;
  forced: boolean;
  econnreset: boolean;
}

const terminal = ['synced', 'out_of_sync', 'failed_to_export', 'rejected', 'ingest_failed', 'retrieved', 'superseded'];

export async function runChaos(options: ChaosOptions, run: { outDir: string; log?: (line: string) => void; handleSignals?: boolean }): Promise<ChaosResult> {
  const log = run.log ?? (() => undefined);
  const labOptions: LabOptions = {
    budgets: options.budgets,
    rowsPerBudget: options.rowsPerBudget,
    approvers: options.approvers,
    spectrumConcurrency: options.spectrumConcurrency,
    spectrumLatencyMs: options.spectrumLatencyMs,
    spectrumFaultRate: options.spectrumFaultRate,
    seed: options.seed,
    procoreRateLimits: options.procoreRateLimits,
    outDir: run.outDir,
    handleSignals: run.handleSignals,
    log,
  };
  const lab = await ConnectorLab.create(labOptions);
  const chaos = new ChaosRun(lab, options, run.outDir, log);
  try {
    return await chaos.execute();
  } finally {
    chaos.stopTimers();
    await lab.close();
  }
}

class ChaosRun {
  private readonly events: ChaosEvent[] = [];
  private readonly random: () => number;
  private features!: LandedFeatures;
  private start = Date.now();
  private chaosOn = false;
  private killTimer?: NodeJS.Timeout;
  private monitorTimer?: NodeJS.Timeout;
  private readonly stopping = new Set<string>();
  private readonly busy: Promise<unknown>[] = [];
  private readonly fired = new Set<string>();
  private readonly appliedRows = new Set<string>();
  private appliedSeen = 0;
  private readonly gracefulStops: GracefulStop[] = [];
  private readonly scrapes = new Map<string, string>();
  private scrapeTimer?: NodeJS.Timeout;
  private finalIds: string[] = [];

  constructor(
    private readonly lab: ConnectorLab,
    private readonly options: ChaosOptions,
    private readonly outDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.random = mulberry32(options.seed);
  }

  private event(kind: EventKind, target?: string, detail?: string): void {
    this.events.push({ at: Date.now(), kind, target, detail });
    this.log(`[${((Date.now() - this.start) / 1000).toFixed(1).padStart(6)} s] ${kind}${target ? ` ${target}` : ''}${detail ? ` — ${detail}` : ''}`);
  }

  get totalRows(): number {
    return this.options.budgets * this.options.rowsPerBudget;
  }

  /** Share of the rows Spectrum has applied at least once. */
  private progress(): number {
    const applied = this.lab.spectrum.appliedAddPhases;
    for (; this.appliedSeen < applied.length; this.appliedSeen++) {
      const a = applied[this.appliedSeen];
      this.appliedRows.add(rowKey(a.jobNumber, a.phaseCode, a.costType));
    }
    return this.appliedRows.size / this.totalRows;
  }

  private workerEnv(): Record<string, string> {
    return this.features.gracefulShutdown ? { SHUTDOWN_TIMEOUT_MS: String(this.options.shutdownTimeoutMs) } : {};
  }

  async execute(): Promise<ChaosResult> {
    const { lab, options } = this;
    this.start = Date.now();
    await lab.startApi();
    this.features = await lab.detectFeatures();
    const starts = [];
    for (let i = 1; i <= options.workers; i++) starts.push((await lab.startWorker(`worker-${i}`, this.features, this.workerEnv())).ready);
    await Promise.all(starts);
    this.features = await lab.detectFeatures();
    this.log(`features landed: ${Object.entries(this.features).map(([name, on]) => `${name} ${on ? 'yes' : 'no'}`).join(', ')}`);
    this.startScraping();

    await lab.smtp.down();
    this.event('smtp-down');
    this.chaosOn = true;
    this.monitorTimer = setInterval(() => this.monitor(), 200);
    if (options.killFrom === 'send') this.startKilling();

    // Every budget sent at once; some rejected (their project managers get an email) …
    const deadline = this.start + options.timeoutMs;
    const sent = await this.sendAll(lab.budgets.map((b) => b.projectId));
    this.event('send', undefined, `${sent.length} budgets`);
    await this.waitStatus(sent, ['ready_to_export'], deadline);
    const toReject = sent.slice(0, options.rejectAndResend);
    for (const id of toReject) {
      await this.retrying(
        `reject of ${id}`,
        () => lab.call('POST', `/api/v1/budgets/${id}/reject`, { reason: 'Chaos check: the contingency line is double counted; fix and send again.' }),
        async (answer) => answer.status === 200 || (answer.status === 409 && (await this.statuses([id])).get(id) === 'rejected'),
      );
    }
    if (toReject.length) this.event('reject', undefined, `${toReject.length}`);

    // … the others accepted at once: the exports (and the outages, by progress) begin …
    const firstAccepted = sent.slice(options.rejectAndResend);
    await this.acceptAll(firstAccepted);
    if (options.killFrom === 'accept') this.startKilling();

    // … meanwhile the rejected ones are fixed and sent again (the approvers get an email each), the
    // daily summary goes out while SMTP is still down, and once those emails are out they are accepted too.
    const resentProjects = lab.budgets.slice(0, options.rejectAndResend).map((b) => b.projectId);
    for (const projectId of resentProjects) this.changeBudget(projectId);
    const resent = await this.sendAll(resentProjects);
    this.finalIds = [...firstAccepted, ...resent];
    if (resent.length) {
      this.event('resend', undefined, `${resent.length}`);
      await this.waitStatus(resent, ['ready_to_export'], deadline);
      this.log((await this.cliRetrying(['jobs:run', 'daily-summary'])).trim());
      this.event('daily-summary');
      await this.waitEmailsOut(deadline);
      if (options.redisRestartAt === 'before-second-accept') {
        this.fired.add('redis');
        await this.restartRedis();
      }
      await this.acceptAll(resent);
    }
    let timedOut = false;
    try {
      await this.waitStatus(this.finalIds, terminal, deadline);
      this.event('synced');
    } catch (error) {
      timedOut = true;
      this.log(`not every budget finished: ${(error as Error).message}`);
    }
    await this.endChaos();
    const leftovers = timedOut ? await this.leftovers() : await this.waitSettled(deadline);
    this.event('settled');
    clearInterval(this.scrapeTimer);
    return this.conclude(leftovers);
  }

  // ---- driving the connector -----------------------------------------------------------------

  stopTimers(): void {
    this.chaosOn = false;
    clearInterval(this.killTimer);
    clearInterval(this.monitorTimer);
    clearInterval(this.scrapeTimer);
  }

  /**
   * An API call as a careful client makes it: answered 5xx or not at all (PostgreSQL or the API
   * restarting), it is asked again; `done` says whether an answer is the one wanted.
   */
  private async retrying(what: string, call: () => Promise<{ status: number; body: any }>, done: (answer: { status: number; body: any }) => Promise<boolean> | boolean): Promise<{ status: number; body: any }> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const answer = await call().catch((error: Error) => ({ status: 0, body: error.message }));
      if (await Promise.resolve(done(answer)).catch(() => false)) return answer;
      if (answer.status > 0 && answer.status < 500) throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      if (Date.now() > deadline) throw new Error(`${what} kept failing: ${answer.status} ${JSON.stringify(answer.body)}`);
      this.log(`${what} answered ${answer.status || 'nothing'}; asking again`);
      await sleep(1_000);
    }
  }

  private async cliRetrying(args: string[]): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.lab.cli(args);
      } catch (error) {
        if (attempt >= 30) throw error;
        this.log(`${(error as Error).message.split('\n')[0]}; running it again`);
        await sleep(2_000);
      }
    }
  }

  private startKilling(): void {
    this.killTimer = setInterval(() => this.killOne(), this.options.killEveryMs);
  }

  private async acceptAll(ids: string[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        this.retrying(
          `accept of ${id}`,
          () => this.lab.call('POST', `/api/v1/budgets/${id}/accept`),
          // A 409 after a lost answer: the first accept went through if the budget is past ready_to_export.
          async (answer) => answer.status === 202 || (answer.status === 409 && (await this.statuses([id])).get(id) !== 'ready_to_export'),
        ),
      ),
    );
    this.event('accept', undefined, `${ids.length} budgets`);
  }

  /** Until no email is pending (each sent, or closed): what awaits acceptance has been announced. */
  private async waitEmailsOut(deadline: number): Promise<void> {
    for (;;) {
      const pending = await this.lab.query<{ count: string }>(`select count(*)::text as count from notification where state = 'pending'`).catch(() => [{ count: '1' }]);
      if (pending[0].count === '0') return;
      if (Date.now() > deadline) throw new Error('timed out waiting for the emails to go out');
      await sleep(500);
    }
  }

  private async sendAll(projectIds: number[]): Promise<string[]> {
    return Promise.all(
      projectIds.map(async (projectId) => {
        const answer = await this.retrying(
          `send of project ${projectId}`,
          () => this.lab.call('POST', '/api/v1/budgets', { procoreProjectId: String(projectId) }, this.lab.senderToken),
          (a) => a.status === 202 && !!a.body?.id,
        );
        return String(answer.body.id);
      }),
    );
  }

  /** The project manager fixes the budget in Procore: five lines change amounts. */
  private changeBudget(projectId: number): void {
    const lines = this.lab.procore.budgetLines(projectId).slice(0, 5);
    lines.forEach((line, i) => this.lab.procore.updateBudgetLine(line.id, { originalBudget: `${1000 + i * 137}.${String(10 + i).padStart(2, '0')}` }));
  }

  private async statuses(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.lab.query<{ id: string; status: string }>(`select id::text, status from submission where id = any($1::bigint[])`, [ids]);
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** Waits until every submission is in one of `wanted`; stops early on an unexpected end state. */
  private async waitStatus(ids: string[], wanted: string[], deadline: number): Promise<void> {
    let last = new Map<string, string>();
    for (;;) {
      try {
        last = await this.statuses(ids);
      } catch {
        // PostgreSQL restarting: ask again
      }
      if (ids.every((id) => wanted.includes(last.get(id) ?? ''))) return;
      const stuck = ids.filter((id) => terminal.includes(last.get(id) ?? '') && !wanted.includes(last.get(id)!));
      if (stuck.length) throw new Error(`submission(s) ${stuck.map((id) => `${id} ${last.get(id)}`).join(', ')} instead of ${wanted.join('/')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${wanted.join('/')}: ${[...last].map(([id, s]) => `${id} ${s}`).join(', ')}`);
      await sleep(250);
    }
  }

  // ---- chaos ---------------------------------------------------------------------------------

  private monitor(): void {
    if (!this.chaosOn) return;
    const share = this.progress();
    const once = (name: string, at: number | null, action: () => Promise<void>) => {
      if (at === null || share < at || this.fired.has(name)) return;
      this.fired.add(name);
      this.busy.push(action().catch((error: Error) => this.log(`${name} failed: ${error.message}`)));
    };
    once('smtp-up', this.options.smtpUpAt, async () => {
      await this.lab.smtp.up();
      this.event('smtp-up');
    });
    const redisAt = this.options.redisRestartAt;
    once('redis', typeof redisAt === 'number' ? redisAt : null, () => this.restartRedis());
    once('pg', this.options.pgRestartAt, async () => {
      this.event('pg-down');
      await this.lab.postgres.down('immediate');
      await sleep(this.options.pgDownMs);
      await this.lab.postgres.up();
      this.event('pg-up');
    });
    once('term', this.options.termAt, () => this.stopGracefully());
    if (share >= this.options.killUntil) clearInterval(this.killTimer);
    const outagesOver = ['smtp-up', 'redis', 'pg', 'term'].every((name) => this.fired.has(name) || this.optionOff(name));
    if (outagesOver && (share >= this.options.killUntil || this.kills >= this.options.maxKills)) void this.endChaos();
  }

  private async restartRedis(): Promise<void> {
    this.event('redis-down');
    await this.lab.redis.down();
    await sleep(this.options.redisDownMs);
    await this.lab.redis.up();
    this.lab.dir.recordPid(this.lab.redis.pid);
    this.event('redis-up');
  }

  private optionOff(name: string): boolean {
    const at = { 'smtp-up': this.options.smtpUpAt, redis: this.options.redisRestartAt, pg: this.options.pgRestartAt, term: this.options.termAt }[name];
    if (at === 'before-second-accept') return this.options.rejectAndResend === 0;
    return at === null || at === undefined;
  }

  private aliveSlots(): string[] {
    return [...this.lab.workers].filter(([slot, p]) => p.alive && !this.stopping.has(slot)).map(([slot]) => slot);
  }

  private kills = 0;

  /** Live workers with Spectrum calls in flight right now, with how many (by their TCP connections). */
  private workersCallingSpectrum(): Map<string, number> {
    const inFlight = this.lab.spectrum.recorded.slice(-300).filter((r) => r.service && r.finishedAt === undefined && r.remotePort);
    const calling = new Map<string, number>();
    if (!inFlight.length) return calling;
    const pidToSlot = new Map(this.aliveSlots().map((slot) => [this.lab.workers.get(slot)!.pid, slot]));
    const owners = pidsOwningLocalPorts(
      inFlight.map((r) => r.remotePort!),
      [...pidToSlot.keys()],
    );
    for (const request of inFlight) {
      const slot = pidToSlot.get(owners.get(request.remotePort!) ?? -1);
      if (slot) calling.set(slot, (calling.get(slot) ?? 0) + 1);
    }
    return calling;
  }

  private killOne(): void {
    if (!this.chaosOn) return;
    if (this.kills >= this.options.maxKills) return clearInterval(this.killTimer);
    this.kills++;
    const slots = this.aliveSlots();
    if (!slots.length) return;
    // Every other kill (on average) hits a worker in the middle of its Spectrum calls, when one is.
    const calling = [...this.workersCallingSpectrum().keys()];
    const pool = calling.length && this.random() < 0.5 ? calling : slots;
    const slot = pool[Math.floor(this.random() * pool.length)];
    const worker = this.lab.workers.get(slot)!;
    this.stopping.add(slot);
    worker.signal('SIGKILL');
    this.event('kill', slot, `pid ${worker.pid}`);
    this.busy.push(
      (async () => {
        await worker.waitExit(10_000);
        await sleep(this.options.restartAfterMs);
        await this.restart(slot);
      })(),
    );
  }

  private async restart(slot: string): Promise<void> {
    const { process } = await this.lab.startWorker(slot, this.features, this.workerEnv());
    this.stopping.delete(slot);
    this.event('restart', slot, `pid ${process.pid}`);
  }

  /** SIGTERM to a worker mid-export: how long it takes to exit, and what it says on the way. */
  private async stopGracefully(): Promise<void> {
    // The worker with the most Spectrum calls in flight (waiting up to 30 s for one to have any).
    let calling = this.workersCallingSpectrum();
    for (const until = Date.now() + 30_000; !calling.size && Date.now() < until; calling = this.workersCallingSpectrum()) await sleep(50);
    const busiest = [...calling].sort((a, b) => b[1] - a[1])[0];
    const slots = this.aliveSlots();
    if (!busiest && !slots.length) return;
    const slot = busiest?.[0] ?? slots[Math.floor(this.random() * slots.length)];
    const callsInFlight = busiest?.[1] ?? 0;
    const worker = this.lab.workers.get(slot)!;
    this.stopping.add(slot);
    const sentAt = Date.now();
    worker.signal('SIGTERM');
    this.event('term', slot, `pid ${worker.pid}, ${callsInFlight} Spectrum call(s) in flight`);
    const limit = this.features.gracefulShutdown ? this.options.shutdownTimeoutMs + 5_000 : 60_000;
    const exit = await worker.waitExit(limit);
    const ms = exit.at - sentAt;
    const text = readFileSync(worker.logPath, 'utf8');
    const stop = { slot, callsInFlight, ms, forced: exit.forced, econnreset: /ECONNRESET|socket hang up/i.test(text) };
    this.gracefulStops.push(stop);
    this.event('exit', slot, `${ms} ms${exit.forced ? ', SIGKILLed after waiting' : ''}${stop.econnreset ? ', ECONNRESET in its log' : ''}`);
    await sleep(this.options.restartAfterMs);
    await this.restart(slot);
  }

  private ending?: Promise<void>;

  /** Stops the kills and ends every outage; resolves once every restarted process is started. */
  private endChaos(): Promise<void> {
    return (this.ending ??= this.finishChaos());
  }

  private async finishChaos(): Promise<void> {
    this.chaosOn = false;
    clearInterval(this.killTimer);
    clearInterval(this.monitorTimer);
    this.event('chaos-end', undefined, `${Math.round(this.progress() * 100)} % of rows in Spectrum`);
    // Outages not yet over end now; processes being restarted are up before the checks.
    if (!this.fired.has('smtp-up')) {
      this.fired.add('smtp-up');
      await this.lab.smtp.up();
      this.event('smtp-up');
    }
    while (this.busy.length) await Promise.allSettled(this.busy.splice(0));
  }

  // ---- metrics -------------------------------------------------------------------------------

  /** Scrapes /metrics of the API (and of each worker's HEALTH_PORT) every 2 s once it exists. */
  private startScraping(): void {
    const scrape = async () => {
      const targets: Array<[string, string]> = [['api', `${this.lab.apiUrl}/metrics`]];
      for (const [slot, worker] of this.lab.workers) {
        const port = this.lab.healthPortOf(slot);
        if (port && worker.alive) targets.push([worker.name, `http://127.0.0.1:${port}/metrics`]);
      }
      await Promise.all(
        targets.map(async ([name, url]) => {
          const response = await fetch(url, { headers: { authorization: `Bearer ${this.lab.adminToken}` } }).catch(() => null);
          if (response?.status === 200) this.scrapes.set(name, await response.text());
        }),
      );
    };
    this.scrapeTimer = setInterval(() => void scrape(), 2_000);
  }

  /** Sums every sample whose metric name matches (counters of all processes scraped last). */
  private metricTotal(pattern: RegExp): number | null {
    let total: number | null = null;
    for (const text of this.scrapes.values()) {
      for (const line of text.split('\n')) {
        const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!match || !pattern.test(match[1]) || /_(bucket|sum|count)$/.test(match[1])) continue;
        total = (total ?? 0) + Number(match[3]);
      }
    }
    return total;
  }

  // ---- the end -------------------------------------------------------------------------------

  private async leftovers(): Promise<{ pendingWork: string[]; pendingNotifications: number }> {
    const work = await this.lab.query<{ id: string; job_name: string; payload: unknown; last_error: string | null; attempts: number }>(
      `select id::text, job_name, payload, last_error, attempts from pending_work where state = 'pending' order by id`,
    );
    const [{ count }] = await this.lab.query<{ count: string }>(`select count(*)::text as count from notification where state = 'pending'`);
    return {
      pendingWork: work.map((w) => `#${w.id} ${w.job_name} ${JSON.stringify(w.payload)} after ${w.attempts} attempt(s)${w.last_error ? `: ${w.last_error.slice(0, 200)}` : ''}`),
      pendingNotifications: Number(count),
    };
  }

  /** Waits (no chaos now) until no work and no email is pending; returns what is left at the end. */
  private async waitSettled(deadline: number): Promise<{ pendingWork: string[]; pendingNotifications: number }> {
    let last = await this.leftovers();
    while (last.pendingWork.length || last.pendingNotifications) {
      if (Date.now() > deadline) return last;
      await sleep(500);
      last = await this.leftovers().catch(() => last);
    }
    return last;
  }

  private async conclude(leftovers: { pendingWork: string[]; pendingNotifications: number }): Promise<ChaosResult> {
    const { lab, options } = this;
    const end = Date.now();
    const submissions = await lab.query<{ id: string; project: string; status: string }>(
      `select id::text, project_name as project, status from submission where id = any($1::bigint[]) order by id`,
      [this.finalIds],
    );
    const ledger = (
      await lab.query<{ submission_id: string; job: string; phase: string; cost_type: string; original: string; revised: string; export_state: string; committed_at: number | null }>(
        `select r.submission_id::text, coalesce(r.job, s.job) as job, r.phase, r.cost_type, r.original_budget::text as original,
                r.revised_estimate::text as revised, r.export_state,
                extract(epoch from pg_xact_commit_timestamp(r.xmin)) * 1000 as committed_at
           from submission_row r join submission s on s.id = r.submission_id
          where r.submission_id = any($1::bigint[])`,
        [this.finalIds],
      )
    ).map(
      (r): LedgerRow => ({
        submissionId: r.submission_id,
        row: rowKey(r.job, r.phase, r.cost_type),
        original: r.original,
        revised: r.revised,
        state: r.export_state,
        committedAt: r.committed_at === null ? null : Number(r.committed_at),
      }),
    );
    const spectrumRows: SpectrumRow[] = lab.spectrum.listPhases().map((p) => ({
      row: rowKey(p.jobNumber, p.phaseCode, p.costType),
      original: p.originalEstCost,
      current: p.currentEstCost,
    }));
    const calls: SpectrumCall[] = lab.spectrum.recorded
      .filter((r) => r.service)
      .map((r) => ({
        seq: r.seq,
        at: r.at,
        finishedAt: r.finishedAt ?? null,
        service: r.service!,
        outcome: r.outcome ?? 'unanswered',
        concurrent: r.concurrent ?? 0,
        row: r.service === 'AddPhase' ? rowKey(r.fields.Job_Number ?? '', r.fields.Phase_Code ?? '', r.fields.Cost_Type ?? '') : undefined,
      }));
    const notifications: NotificationRecord[] = (
      await lab.query<{ id: string; kind: string; recipient_email: string; state: string; last_error: string | null; committed_at: number | null }>(
        `select id::text, kind, recipient_email, state, last_error, extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000 as committed_at
           from notification order by id`,
      )
    ).map((n) => ({
      id: n.id,
      kind: n.kind,
      recipient: n.recipient_email,
      state: n.state,
      error: n.last_error,
      committedAt: n.committed_at === null ? null : Number(n.committed_at),
    }));
    const received: ReceivedEmail[] = lab.smtp.messages.map((m) => ({
      notificationId: m.headers['x-connector-notification-id'] ?? null,
      receivedAt: m.receivedAt.getTime(),
      subject: m.subject,
    }));

    const windows: ExemptWindow[] = [];
    const at = (kind: EventKind, after = 0) => this.events.find((e) => e.kind === kind && e.at >= after);
    const redisDown = at('redis-down');
    if (redisDown) {
      const up = at('redis-up', redisDown.at);
      // Until every permit granted before the restart has ended its lease (30 s) or been re-registered.
      windows.push({ name: 'Redis restart', from: redisDown.at, to: (up?.at ?? end) + 35_000, feature: 'permits re-registered across a Redis restart', landed: this.features.permitsAcrossRedisRestart });
    }
    for (const term of this.events.filter((e) => e.kind === 'term')) {
      const exit = this.events.find((e) => e.kind === 'exit' && e.target === term.target && e.at >= term.at);
      windows.push({ name: 'graceful stop', from: term.at, to: (exit?.at ?? end) + 1_000, feature: 'graceful shutdown', landed: this.features.gracefulShutdown });
    }

    const resends = classifyResends(calls, this.events);
    const emails = checkEmails(notifications, received, this.events);
    const checks: CheckResult[] = [
      checkAllSynced(submissions),
      checkSpectrumExact(ledger, spectrumRows),
      checkNoResendAfterCommit(ledger, calls),
      checkCap(calls, options.spectrumConcurrency, windows),
      emails.check,
      checkNoPendingWork(leftovers),
      ...this.featureChecks(calls, resends),
    ];

    const profile = concurrencyProfile(calls, this.start);
    const seconds = Math.ceil((end - this.start) / 1000) + 1;
    const perSecond = (times: number[]) => {
      const series = Array<number>(seconds).fill(0);
      for (const t of times) {
        const s = Math.floor((t - this.start) / 1000);
        if (s >= 0 && s < seconds) series[s]++;
      }
      return series;
    };
    const faults = calls.filter((c) => c.outcome === 'fault');
    const figures: Record<string, number | string> = {
      'run (s)': Math.round((end - this.start) / 100) / 10,
      'exporting, first accept to all synced (s)': seconds && at('synced') && at('accept') ? Math.round((at('synced')!.at - at('accept')!.at) / 100) / 10 : 'n/a',
      budgets: options.budgets,
      'rows per budget': options.rowsPerBudget,
      'worker processes': options.workers,
      'SPECTRUM_CONCURRENCY': options.spectrumConcurrency,
      'Spectrum latency (ms)': options.spectrumLatencyMs,
      'Spectrum fault rate': options.spectrumFaultRate,
      'SOAP calls': calls.length,
      'AddPhase calls': calls.filter((c) => c.service === 'AddPhase').length,
      'faults injected': faults.length,
      'rows applied more than once (before their commit)': resends.rows,
      'worker SIGKILLs': this.events.filter((e) => e.kind === 'kill').length,
      'worker restarts': this.events.filter((e) => e.kind === 'restart').length,
      'graceful stops': this.gracefulStops.map((s) => `${s.slot} with ${s.callsInFlight} call(s) in flight exited after ${s.ms} ms${s.forced ? ' (SIGKILLed)' : ''}${s.econnreset ? ', ECONNRESET' : ''}`).join('; ') || 'none',
      'Redis restarts': this.events.filter((e) => e.kind === 'redis-down').length,
      'PostgreSQL restarts': this.events.filter((e) => e.kind === 'pg-down').length,
      'SMTP outage (s)': durationOf(this.events, 'smtp-down', 'smtp-up'),
      'peak calls in flight': profile.peak,
      notifications: emails.summary.notifications,
      'emails received': emails.summary.received,
      'emails repeated in the crash window': emails.summary.repeatsInCrashWindow,
      'emails withdrawn (no longer applicable)': emails.summary.withdrawn,
      'Procore 429 answers': lab.procore.rateLimitedResponses,
      'metrics: rows written': this.metricTotal(/rows?_written|written_rows/i) ?? 'no /metrics',
      'metrics: faults': this.metricTotal(/fault/i) ?? 'no /metrics',
    };

    writeFileSync(
      join(this.outDir, 'timeline.svg'),
      timelineSvg({
        title: `Chaos run (${options.label}): ${options.budgets} budgets × ${options.rowsPerBudget.toLocaleString('en-US')} rows, ${options.workers} workers, ${options.spectrumLatencyMs} ms latency, ${Math.round(options.spectrumFaultRate * 100)} % faults`,
        subtitle: checks.map((c) => `${c.status === 'pass' ? '✓' : c.status === 'pending' ? '…' : '✗'} ${c.name}`).join('   '),
        start: this.start,
        applied: perSecond(lab.spectrum.appliedAddPhases.map((a) => a.at)),
        committed: perSecond(ledger.filter((r) => r.state === 'written' && r.committedAt !== null).map((r) => r.committedAt!)),
        faults: perSecond(faults.map((c) => c.at)),
        concurrency: profile.perSecond,
        cap: options.spectrumConcurrency,
        events: this.events,
      }),
    );
    const result: ChaosResult = {
      options,
      outDir: this.outDir,
      features: this.features,
      checks,
      events: this.events.map((e) => ({ ...e, at: e.at - this.start })),
      figures,
      resends,
      emails: emails.summary,
      inbox: received.map((email) => ({ notificationId: email.notificationId, at: email.receivedAt - this.start, subject: email.subject })),
      ok: checks.every((c) => c.status !== 'fail'),
    };
    writeFileSync(join(this.outDir, 'report.json'), JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
    writeFileSync(join(this.outDir, 'report.md'), reportMarkdown(result));
    return result;
  }

  /** Checks that need issue 12's production features: enforced once each feature has landed. */
  private featureChecks(calls: SpectrumCall[], resends: ResendSummary): CheckResult[] {
    const checks: CheckResult[] = [];
    const written = this.metricTotal(/rows?_written|written_rows/i);
    const faults = this.metricTotal(/fault/i);
    const applied = this.lab.spectrum.appliedAddPhases.length;
    const injected = calls.filter((c) => c.outcome === 'fault').length;
    checks.push(
      gated(
        {
          name: '/metrics shows the rows written and the faults injected',
          status: written && faults ? 'pass' : 'fail',
          summary: written === null ? 'no /metrics answered during the run' : `metrics: ${written} rows written, ${faults ?? 0} faults; Spectrum applied ${applied} AddPhase calls and injected ${injected} faults`,
          details: [],
        },
        this.features.metrics,
        'Prometheus /metrics',
      ),
    );
    const stops = this.gracefulStops;
    const limit = this.options.shutdownTimeoutMs + 2_000;
    const bad = stops.filter((s) => s.forced || s.ms > limit || s.econnreset || s.callsInFlight === 0);
    const termResends = resends.byCause.term ?? 0;
    checks.push(
      gated(
        {
          name: 'SIGTERM mid-export: exits within SHUTDOWN_TIMEOUT_MS, no ECONNRESET, nothing re-sent',
          status: stops.length && !bad.length && termResends === 0 ? 'pass' : 'fail',
          summary: stops.length
            ? `${stops
                .map(
                  (s) =>
                    `${s.slot} (${s.callsInFlight ? `${s.callsInFlight} Spectrum call(s) in flight` : 'not calling Spectrum: no proof'}) exited after ${s.ms} ms${s.forced ? ' (had to be SIGKILLed)' : ''}${s.econnreset ? ' with ECONNRESET in its log' : ''}`,
                )
                .join('; ')}; ${termResends} row(s) re-sent after it`
            : 'no graceful stop happened',
          details: [],
        },
        this.features.gracefulShutdown,
        'graceful shutdown (SHUTDOWN_TIMEOUT_MS)',
      ),
    );
    const limited = this.lab.procore.rateLimitedResponses;
    if (this.options.procoreRateLimits) {
      checks.push(
        gated(
          {
            name: 'no Procore 429 while the workers ingest at once',
            status: limited === 0 ? 'pass' : 'fail',
            summary: `${limited} answer(s) 429 from the Procore stand-in (spike limit ${this.options.procoreRateLimits.spike?.limit ?? '—'} per ${this.options.procoreRateLimits.spike?.windowSeconds ?? '—'} s)`,
            details: [],
          },
          this.features.sharedProcoreRateBudget,
          'the Procore rate budget shared through Redis',
        ),
      );
    }
    const nonJson = this.lab.allProcesses().flatMap((p) => nonJsonLines(p));
    checks.push(
      gated(
        {
          name: 'structured logs: every line JSON',
          status: nonJson.length ? 'fail' : 'pass',
          summary: `${nonJson.length} line(s) of the processes' output are not JSON`,
          details: nonJson.slice(0, 5),
        },
        this.features.structuredLogs,
        'structured (JSON) logs',
      ),
    );
    return checks;
  }
}

function nonJsonLines(process: ConnectorProcess): string[] {
  let text = '';
  try {
    text = readFileSync(process.logPath, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim())
    .filter((line) => {
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    })
    .map((line) => `${process.name}: ${line.slice(0, 160)}`);
}

function durationOf(events: ChaosEvent[], from: EventKind, to: EventKind): number {
  const start = events.find((e) => e.kind === from);
  const end = start && events.find((e) => e.kind === to && e.at >= start.at);
  return start && end ? Math.round((end.at - start.at) / 100) / 10 : 0;
}

export function reportMarkdown(result: ChaosResult): string {
  const mark = (status: string) => (status === 'pass' ? 'PASS' : status === 'pending' ? 'PENDING' : 'FAIL');
  const lines = [
    `# Chaos run (${result.options.label})`,
    '',
    `Outcome: **${result.ok ? 'every enforced check passed' : 'FAILED'}**. Timeline: \`timeline.svg\`; processes' logs: \`logs/\`.`,
    '',
    '| check | result | figures |',
    '|---|---|---|',
    ...result.checks.map((c) => `| ${c.name} | ${mark(c.status)} | ${c.summary.replace(/\|/g, '\\|')} |`),
    '',
    '| figure | value |',
    '|---|---|',
    ...Object.entries(result.figures).map(([name, value]) => `| ${name} | ${String(value).replace(/\|/g, '\\|')} |`),
    '',
    `Rows Spectrum applied more than once (the documented window between Spectrum's answer and the ledger's commit), by cause: ${Object.entries(result.resends.byCause).map(([cause, n]) => `${cause} ${n}`).join(', ') || 'none'}.`,
    '',
    `Features of issue 12 landed: ${Object.entries(result.features).map(([name, on]) => `${name} ${on ? 'yes' : 'no'}`).join(', ')}.`,
    '',
    '## Events',
    '',
    ...result.events.map((e) => `- ${(e.at / 1000).toFixed(1)} s: ${e.kind}${e.target ? ` ${e.target}` : ''}${e.detail ? ` — ${e.detail}` : ''}`),
    '',
  ];
  for (const check of result.checks.filter((c) => c.details.length)) {
    lines.push(`## ${check.name}: ${mark(check.status)}`, '', ...check.details.slice(0, 50).map((d) => `- ${d}`));
    if (check.details.length > 50) lines.push(`- … and ${check.details.length - 50} more`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Small seedable PRNG (public domain), so which worker dies when is the same run after run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
