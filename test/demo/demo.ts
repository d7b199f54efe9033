/**
 * `npm run demo`: the connector end to end on one machine. Starts stand-ins of Procore, Spectrum
 * and an SMTP inbox, migrates a demo database, runs the built connector (`node dist/main.js`) as
 * it runs in production, and walks one budget from "sent in Procore" to "synced in Spectrum".
 *
 *   npm run demo              walk-through, then keep everything running until Ctrl-C
 *   npm run demo -- --exit    walk-through, then stop
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import Redis from 'ioredis';
import { ProcoreStandIn, SAMPLE_PROJECT, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { SmtpStandIn } from '../stand-ins/smtp';
import { seedSpectrumForSampleProject, SpectrumStandIn } from '../stand-ins/spectrum';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const LOG_DIR = join(ROOT, 'tmp');
const exit = process.argv.includes('--exit');
const run = promisify(execFile);

const DATABASE_URL = process.env.DEMO_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/connector_demo';
const REDIS_URL = process.env.DEMO_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const WEBHOOK_SECRET = 'demo-webhook-secret-please-change';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (text: string) => console.log(`\n${bold('▸ ' + text)}`);
const info = (text: string) => console.log(`  ${text}`);

interface Running {
  procore?: ProcoreStandIn;
  spectrum?: SpectrumStandIn;
  smtp?: SmtpStandIn;
  connector?: ChildProcess;
}
const running: Running = {};

async function main(): Promise<void> {
  console.log(bold('Procore → Spectrum budget connector — demo'));

  step('Checking PostgreSQL and Redis');
  await resetDatabase();
  await resetRedis();
  info(`database ${redact(DATABASE_URL)} recreated; Redis ${REDIS_URL} flushed`);

  step('Starting the stand-ins');
  const procore = (running.procore = new ProcoreStandIn());
  await procore.start();
  const sample = seedSampleProject(procore, { locked: false });
  // The second project of the walk-through; both are in PROCORE_PROJECT_IDS, the connector's scope.
  const harbor = procore.addProject({ id: 1002, name: 'Harbor Logistics Warehouse', project_number: '25-044', active: true });
  info(`Procore   ${procore.url}  — project ${SAMPLE_PROJECT.id} "${SAMPLE_PROJECT.name}", ${sample.lines.length} budget lines`);
  const spectrum = (running.spectrum = await SpectrumStandIn.start({ authorizationId: 'API', companyCode: 'ABC', latencyMs: 5 }));
  seedSpectrumForSampleProject(spectrum);
  info(`Spectrum  ${spectrum.url}/ws/<Service>  — company ABC, job 26-101`);
  const smtp = (running.smtp = new SmtpStandIn());
  const { url: smtpUrl } = await smtp.start();
  const inbox = await smtp.startInbox(Number(process.env.DEMO_INBOX_PORT ?? 0));
  info(`SMTP      ${smtpUrl}  — inbox at ${inbox.url}/`);

  const port = await freePort(Number(process.env.DEMO_PORT ?? 3000));
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    APP_ROLE: 'all',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    DATABASE_URL,
    REDIS_URL,
    PROCORE_API_URL: procore.url,
    PROCORE_LOGIN_URL: procore.url,
    PROCORE_CLIENT_ID: procore.clientOptions().clientId,
    PROCORE_CLIENT_SECRET: procore.clientOptions().clientSecret,
    PROCORE_COMPANY_ID: String(procore.companyId),
    PROCORE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    PROCORE_PROJECT_IDS: `${SAMPLE_PROJECT.id},${harbor.id}`,
    // "Sign in with Procore" for the console, against the stand-in's authorization-code grant.
    PROCORE_OAUTH_CLIENT_ID: 'demo-console',
    PROCORE_OAUTH_CLIENT_SECRET: 'demo-console-secret',
    SPECTRUM_URL: spectrum.url,
    SPECTRUM_AUTHORIZATION_ID: 'API',
    SPECTRUM_COMPANY_CODE: 'ABC',
    SPECTRUM_CONCURRENCY: '4',
    SMTP_URL: smtpUrl,
    MAIL_FROM: 'Summit Builders ERP Connector <erp-connector@summit-builders.example>',
    DAILY_SUMMARY_TZ: 'America/Chicago',
  };

  procore.oauth.registerApp({ clientId: 'demo-console', clientSecret: 'demo-console-secret', redirectUri: `${baseUrl}/console/auth/procore/callback` });
  // The stand-in has no login screen: whoever opens "Sign in with Procore" is the project accountant.
  procore.oauth.signInAs(SAMPLE_USERS.accountant.id);

  step('Applying the database migrations (npm run migration:up)');
  info((await cli(env, ['migration:up'])).trim());

  step(`Starting the connector (node dist/main.js, APP_ROLE=all, port ${port})`);
  mkdirSync(LOG_DIR, { recursive: true });
  const logPath = join(LOG_DIR, 'demo-connector.log');
  const log = createWriteStream(logPath);
  const connector = (running.connector = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], { cwd: ROOT, env }));
  connector.stdout!.pipe(log);
  connector.stderr!.pipe(log);
  connector.once('exit', (code) => {
    if (!shuttingDown) {
      console.error(`\nThe connector exited (code ${code}); see ${logPath}`);
      void shutdown(1);
    }
  });
  await waitFor(async () => (await fetch(`${baseUrl}/health`).catch(() => null))?.ok === true, 'the connector to answer /health', 30_000);
  info(`healthy; its log is ${logPath}`);

  step('Creating the demo approver (npm run cli -- users:create …)');
  const created = await cli(env, [
    'users:create',
    '--email',
    'alex.approver@summit-builders.example',
    '--name',
    'Alex Approver',
    '--permission',
    'admin',
    '--can-push-to-accounting',
  ]);
  const token = created.trim().split('\n').pop()!.trim();
  info(`Alex Approver (admin, can push to accounting); API token: ${token}`);
  const signInLink = `${baseUrl}/console/sign-in#token=${token}`;
  info(`the console: ${baseUrl}/console — sign in as Alex with one click on ${signInLink}`);
  const call = api(baseUrl, token);

  step('Registering the webhook in Procore and syncing its users');
  info((await cli(env, ['procore:register-webhooks', '--url', `${baseUrl}/webhooks/procore`])).trim().split('\n').join('\n  '));
  info((await cli(env, ['procore:sync-users'])).trim().split('\n').join('\n  '));

  step(`${SAMPLE_USERS.projectManager.name} (PM) locks the budget in Procore and sends it to the ERP`);
  procore.setLocked(SAMPLE_PROJECT.id, true);
  const statuses = await procore.deliverWebhook({
    project_id: SAMPLE_PROJECT.id,
    user_id: SAMPLE_USERS.projectManager.id,
    resource_name: 'Budget View Snapshots',
    event_type: 'create',
  });
  info(`Procore delivered the webhook: HTTP ${statuses.join(', ')}`);
  const ready = await waitFor(async () => {
    const list = await call('GET', `/api/v1/budgets?procoreProjectId=${SAMPLE_PROJECT.id}&status=ready_to_export`);
    return list.body.data?.[0];
  }, 'the budget to be ready to export');
  const details = (await call('GET', `/api/v1/budgets/${ready.id}`)).body;
  info(`Submission ${details.id}: ${details.projectName}, job ${details.job}, sent by ${details.sentBy?.name ?? '—'}`);
  info(`${details.lineCount} lines → ${details.rowCount} Spectrum rows; revised estimate ${details.totals.revisedEstimate}`);
  info(`in the console: ${baseUrl}/console/budgets/${details.id}`);
  for (const note of details.lines.flatMap((line: { notes: string[] }) => line.notes)) info(`note: ${note}`);

  step('The "ERP Integrations Daily Summary" (npm run cli -- jobs:run daily-summary)');
  info((await cli(env, ['jobs:run', 'daily-summary'])).trim());
  await waitFor(async () => smtp.messages.find((m) => m.subject === 'ERP Integrations Daily Summary'), 'the daily summary email');
  info(`in the inbox: ${inbox.url}/`);

  step('Preview against Spectrum (GET /api/v1/budgets/:id/preview)');
  const preview = (await call('GET', `/api/v1/budgets/${ready.id}/preview`)).body;
  const counts = countBy(preview.rows ?? [], (row: { change: string }) => row.change);
  info(Object.entries(counts).map(([change, n]) => `${n} ${change}`).join(', '));

  step('Alex accepts it (POST /api/v1/budgets/:id/accept)');
  const accepted = await call('POST', `/api/v1/budgets/${ready.id}/accept`);
  info(`HTTP ${accepted.status} ${JSON.stringify(accepted.body)}`);
  const final = await waitFor(async () => {
    const current = (await call('GET', `/api/v1/budgets/${ready.id}`)).body;
    return ['synced', 'out_of_sync', 'failed_to_export'].includes(current.status) ? current : undefined;
  }, 'export and reconciliation', 60_000);
  info(`status: ${bold(final.status)}`);
  const report = (await call('GET', `/api/v1/budgets/${ready.id}/reconciliation`)).body;
  info(`reconciliation: ${report.explanation ?? ''}`);
  const written = spectrum.listPhases ? spectrum.listPhases('26-101').length : undefined;
  if (written !== undefined) info(`Spectrum job 26-101 now has ${written} phase rows`);

  step(`A second project: ${SAMPLE_USERS.projectManager.name} sends "Harbor Logistics Warehouse", Alex rejects it`);
  procore.setBudgetLines(harbor.id, [
    { costCode: '01-100', costCodeName: 'General Conditions', category: 'L', originalBudget: '182400.00' },
    { costCode: '03-300', costCodeName: 'Cast-in-Place Concrete', category: 'M', originalBudget: '264150.00' },
    { costCode: '03-300', costCodeName: 'Cast-in-Place Concrete', category: 'M', originalBudget: '264150.00' },
    { costCode: '13-340', costCodeName: 'Metal Building Systems', category: 'S', originalBudget: '1120000.00' },
  ]);
  procore.setLocked(harbor.id, true);
  await procore.deliverWebhook({ project_id: harbor.id, user_id: SAMPLE_USERS.projectManager.id, resource_name: 'Budget View Snapshots', event_type: 'create' });
  const harborReady = await waitFor(async () => {
    const list = await call('GET', `/api/v1/budgets?procoreProjectId=${harbor.id}&status=ready_to_export`);
    return list.body.data?.[0];
  }, 'the second budget to be ready to export');
  const reason = 'Cast-in-place concrete (03-300 Material) is entered twice — remove the duplicate & send again.';
  const rejected = await call('POST', `/api/v1/budgets/${harborReady.id}/reject`, { reason });
  info(`POST /api/v1/budgets/${harborReady.id}/reject → HTTP ${rejected.status}, status ${rejected.body.status}`);
  info(`in the console: ${baseUrl}/console/budgets/${harborReady.id}`);
  await waitFor(async () => !procore.isLocked(harbor.id), 'the budget to be unlocked in Procore');
  info('the budget is unlocked in Procore again, so the PM can fix it');
  await waitFor(async () => smtp.messages.find((m) => m.subject.startsWith('Budget rejected')), 'the rejection email');

  step('The inbox');
  for (const message of smtp.messages) info(`to ${message.to.join(', ')}: ${message.subject}`);

  step('Where to look');
  info(`Console        ${baseUrl}/console   (the approver's screen; Ready to Export, the two budgets, Users)`);
  info(`Sign in        ${signInLink}   (Alex's token filled in: press "Sign in with a token")`);
  info(`               ${baseUrl}/console/auth/procore   (one click: "Sign in with Procore" as ${SAMPLE_USERS.accountant.name}, the project accountant)`);
  info(`API            ${baseUrl}/api/v1/budgets   (Authorization: Bearer ${token})`);
  info(`OpenAPI UI     ${baseUrl}/api/docs`);
  info(`Details        curl -s -H "Authorization: Bearer ${token}" ${baseUrl}/api/v1/budgets/${ready.id}`);
  info(`Report         ${baseUrl}/console/budgets/${ready.id}/reconciliation.html  (printable, in the console)`);
  info(`Inbox          ${inbox.url}/`);
  info(`Health         ${baseUrl}/health`);
  info(`Connector log  ${logPath}`);
  info(`Procore stand-in ${procore.url}   Spectrum stand-in ${spectrum.url}/ws/GetPhase`);

  if (exit) {
    await shutdown(final.status === 'synced' ? 0 : 1);
    return;
  }
  console.log(`\nEverything keeps running. Press Ctrl-C to stop.`);
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  if (running.connector && running.connector.exitCode === null) {
    running.connector.kill('SIGTERM');
    await new Promise((resolve) => running.connector!.once('exit', resolve));
  }
  await Promise.allSettled([running.procore?.stop(), running.spectrum?.stop(), running.smtp?.stop()]);
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

async function cli(env: Record<string, string>, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { cwd: ROOT, env });
    return stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run cli -- ${args.join(' ')} failed:\n${failure.stderr || failure.stdout || failure.message}`);
  }
}

function api(baseUrl: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

async function resetDatabase(): Promise<void> {
  const url = new URL(DATABASE_URL);
  const name = url.pathname.replace(/^\//, '');
  const admin = new Client({ connectionString: Object.assign(new URL(DATABASE_URL), { pathname: '/postgres' }).toString() });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${redact(DATABASE_URL)} (${(error as Error).message}). Start it, or set DEMO_DATABASE_URL.`);
  }
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
}

async function resetRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.flushdb();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}). Start it, or set DEMO_REDIS_URL.`);
  } finally {
    redis.disconnect();
  }
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const { port: bound } = server.address() as { port: number };
        server.close(() => resolve(bound));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

main().catch(async (error: Error) => {
  console.error(`\nThe demo failed: ${error.message}`);
  await shutdown(1);
});
