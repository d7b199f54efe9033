/**
 * Benchmark of the Spectrum export and reconciliation (issue 4):
 *   npx ts-node --transpile-only bench/spectrum-export.ts
 *
 * 20 000 rows, 20 ms of latency per call in the Spectrum stand-in (run in a process of its own),
 * SPECTRUM_CONCURRENCY 8. Measures the real exporter (SpectrumExporter.export: GetJob, GetPhase,
 * 20 000 AddPhase through the semaphore's loops, the PostgreSQL ledger, the final transition)
 * against the ideal N × latency / concurrency and against a bare loop posting prebuilt envelopes
 * over the same keep-alive agent; then the reconciliation of the 20 000 rows; peak memory.
 * Figures go to bench/results/spectrum-export.json.
 *
 * Environment: BENCH_ROWS (20000), BENCH_LATENCY_MS (20), BENCH_CONCURRENCY (8),
 * BENCH_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
 * (redis://127.0.0.1:6379), BENCH_KEEP_DB=1 to keep the database, BENCH_DATABASE (connector_bench_spectrum) its name.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import { ChildProcessDriver } from './support/child-process-driver';
import Redis from 'ioredis';
import { Client } from 'pg';
import { createWorkerContext } from '../src/bootstrap';
import { loadAppConfig } from '../src/config/app-config';
import { migrateUp } from '../src/database/migrate';
import { ENTITIES } from '../src/entities';
import { ReconciliationService } from '../src/reconciliation/reconciliation.service';
import { SpectrumExporter } from '../src/spectrum/spectrum-exporter.service';
import { SpectrumSoapClient } from '../src/spectrum/client/spectrum-soap.client';

const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE = process.env.BENCH_DATABASE ?? 'connector_bench_spectrum';
const DATABASE_URL = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${DATABASE}`);
const PREFIX = `bench-spectrum-${process.pid}`;
const JOB = 'B-1';
const COST_TYPES = ['L', 'M', 'S', 'E', 'O'];
const TYPES = 'http://www.northgate-is.com/proiv/webservices/types';

// ---- the stand-in in its own process ------------------------------------------------------------

// ---- measuring ---------------------------------------------------------------------------------

interface MemoryPeak {
  rssMb: number;
  heapUsedMb: number;
}

async function measure<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; peak: MemoryPeak }> {
  const peak = { rss: 0, heap: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.heap = Math.max(peak.heap, usage.heapUsed);
  };
  sample();
  const timer = setInterval(sample, 10);
  const started = process.hrtime.bigint();
  try {
    const result = await work();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    sample();
    return { result, ms, peak: { rssMb: mb(peak.rss), heapUsedMb: mb(peak.heap) } };
  } finally {
    clearInterval(timer);
  }
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

// ---- setup -------------------------------------------------------------------------------------

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

async function dropDatabase(): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${DATABASE}" with (force)`);
  } finally {
    await admin.end();
  }
}

/** A submission in `exporting` with ROWS pending rows (4 000 phases × 5 cost types), straight in SQL. */
async function insertSubmission(): Promise<string> {
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>(
      `insert into submission (procore_project_id, project_name, job, status, status_changed_at, source, sent_at,
                               line_count, row_count, created_at, updated_at)
       values (990001, 'Benchmark project', $1, 'exporting', now(), 'sample', now(), $2, $2, now(), now())
       returning id::text`,
      [JOB, ROWS],
    );
    const id = rows[0].id;
    await db.query(
      `insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget,
                                   revised_estimate, line_count, problems, export_state, export_attempts)
       select $1, i, $2, lpad((i / 5 + 1)::text, 6, '0'), (array['L','M','S','E','O'])[i % 5 + 1],
              'Benchmark phase ' || (i / 5 + 1),
              (1000 + (i * 7919) % 900000)::numeric / 100,
              (1000 + (i * 7919) % 900000 + (i * 31) % 5000 - 2500)::numeric / 100,
              1, '[]'::jsonb, 'pending', 0
         from generate_series(0, $3::int - 1) as i`,
      [id, JOB, ROWS],
    );
    return id;
  } finally {
    await db.end();
  }
}

async function submissionState(id: string): Promise<{ status: string; written: number }> {
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ status: string; written: string }>(
      `select s.status, (select count(*) from submission_row r where r.submission_id = s.id and r.export_state = 'written') as written
         from submission s where s.id = $1`,
      [id],
    );
    return { status: rows[0].status, written: Number(rows[0].written) };
  } finally {
    await db.end();
  }
}

// ---- the bare loop ------------------------------------------------------------------------------

/** The AddPhase envelopes of every row, byte for byte in the form the client sends. */
function prebuiltEnvelopes(): string[] {
  const envelopes: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const phase = String(Math.floor(i / 5) + 1).padStart(6, '0');
    const original = 1000 + ((i * 7919) % 900000);
    const revised = original + ((i * 31) % 5000) - 2500;
    const money = (cents: number) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
    envelopes.push(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
        `<AddPhase xmlns="${TYPES}"><Authorization_ID>API</Authorization_ID><GUID/><Company_Code>ABC</Company_Code>` +
        `<Job_Number>${JOB}</Job_Number><Phase_Code>${phase}</Phase_Code><Cost_Type>${COST_TYPES[i % 5]}</Cost_Type>` +
        '<Description/><Status_Code/><Unit_of_Measure/><Original_Est_Quantity/><Original_Est_Hours/>' +
        `<Original_Est_Cost>${money(original)}</Original_Est_Cost><Current_Est_Quantity/><Current_Est_Hours/>` +
        `<Current_Est_Cost>${money(revised)}</Current_Est_Cost><Bid_Item_Number/><Alt_Phase_Code/><Work_Comp_Code/>` +
        '<Phase_Cost_Center/><Price_Method_Code/></AddPhase></soap:Body></soap:Envelope>',
    );
  }
  return envelopes;
}

