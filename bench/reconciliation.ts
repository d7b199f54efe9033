/**
 * Benchmark of the reconciliation of a 20 000-row job (issue 12, "Reconciliation memory"):
 *   npx ts-node --transpile-only bench/reconciliation.ts
 *
 * Spectrum (the stand-in, in a process of its own, 20 ms per call) holds every row of an exported
 * submission at its revised estimate; the reconciling worker — the connector compiled, in plain node,
 * a fresh process per run as production runs it — reconciles it (GetPhase of the job for Active and
 * Inactive rows, then for Complete ones; the comparison; the report stored) and reports its wall time
 * and its peak RSS: the kernel's high-water mark (VmHWM, reset just before the reconciliation) and
 * process.memoryUsage() sampled every 10 ms. Figures go to bench/results/reconciliation.json.
 *
 * Environment: BENCH_ROWS (20000), BENCH_RUNS (3), BENCH_LATENCY_MS (20), BENCH_PG_ADMIN_URL
 * (postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (redis://127.0.0.1:6379),
 * BENCH_KEEP_DB=1 to keep the database, BENCH_DATABASE (connector_bench_reconciliation) its name.
 */
import { fork } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrateUp } from '../src/database/migrate';
import { ENTITIES } from '../src/entities';
import { INSERT_BENCH_ROWS_SQL, BENCH_COST_TYPES } from './support/bench-rows';
import { ChildProcessDriver } from './support/child-process-driver';
import { buildConnector, REPOSITORY_NODE_MODULES } from './support/connector-build';

