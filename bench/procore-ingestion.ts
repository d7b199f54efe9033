/**
 * Benchmark of the Procore ingestion (issue 3):
 *   npx ts-node --transpile-only bench/procore-ingestion.ts
 *
 * A 20 000-line budget in the Procore stand-in (run in a process of its own), the default
 * PROCORE_PER_PAGE (1000), through the real path: POST /api/v1/budgets → the IngestSubmission job
 * (lock, project, view, detail rows, categories, user sync; the budget read twice to prove it did
 * not change while read) → ready_to_export. Twice: without a rate limit, then with a spike limit
 * of 25 requests per 10 s. Reports the detail-row pages (2 × ⌈20 000 / 1000⌉ = 40), every Procore
 * request, 429s received, the
 * wall time from the POST to ready_to_export and the connector process's peak RSS; writes them to
 * bench/results/procore-ingestion.json.
 *
 * The connector runs as production runs it: compiled JavaScript (tsc into a temporary directory) in a
 * process of its own (API and workers), fresh for each run, its RSS sampled every 10 ms. The
 * benchmark itself (ts-node, with the TypeScript compiler in memory) is not what is measured.
 *
 * Environment: BENCH_LINES (20000), BENCH_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379/14), BENCH_KEEP_DB=1 to keep the database, BENCH_DATABASE (connector_bench) its name.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChildProcessDriver } from './support/child-process-driver';
import { rmSync } from 'node:fs';
import { buildConnector as buildCompiledConnector } from './support/connector-build';
import { MikroORM } from '@mikro-orm/postgresql';
import Redis from 'ioredis';
import { Client } from 'pg';
import { ormOptions } from '../src/database/mikro-orm.config';
import { migrateUp } from '../src/database/migrate';
import { ENTITIES } from '../src/entities';
import { JobName } from '../src/queue/queue.contract';
import { AuditEventRepository } from '../src/audit/audit-event.repository';
import { LockRepository } from '../src/database/lock.repository';
import { UserRepository } from '../src/users/user.repository';
import { UsersService } from '../src/users/users.service';

const LINES = Number(process.env.BENCH_LINES ?? 20_000);
const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const DATABASE = process.env.BENCH_DATABASE ?? 'connector_bench';
const DATABASE_URL = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${DATABASE}`);
const PREFIX = `bench-procore-${process.pid}`;
const PROJECT_ID = 1001;
const PER_PAGE = 1000;
const JOBS = [JobName.IngestSubmission, JobName.ProcessWebhookEvent, JobName.PollProjects, JobName.UnlockBudget, JobName.SyncUsers];

const ROOT = join(__dirname, '..');

// ---- child processes driven over IPC ------------------------------------------------------------

/** The Procore stand-in (TypeScript, through ts-node). */
function startStandIn(): ChildProcessDriver {
  return ChildProcessDriver.typescript(join(__dirname, 'support', 'procore-stand-in.process.ts'));
}