function post(agent: http.Agent, url: URL, body: string): Promise<number> {
  const payload = Buffer.from(body, 'utf8');
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${url.href}"`, 'Content-Length': payload.length },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

async function bareLoop(agent: http.Agent, baseUrl: string, envelopes: string[]): Promise<{ failed: number }> {
  const url = new URL(`${baseUrl}/ws/AddPhase`);
  let cursor = 0;
  let failed = 0;
  const loop = async () => {
    while (cursor < envelopes.length) {
      const status = await post(agent, url, envelopes[cursor++]);
      if (status !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return { failed };
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`Spectrum export benchmark: ${ROWS} rows, ${LATENCY_MS} ms per call, concurrency ${CONCURRENCY}`);
  const standIn = ChildProcessDriver.typescript(join(__dirname, 'support', 'spectrum-stand-in.process.ts'));
  const { url } = await standIn.send<{ url: string }>({ type: 'start', options: { latencyMs: LATENCY_MS } });
  await standIn.send({ type: 'seed', jobNumber: JOB, costTypes: COST_TYPES });
  await recreateDatabase();

  const config = loadAppConfig({
    DATABASE_URL,
    REDIS_URL,
    PROCORE_CLIENT_ID: 'bench',
    PROCORE_CLIENT_SECRET: 'bench',
    PROCORE_COMPANY_ID: '1',
    PROCORE_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
    PROCORE_API_URL: 'http://127.0.0.1:9',
    PROCORE_LOGIN_URL: 'http://127.0.0.1:9',
    SPECTRUM_URL: url,
    SPECTRUM_AUTHORIZATION_ID: 'API',
    SPECTRUM_COMPANY_CODE: 'ABC',
    SPECTRUM_CONCURRENCY: String(CONCURRENCY),
    SMTP_URL: 'smtp://127.0.0.1:9',
    APP_ROLE: 'worker',
  });
  const app = await createWorkerContext(config, { runWorkers: false, runScheduler: false, queuePrefix: PREFIX, logger: ['error'] });
  await app.init();
  const exporter = app.get(SpectrumExporter);
  const reconciliation = app.get(ReconciliationService);
  const client = app.get(SpectrumSoapClient);

  try {
    const submissionId = await insertSubmission();
    const envelopes = prebuiltEnvelopes();
    const baseline = process.memoryUsage();

    // 1. The export.
    const exported = await measure(() => exporter.export(submissionId, { finalAttempt: true }));
    const afterExport = await submissionState(submissionId);
    const exportStats = await standIn.send<{ peakConcurrent: number; outcomes: Record<string, number>; addPhaseRows: number; addPhaseMaxPerRow: number }>({ type: 'stats' });
    if (afterExport.status !== 'exported' || afterExport.written !== ROWS || exportStats.addPhaseRows !== ROWS) {
      throw new Error(`export did not complete: ${JSON.stringify({ afterExport, exportStats })}`);
    }

    // 2. Reconciliation of every row (one GetPhase of the whole job, the comparison, the report).
    const reconciled = await measure(() => reconciliation.reconcile(submissionId));
    if (reconciled.result.outcome !== 'synced') throw new Error(`reconciliation: ${JSON.stringify(reconciled.result)}`);

    // 3. The bare loop: the same number of AddPhase posts, prebuilt, over the client's own agent.
    await standIn.send({ type: 'clear' });
    const bare = await measure(() => bareLoop(client.agent, url, envelopes));
    const bareStats = await standIn.send<{ peakConcurrent: number; outcomes: Record<string, number> }>({ type: 'stats' });
    if (bare.result.failed) throw new Error(`${bare.result.failed} bare posts failed`);

    const idealMs = (ROWS * LATENCY_MS) / CONCURRENCY;
    const results = {
      ranAt: new Date().toISOString(),
      node: process.version,
      rows: ROWS,
      latencyMs: LATENCY_MS,
      concurrency: CONCURRENCY,
      export: {
        wallMs: Math.round(exported.ms),
        idealMs,
        throughputVsIdeal: round(idealMs / exported.ms),
        targetThroughputVsIdeal: 0.85,
        rowsPerSecond: Math.round((ROWS / exported.ms) * 1000),
        spectrumCalls: exportStats.outcomes,
        peakConcurrentAtSpectrum: exportStats.peakConcurrent,
        peakMemory: exported.peak,
      },
      bareLoop: {
        wallMs: Math.round(bare.ms),
        exportVsBare: round(exported.ms / bare.ms),
        targetExportVsBare: 1.25,
        peakConcurrentAtSpectrum: bareStats.peakConcurrent,
      },
      reconciliation: {
        wallMs: Math.round(reconciled.ms),
        targetMs: 3000,
        outcome: reconciled.result.outcome,
        peakMemory: reconciled.peak,
      },
      memory: {
        baselineRssMb: mb(baseline.rss),
        baselineHeapUsedMb: mb(baseline.heapUsed),
        peakRssMb: Math.max(exported.peak.rssMb, reconciled.peak.rssMb, bare.peak.rssMb),
      },
      verdict: {
        throughput: idealMs / exported.ms >= 0.85 ? 'met' : 'missed',
        overheadVsBare: exported.ms / bare.ms <= 1.25 ? 'met' : 'missed',
        reconciliation: reconciled.ms < 3000 ? 'met' : 'missed',
      },
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'spectrum-export.json'), JSON.stringify(results, null, 2) + '\n');
    console.log(JSON.stringify(results, null, 2));
  } finally {
    await app.close();
    await standIn.send({ type: 'stop' }).catch(() => undefined);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    if (process.env.BENCH_KEEP_DB !== '1') await dropDatabase();
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
