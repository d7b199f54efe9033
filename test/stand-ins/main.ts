/**
 * `npm run stand-ins`: the three stand-ins — Procore, Spectrum and an SMTP inbox — on fixed local
 * ports with matching sample data, for running the connector by hand against them. It prints the
 * environment lines that point the connector at them (and writes them to tmp/stand-ins.env), then
 * keeps running until Ctrl-C.
 *
 * Ports (each overridable; 0 takes a free one):
 *   Procore   8480  STAND_INS_PROCORE_PORT    REST API and login host (OAuth) on one URL
 *   Spectrum  8482  STAND_INS_SPECTRUM_PORT   Data Exchange SOAP services at /ws/<Service>
 *   SMTP      2525  STAND_INS_SMTP_PORT
 *   inbox     8025  STAND_INS_INBOX_PORT      the received emails in a browser (JSON at /messages.json)
 * CONNECTOR_URL (default http://localhost:3000) is where the connector will answer: the redirect URI
 * of "Sign in with Procore" and the PUBLIC_URL printed. STAND_INS_ENV_FILE: where to write the lines.
 *
 * Data: Procore holds the sample project 1001 "Riverside Medical Office Building" (job 26-101, its
 * budget unlocked, three company users); Spectrum holds company ABC with job 26-101 as it stands
 * before that budget's first export (seedSpectrumForSampleProject), so exporting the sample budget
 * ends `synced` (test/stand-ins/stand-ins-runner.int-spec.ts checks it; the demo walks it).
 *
 * Typed commands (stdin, when it is a terminal or STAND_INS_COMMANDS=stdin): `send` locks the
 * sample budget in Procore and delivers a "Budget View Snapshots" webhook to the hooks registered
 * with `npm run cli -- procore:register-webhooks`, as a project manager's "Send to ERP" would;
 * `unlock`; `help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProcoreStandIn, SAMPLE_PROJECT, SAMPLE_USERS, seedSampleProject } from './procore';
import { SmtpStandIn } from './smtp';
import { DEMO_JOB, seedSpectrumForSampleProject, SpectrumStandIn } from './spectrum';

export const STAND_IN_PORTS = { procore: 8480, spectrum: 8482, smtp: 2525, inbox: 8025 } as const;

/** Fixed, so the printed lines stay valid from one run to the next. At least 32 characters. */
const WEBHOOK_SECRET = 'stand-ins-webhook-secret-change-me-0123456789';
const CONSOLE_APP = { clientId: 'stand-ins-console', clientSecret: 'stand-ins-console-secret' };
const SPECTRUM = { authorizationId: 'API', companyCode: 'ABC' };

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number (0 takes a free one)`);
  return value;
}

async function main(): Promise<void> {
  const connectorUrl = (process.env.CONNECTOR_URL ?? 'http://localhost:3000').replace(/\/+$/, '');

  const procore = new ProcoreStandIn();
  await procore.start(port('STAND_INS_PROCORE_PORT', STAND_IN_PORTS.procore));
  seedSampleProject(procore, { locked: false });
  procore.oauth.registerApp({ ...CONSOLE_APP, redirectUri: `${connectorUrl}/console/auth/procore/callback` });
  // The stand-in has no login screen: "Sign in with Procore" signs in the project accountant.
  procore.oauth.signInAs(SAMPLE_USERS.accountant.id);

  const spectrum = await SpectrumStandIn.start({ ...SPECTRUM, port: port('STAND_INS_SPECTRUM_PORT', STAND_IN_PORTS.spectrum) });
  seedSpectrumForSampleProject(spectrum);

  const smtp = new SmtpStandIn();
  const { url: smtpUrl } = await smtp.start(port('STAND_INS_SMTP_PORT', STAND_IN_PORTS.smtp));
  const inbox = await smtp.startInbox(port('STAND_INS_INBOX_PORT', STAND_IN_PORTS.inbox));

  const env: Array<[string, string]> = [
    ...Object.entries(procore.environment()),
    ['PROCORE_WEBHOOK_SECRET', WEBHOOK_SECRET],
    ['PROCORE_PROJECT_IDS', String(SAMPLE_PROJECT.id)],
    ['PROCORE_OAUTH_CLIENT_ID', CONSOLE_APP.clientId],
    ['PROCORE_OAUTH_CLIENT_SECRET', CONSOLE_APP.clientSecret],
    ['SPECTRUM_URL', spectrum.url],
    ['SPECTRUM_AUTHORIZATION_ID', SPECTRUM.authorizationId],
    ['SPECTRUM_COMPANY_CODE', SPECTRUM.companyCode],
    ['SMTP_URL', smtpUrl],
    ['MAIL_FROM', 'erp-connector@summit-builders.example'],
    ['PUBLIC_URL', connectorUrl],
  ];
  const envText = env.map(([name, value]) => `${name}=${value}`).join('\n');
  const envFile = process.env.STAND_INS_ENV_FILE ?? join(__dirname, '..', '..', 'tmp', 'stand-ins.env');
  mkdirSync(join(envFile, '..'), { recursive: true });
  writeFileSync(envFile, `# Written by npm run stand-ins: the connector pointed at the local stand-ins.\n${envText}\n`);

  console.log(`Procore stand-in   ${procore.url}  — project ${SAMPLE_PROJECT.id} "${SAMPLE_PROJECT.name}" (job ${SAMPLE_PROJECT.project_number}), company ${procore.companyId}`);
  console.log(`Spectrum stand-in  ${spectrum.url}/ws/<Service>  — company ${SPECTRUM.companyCode}, job ${DEMO_JOB.jobNumber}`);
  console.log(`SMTP stand-in      ${smtpUrl}`);
  console.log(`Inbox              ${inbox.url}/`);
  console.log(`\nPoint the connector at them (also written to ${envFile}); add DATABASE_URL and REDIS_URL:\n`);
  console.log(envText);
  console.log('\nStand-ins ready. Type "send" to lock the sample budget and send it from Procore, "help" for more; Ctrl-C stops.');

  let stopping = false;
  const stop = (code = 0) => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled([procore.stop(), spectrum.stop(), smtp.stop()]).then(() => process.exit(code));
  };
  process.on('SIGINT', () => stop());
  process.on('SIGTERM', () => stop());

  if (!process.stdin.isTTY && process.env.STAND_INS_COMMANDS !== 'stdin') return;
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => void command(line.trim(), procore).catch((error: Error) => console.log(`  ${error.message}`)));
}

async function command(line: string, procore: ProcoreStandIn): Promise<void> {
  const projectId = SAMPLE_PROJECT.id;
  if (line === 'send') {
    procore.setLocked(projectId, true);
    const statuses = await procore.deliverWebhook({
      project_id: projectId,
      user_id: SAMPLE_USERS.projectManager.id,
      resource_name: 'Budget View Snapshots',
      event_type: 'create',
    });
    console.log(
      statuses.length
        ? `  budget ${projectId} locked; webhook delivered: HTTP ${statuses.join(', ')}`
        : `  budget ${projectId} locked; no hook registered yet (npm run cli -- procore:register-webhooks --url <connector>/webhooks/procore), so the polling sweep or POST /api/v1/budgets will pick it up`,
    );
  } else if (line === 'unlock') {
    procore.setLocked(projectId, false);
    console.log(`  budget ${projectId} unlocked`);
  } else if (line === 'help' || line !== '') {
    console.log('  send    lock the sample budget and deliver its "Budget View Snapshots" webhook (Send to ERP)');
    console.log('  unlock  unlock the sample budget in Procore');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
