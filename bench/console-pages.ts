/**
 * Benchmark of the approver console's pages (issue 10: "pages answer in under 100 ms for a
 * 2,000-line budget"; the budget page stays usable at 20,000 lines):
 *   npx ts-node --transpile-only bench/console-pages.ts
 *
 * The built connector (`node dist/main.js`, APP_ROLE=api, built first when dist/ is missing) in a
 * process of its own, against a fresh database holding a 2,000-line and a 20,000-line budget
 * (every line mapped, a reconciliation report with variances, a few history events). Signs in
 * with an API token like a browser, then times each page sequentially: 20 warm-up requests, then
 * BENCH_REQUESTS (100) measured; reports p50, p95 and the slowest, writes
 * bench/results/console-pages.json.
 *
 * Environment: BENCH_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
 * (redis://127.0.0.1:6379/14), BENCH_REQUESTS (100), BENCH_KEEP_DB=1 to keep the database, BENCH_DATABASE (connector_bench_console) its name.
 */
import 'reflect-metadata';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrateUp } from '../src/database/migrate';
import { ENTITIES } from '../src/entities';
import { generateToken, hashToken, tokenPrefix } from '../src/users/token';

const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const DATABASE = process.env.BENCH_DATABASE ?? 'connector_bench_console';
const DATABASE_URL = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${DATABASE}`);
const ROOT = join(__dirname, '..');

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'console', 'views', 'budget.hbs'))) {
    console.log('building the connector (npm run build) …');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  await recreateDatabase();
  await migrateUp(DATABASE_URL, ENTITIES);
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const token = await seed(db);
  const small = await seedBudget(db, 'Riverside Medical Office Building', 2_000);
  const large = await seedBudget(db, 'Harbor Logistics Campus', 20_000);
  for (let i = 0; i < 60; i++) await seedBudget(db, `Project ${i + 1}`, 20);
  await db.end();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const connector = startConnector(port);
  try {
    await waitForHealth(base);
    const cookie = await signIn(base, token);
    const pages: Array<[string, string]> = [
      ['budgets list (Ready to Export, 25 per page)', '/console/budgets'],
      ['budgets list (All, search)', '/console/budgets?status=all&q=project'],
      ['budget page, 2,000 lines (first page of lines and rows)', `/console/budgets/${small}`],
      ['budget page, 2,000 lines (page 20 of lines)', `/console/budgets/${small}?linesPage=20`],
      ['budget page, 2,000 lines, only problem lines', `/console/budgets/${small}?lines=problems`],
      ['progress (the page script polls it)', `/console/budgets/${small}/progress`],
      ['budget page, 20,000 lines', `/console/budgets/${large}`],
      ['budget page, 20,000 lines (page 200 of lines)', `/console/budgets/${large}?linesPage=200`],
    ];
    const results: Array<Record<string, unknown>> = [];
    for (const [name, path] of pages) {
      const timing = await time(base, path, cookie);
      results.push({ name, path, ...timing });
      console.log(`${name.padEnd(62)} p50 ${timing.p50Ms.toFixed(1).padStart(6)} ms  p95 ${timing.p95Ms.toFixed(1).padStart(6)} ms  max ${timing.maxMs.toFixed(1).padStart(6)} ms  (${timing.bytes.toLocaleString('en-US')} bytes)`);
    }
    const started = performance.now();
    const csv = await fetch(`${base}/console/budgets/${large}/lines.csv`, { headers: { cookie } });
    const csvBytes = (await csv.arrayBuffer()).byteLength;
    const csvMs = performance.now() - started;
    console.log(`${'lines CSV download, 20,000 lines'.padEnd(62)} ${csvMs.toFixed(0)} ms (${csvBytes.toLocaleString('en-US')} bytes)`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const out = join(__dirname, 'results', 'console-pages.json');
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, requests: REQUESTS, pages: results, csv: { ms: Math.round(csvMs), bytes: csvBytes } }, null, 2));
    console.log(`written to ${out}`);
  } finally {
    connector.kill('SIGTERM');
    if (!process.env.BENCH_KEEP_DB) await dropDatabase();
  }
}

async function time(base: string, path: string, cookie: string) {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 20 + REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, { headers: { cookie, accept: path.endsWith('/progress') ? 'application/json' : 'text/html' } });
    const body = await response.arrayBuffer();
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    bytes = body.byteLength;
    if (i >= 20) samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50Ms: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(samples[samples.length - 1]), bytes };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function seed(db: Client): Promise<string> {
  const [{ id }] = (
    await db.query(
      `insert into app_user (email, name, erp_permission, can_push_to_accounting, subscribed_to_digest, active, local_overrides, created_at, updated_at)
       values ('alex@example.com', 'Alex Approver', 'admin', true, true, true, '[]', now(), now()) returning id`,
    )
  ).rows;
  const token = generateToken();
  await db.query(`insert into api_token (user_id, token_hash, token_prefix, created_at) values ($1, $2, $3, now())`, [id, hashToken(token), tokenPrefix(token)]);
  return token;
}

/** A ready-to-export budget of `lines` lines (one row each), with history and a reconciliation report. */
async function seedBudget(db: Client, name: string, lines: number): Promise<string> {
  const [{ id }] = (
    await db.query(
      `insert into submission (procore_project_id, project_name, job, status, status_changed_at, source, sent_at, locked_by_connector,
                               original_budget, budget_changes, revised_estimate, line_count, row_count, problem_count, created_at, updated_at)
       values ((select coalesce(max(procore_project_id), 1000) + 1 from submission), $1, '26-101', 'ready_to_export', now(), 'api', now(), true,
               $2::numeric * 1250.5, $2::numeric * 10.25, $2::numeric * 1260.75, $2, $2, 0, now(), now()) returning id`,
      [name, lines],
    )
  ).rows;
  await db.query(
    `insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget, revised_estimate, line_count, problems, export_state, export_attempts)
     select $1, g, '26-101', lpad(g::text, 6, '0'), 'L', 'Phase ' || g, 1250.50, 1260.75, 1, '[]', 'pending', 0 from generate_series(1, $2) g`,
    [id, lines],
  );
  await db.query(
    `insert into submission_line (submission_id, position, cost_code, category, description, original_budget, budget_changes, revised_estimate,
                                  job, phase, cost_type, row_id, problems, notes)
     select $1, r.position, 'CC-' || r.position, 'Labor', 'Line ' || r.position, 1250.50, 10.25, 1260.75, '26-101', r.phase, 'L', r.id, '[]',
            case when r.position % 500 = 0 then '["Original budget 1250.505 was rounded to 1250.51"]'::jsonb else '[]'::jsonb end
       from submission_row r where r.submission_id = $1`,
    [id],
  );
  for (const [action, from, to] of [['send', null, 'ingesting'], ['ingested', 'ingesting', 'ready_to_export']]) {
    await db.query(`insert into audit_event (submission_id, actor_label, action, from_status, to_status, created_at) values ($1, 'system', $2, $3, $4, now())`, [id, action, from, to]);
  }
  const rows = Array.from({ length: lines }, (_, i) => ({
    job: '26-101',
    phase: String(i + 1).padStart(6, '0'),
    costType: 'L',
    description: `Phase ${i + 1}`,
    procoreRevised: '1260.75',
    spectrumEstimated: i % 100 === 0 ? '1200.00' : '1260.75',
    variance: i % 100 === 0 ? '-60.75' : '0.00',
    status: i % 100 === 0 ? 'amount_differs' : 'matched',
  }));
  await db.query(
    `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total, spectrum_estimated_total, variance_count, tolerance, explanation, rows)
     values ($1, now(), 'out_of_sync', 'ABC', '26-101', 0, 0, $2, 0, 'Benchmark report', $3::jsonb)`,
    [id, Math.ceil(lines / 100), JSON.stringify(rows)],
  );
  return String(id);
}

function startConnector(port: number): ChildProcess {
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    APP_ROLE: 'api',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL,
    REDIS_URL,
    PROCORE_CLIENT_ID: 'bench',
    PROCORE_CLIENT_SECRET: 'bench',
    PROCORE_COMPANY_ID: '1',
    PROCORE_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
    SPECTRUM_URL: 'http://127.0.0.1:9',
    SPECTRUM_AUTHORIZATION_ID: 'API',
    SPECTRUM_COMPANY_CODE: 'ABC',
    SMTP_URL: 'smtp://127.0.0.1:9',
  };
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  process.once('exit', () => child.kill());
  return child;
}

async function signIn(base: string, token: string): Promise<string> {
  const page = await fetch(`${base}/console/sign-in`);
  const signinCookie = page.headers.getSetCookie()[0].split(';')[0];
  const value = /name="_signin" value="([^"]+)"/.exec(await page.text())![1];
  const response = await fetch(`${base}/console/sign-in/token`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: signinCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _signin: value, token }).toString(),
  });
  const session = response.headers.getSetCookie().find((line) => line.startsWith('connector_session='));
  if (!session) throw new Error(`sign-in failed: HTTP ${response.status}`);
  return session.split(';')[0];
}

async function waitForHealth(base: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${base}/health`).catch(() => null))?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the connector did not become healthy');
}

async function recreateDatabase(): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${DATABASE} with (force)`);
  await admin.query(`create database ${DATABASE}`);
  await admin.end();
}

async function dropDatabase(): Promise<void> {
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${DATABASE} with (force)`);
  await admin.end();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