/** The connector, compiled, in plain node. */
function startConnector(buildDir: string): ChildProcessDriver {
  // The build lives outside the repository: resolve packages from its node_modules.
  const env = { ...process.env, NODE_PATH: join(ROOT, 'node_modules') };
  return new ChildProcessDriver(fork(join(buildDir, 'bench-connector.js'), [], { execArgv: [], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

interface StandInStats {
  requests: number;
  detailRowPages: number;
  rateLimited: number;
  tokenRequests: number;
  byPath: Record<string, number>;
}

interface RunResult {
  label: string;
  lines: number;
  perPage: number;
  detailRowPageRequests: number;
  expectedDetailRowPages: number;
  procoreRequests: number;
  maxProcoreRequests: number;
  rateLimitedResponses: number;
  wallTimeMs: number;
  peakRssMb: number;
  baselineRssMb: number;
  peakHeapUsedMb: number;
  requestsByPath: Record<string, number>;
  submission: { status: string; lineCount: number; rowCount: number; problemCount: number; revisedEstimate: string };
}

// ---- setup --------------------------------------------------------------------------------------

async function recreateDatabase(): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${DATABASE}" with (force)`);
    await admin.query(`create database "${DATABASE}"`);
  } finally {
    await admin.end();
  }
  await migrateUp(DATABASE_URL, ENTITIES);
}

async function query<T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function createSenderToken(): Promise<string> {
  const orm = await MikroORM.init(ormOptions(DATABASE_URL, ENTITIES));
  try {
    const users = new UsersService(new UserRepository(orm.em), new AuditEventRepository(orm.em), new LockRepository(orm.em, { databaseUrl: DATABASE_URL }));
    const user = await users.create({ email: 'bench.sender@example.com', name: 'Bench Sender', erpPermission: 'standard', canPushToAccounting: false }, { label: 'bench' });
    return (await users.createToken(user.id, { label: 'bench' })).token;
  } finally {
    await orm.close(true);
  }
}

/** The compiled connector (bench/support/connector-build.ts) with this benchmark's harness. */
function buildConnector(): string {
  const dir = buildCompiledConnector();
  writeFileSync(join(dir, 'bench-connector.js'), CONNECTOR_HARNESS);
  return dir;
}

/** The connector process: API + Procore workers, sampling its own memory on request. */
const CONNECTOR_HARNESS = `
require('reflect-metadata');
const { createHttpApp } = require('./bootstrap');
const { loadAppConfig } = require('./config/app-config');
let app, sampler, peak;
const sample = () => {
  const now = process.memoryUsage();
  peak.rss = Math.max(peak.rss, now.rss);
  peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
};
const handlers = {
  async start({ env, jobs, prefix }) {
    app = await createHttpApp(loadAppConfig(env), { runWorkers: true, runScheduler: false, jobs, queuePrefix: prefix, logger: ['error', 'warn'] });
    await app.listen(0, '127.0.0.1');
    return { url: 'http://127.0.0.1:' + app.getHttpServer().address().port };
  },
  async sampleStart() {
    const now = process.memoryUsage();
    peak = { baselineRss: now.rss, rss: now.rss, heapUsed: now.heapUsed };
    sampler = setInterval(sample, 10);
    return {};
  },
  async sampleStop() {
    clearInterval(sampler);
    sample();
    return peak;
  },
  async stop() {
    await app.close();
    setImmediate(() => process.exit(0));
    return {};
  },
};
process.on('message', (command) => {
  handlers[command.type](command).then(
    (result) => process.send({ ok: true, result }),
    (error) => process.send({ ok: false, error: error.stack || error.message }),
  );
});
`;

async function dropQueueKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---- one run ------------------------------------------------------------------------------------

async function run(label: string, buildDir: string, env: Record<string, string>, standIn: ChildProcessDriver, token: string): Promise<RunResult> {
  // A fresh connector process (its client learns the rate limits from scratch) and a fresh snapshot.
  await query(`truncate submission, submission_line, submission_row, pending_work, notification, webhook_event cascade`);
  await query(`delete from app_user where procore_user_id is not null`); // each run syncs the budget's creator

  await standIn.send({ type: 'lock', projectId: PROJECT_ID, locked: false });
  const connector = startConnector(buildDir);
  try {
    const { url } = await connector.send<{ url: string }>({ type: 'start', env, jobs: JOBS, prefix: PREFIX });
    await standIn.send({ type: 'clear' });
    await connector.send({ type: 'sampleStart' });

    const started = performance.now();
    const response = await fetch(`${url}/api/v1/budgets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ procoreProjectId: String(PROJECT_ID) }),
    });
    const body = (await response.json()) as { id?: string; message?: string };
    if (response.status !== 202 || !body.id) throw new Error(`send answered ${response.status}: ${body.message}`);
    let row: Record<string, any> | undefined;
    for (;;) {
      [row] = await query(`select status, line_count, row_count, problem_count, revised_estimate::text, ingest_error from submission where id = $1`, [body.id]);
      if (row && row.status !== 'ingesting') break;
      if (performance.now() - started > 120_000) throw new Error('the ingestion did not finish within 2 minutes');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const wallTimeMs = Math.round(performance.now() - started);
    const peak = await connector.send<{ baselineRss: number; rss: number; heapUsed: number }>({ type: 'sampleStop' });
    if (row.status !== 'ready_to_export') throw new Error(`the submission ended ${row.status}: ${row.ingest_error}`);

    const stats = await standIn.send<StandInStats>({ type: 'stats' });
    // Read twice: two reads that agree show nobody changed the budget while it was read (issue 9.7).
    const expectedPages = 2 * Math.ceil(LINES / PER_PAGE);
    return {
      label,
      lines: LINES,
      perPage: PER_PAGE,
      detailRowPageRequests: stats.detailRowPages,
      expectedDetailRowPages: expectedPages,
      procoreRequests: stats.requests,
      maxProcoreRequests: expectedPages + 10,
      rateLimitedResponses: stats.rateLimited,
      wallTimeMs,
      peakRssMb: mb(peak.rss),
      baselineRssMb: mb(peak.baselineRss),
      peakHeapUsedMb: mb(peak.heapUsed),
      requestsByPath: stats.byPath,
      submission: {
        status: row.status,
        lineCount: row.line_count,
        rowCount: row.row_count,
        problemCount: row.problem_count,
        revisedEstimate: row.revised_estimate,
      },
    };
  } finally {
    await connector.send({ type: 'stop' }).catch(() => undefined);
    await dropQueueKeys();
  }
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

function print(result: RunResult): void {
  const check = (ok: boolean) => (ok ? 'ok' : 'NOT MET');
  console.log(`\n${result.label}`);
  console.log(`  lines ingested            ${result.submission.lineCount} (${result.submission.rowCount} rows, ${result.submission.problemCount} problems), status ${result.submission.status}`);
  console.log(`  detail-row page requests  ${result.detailRowPageRequests} (must be ${result.expectedDetailRowPages}: ${check(result.detailRowPageRequests === result.expectedDetailRowPages)})`);
  console.log(`  all Procore requests      ${result.procoreRequests} (at most ${result.maxProcoreRequests}: ${check(result.procoreRequests <= result.maxProcoreRequests)})`);
  console.log(`  429 answers received      ${result.rateLimitedResponses}`);
  console.log(`  wall time                 ${(result.wallTimeMs / 1000).toFixed(2)} s`);
  console.log(`  peak RSS (connector)      ${result.peakRssMb} MB (${result.baselineRssMb} MB idle before the send; peak heap ${result.peakHeapUsedMb} MB)`);
}

async function main(): Promise<void> {
  console.log(`Procore ingestion benchmark: ${LINES} lines, per_page ${PER_PAGE}`);
  const buildDir = buildConnector();
  await recreateDatabase();
  const standIn = startStandIn();
  const { environment } = await standIn.send<{ url: string; environment: Record<string, string> }>({ type: 'start' });
  await standIn.send({ type: 'seed', projectId: PROJECT_ID, lines: LINES });
  const token = await createSenderToken();
  const env: Record<string, string> = {
    ...environment,
    DATABASE_URL,
    REDIS_URL,
    PROCORE_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
    SPECTRUM_URL: 'http://127.0.0.1:9',
    SPECTRUM_AUTHORIZATION_ID: 'BENCH',
    SPECTRUM_COMPANY_CODE: 'BEN',
    SMTP_URL: 'smtp://127.0.0.1:9',
  };

  try {
    const unlimited = await run('No rate limit', buildDir, env, standIn, token);
    print(unlimited);
    await standIn.send({ type: 'limits', limits: { spike: { limit: 25, windowSeconds: 10 } } });
    const limited = await run('Spike limit 25 requests / 10 s', buildDir, env, standIn, token);
    print(limited);

    const targets = {
      detailRowPagesExact: unlimited.detailRowPageRequests === unlimited.expectedDetailRowPages && limited.detailRowPageRequests === limited.expectedDetailRowPages,
      requestsWithinPagesPlus10: unlimited.procoreRequests <= unlimited.maxProcoreRequests && limited.procoreRequests <= limited.maxProcoreRequests,
      under10sWithoutLimit: unlimited.wallTimeMs < 10_000,
      under300MbWithoutLimit: unlimited.peakRssMb < 300,
      no429WithSpikeLimit: limited.rateLimitedResponses === 0,
    };
    console.log(`\nTargets: ${Object.entries(targets).map(([name, ok]) => `${name} ${ok ? 'ok' : 'NOT MET'}`).join(', ')}`);
    const out = join(__dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'procore-ingestion.json'),
      JSON.stringify({ ranAt: new Date().toISOString(), node: process.version, runs: [unlimited, limited], targets }, null, 2) + '\n',
    );
    console.log(`Written to bench/results/procore-ingestion.json`);
    if (Object.values(targets).some((ok) => !ok)) process.exitCode = 1;
  } finally {
    await standIn.send({ type: 'stop' }).catch(() => undefined);
    rmSync(buildDir, { recursive: true, force: true });
    if (!process.env.BENCH_KEEP_DB) {
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists "${DATABASE}" with (force)`).catch(() => undefined);
      await admin.end();
    }
  }
}

// Interrupted: exit through 'exit' so the child processes are stopped too.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().catch((error: Error) => {
  console.error(`Benchmark failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