const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE = process.env.BENCH_DATABASE ?? 'connector_bench_reconciliation';
const DATABASE_URL = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${DATABASE}`);
const PREFIX = `bench-reconcile-${process.pid}`;
const JOB = 'R-1';
const TARGET_RSS_MB = 200;
const TARGET_MS = 3000;

/** The reconciling worker: the compiled connector's worker context, measuring itself on request. */
const WORKER_HARNESS = `
require('reflect-metadata');
const { readFileSync, writeFileSync } = require('node:fs');
const { createWorkerContext } = require('./bootstrap');
const { loadAppConfig } = require('./config/app-config');
const { ReconciliationService } = require('./reconciliation/reconciliation.service');
let app;
const highWaterMark = () => {
  try {
    const match = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch { return null; }
};
// Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+).
const resetHighWaterMark = () => { try { writeFileSync('/proc/self/clear_refs', '5'); return true; } catch { return false; } };
const handlers = {
  async start({ env, prefix }) {
    app = await createWorkerContext(loadAppConfig(env), { runWorkers: false, runScheduler: false, queuePrefix: prefix, logger: ['error', 'warn'] });
    await app.init();
    return { rss: process.memoryUsage().rss };
  },
  async reconcile({ submissionId }) {
    const service = app.get(ReconciliationService);
    const baseline = process.memoryUsage();
    const peak = { rss: baseline.rss, heapUsed: baseline.heapUsed };
    const sample = () => {
      const now = process.memoryUsage();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
    };
    const sampler = setInterval(sample, 10);
    const reset = resetHighWaterMark();
    const started = performance.now();
    const result = await service.reconcile(submissionId);
    const ms = performance.now() - started;
    clearInterval(sampler);
    sample();
    return { ms, result, baselineRss: baseline.rss, sampledPeakRss: peak.rss, peakHeapUsed: peak.heapUsed, highWaterMark: reset ? highWaterMark() : null };
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

interface RunFigures {
  wallMs: number;
  outcome: string;
  baselineRssMb: number;
  peakRssMb: number;
  sampledPeakRssMb: number;
  peakHeapUsedMb: number;
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

async function admin(text: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** An exported submission whose ROWS rows were all written. */
async function insertExportedSubmission(): Promise<string> {
  const [{ id }] = await query<{ id: string }>(
    `insert into submission (procore_project_id, project_name, job, status, status_changed_at, source, sent_at,
                             line_count, row_count, exported_at, created_at, updated_at)
     values (990002, 'Reconciliation benchmark', $1, 'exported', now(), 'sample', now(), $2, $2, now(), now(), now())
     returning id::text`,
    [JOB, ROWS],
  );
  await query(INSERT_BENCH_ROWS_SQL, [id, JOB, ROWS, 'written']);
  return id;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

async function run(buildDir: string, env: Record<string, string>, submissionId: string): Promise<RunFigures> {
  // Back to `exported` with no report: each run judges the budget afresh.
  await query(`delete from reconciliation where submission_id = $1`, [submissionId]);
  await query(`update submission set status = 'exported', status_changed_at = now() where id = $1`, [submissionId]);
  const worker = new ChildProcessDriver(
    fork(join(buildDir, 'bench-reconciling-worker.js'), [], {
      execArgv: [],
      env: { ...process.env, NODE_PATH: REPOSITORY_NODE_MODULES },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    await worker.send({ type: 'start', env, prefix: PREFIX });
    const figures = await worker.send<{
      ms: number;
      result: { outcome?: string; skipped?: string };
      baselineRss: number;
      sampledPeakRss: number;
      peakHeapUsed: number;
      highWaterMark: number | null;
    }>({ type: 'reconcile', submissionId });
    if (figures.result.outcome !== 'synced') throw new Error(`reconciliation: ${JSON.stringify(figures.result)}`);
    return {
      wallMs: Math.round(figures.ms),
      outcome: figures.result.outcome,
      baselineRssMb: mb(figures.baselineRss),
      peakRssMb: mb(Math.max(figures.highWaterMark ?? 0, figures.sampledPeakRss)),
      sampledPeakRssMb: mb(figures.sampledPeakRss),
      peakHeapUsedMb: mb(figures.peakHeapUsed),
    };
  } finally {
    await worker.send({ type: 'stop' }).catch(() => undefined);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  console.log(`Reconciliation benchmark: ${ROWS} rows, ${LATENCY_MS} ms per Spectrum call, ${RUNS} run(s), a fresh worker each`);
  const buildDir = buildConnector();
  writeFileSync(join(buildDir, 'bench-reconciling-worker.js'), WORKER_HARNESS);
  const standIn = ChildProcessDriver.typescript(join(__dirname, 'support', 'spectrum-stand-in.process.ts'));
  try {
    const { url } = await standIn.send<{ url: string }>({ type: 'start', options: { latencyMs: LATENCY_MS } });
    await standIn.send({ type: 'seed', jobNumber: JOB, costTypes: BENCH_COST_TYPES });
    await standIn.send({ type: 'seedRows', jobNumber: JOB, rows: ROWS });
    await admin(`drop database if exists "${DATABASE}" with (force)`);
    await admin(`create database "${DATABASE}"`);
    await migrateUp(DATABASE_URL, ENTITIES);
    const submissionId = await insertExportedSubmission();
    const env: Record<string, string> = {
      DATABASE_URL,
      REDIS_URL,
      APP_ROLE: 'worker',
      PROCORE_CLIENT_ID: 'bench',
      PROCORE_CLIENT_SECRET: 'bench',
      PROCORE_COMPANY_ID: '1',
      PROCORE_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
      PROCORE_API_URL: 'http://127.0.0.1:9',
      PROCORE_LOGIN_URL: 'http://127.0.0.1:9',
      SPECTRUM_URL: url,
      SPECTRUM_AUTHORIZATION_ID: 'API',
      SPECTRUM_COMPANY_CODE: 'ABC',
      SMTP_URL: 'smtp://127.0.0.1:9',
    };
    const runs: RunFigures[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const figures = await run(buildDir, env, submissionId);
      runs.push(figures);
      console.log(`  run ${i}: ${figures.wallMs} ms, peak RSS ${figures.peakRssMb} MB (idle before ${figures.baselineRssMb} MB, peak heap ${figures.peakHeapUsedMb} MB), ${figures.outcome}`);
    }
    const stats = await standIn.send<{ outcomes: Record<string, number> }>({ type: 'stats' });
    const results = {
      ranAt: new Date().toISOString(),
      node: process.version,
      rows: ROWS,
      latencyMs: LATENCY_MS,
      runs,
      medianWallMs: median(runs.map((r) => r.wallMs)),
      maxPeakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      spectrumCalls: stats.outcomes,
      targets: { peakRssMb: TARGET_RSS_MB, wallMs: TARGET_MS },
      verdict: {
        memory: Math.max(...runs.map((r) => r.peakRssMb)) < TARGET_RSS_MB ? 'met' : 'missed',
        time: median(runs.map((r) => r.wallMs)) < TARGET_MS ? 'met' : 'missed',
      },
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'reconciliation.json'), JSON.stringify(results, null, 2) + '\n');
    console.log(JSON.stringify({ medianWallMs: results.medianWallMs, maxPeakRssMb: results.maxPeakRssMb, verdict: results.verdict, spectrumCalls: results.spectrumCalls }, null, 2));
    console.log('Written to bench/results/reconciliation.json');
  } finally {
    await standIn.send({ type: 'stop' }).catch(() => undefined);
    rmSync(buildDir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_DB !== '1') await admin(`drop database if exists "${DATABASE}" with (force)`).catch(() => undefined);
  }
}

process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`Benchmark failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
