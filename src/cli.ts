import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Argument, Command, CommanderError } from 'commander';
import { AuditEventRepository } from './audit/audit-event.repository';
import { createWorkerContext } from './bootstrap';
import { AppConfig, hasUnencodedCredentials, loadAppConfig } from './config/app-config';
import { checkDatabase } from './database/database-check';
import { LockRepository } from './database/lock.repository';
import { migrateUp, pendingSchemaDiff } from './database/migrate';
import { ormOptions } from './database/mikro-orm.config';
import { ENTITIES } from './entities';
import { Outbox } from './queue/outbox';
import { JobName } from './queue/queue.contract';
import { SubmissionRepository } from './budgets/submission.repository';
import { SchedulerService } from './scheduler/scheduler.service';
import { ProcoreClient } from './procore/client/procore-client';
import { procoreClientOptions } from './procore/client/procore-client.options';
import { ProcoreUserSync } from './procore/users/procore-user-sync.service';
import { registerWebhooks, WEBHOOK_NAMESPACE } from './procore/webhooks/webhook-registration';
import { ERP_PERMISSIONS, ErpPermission } from './users/user.entity';
import { UserRepository } from './users/user.repository';
import { MAX_TOKEN_DAYS, presentToken, UsersService } from './users/users.service';

/**
 * `npm run cli -- <command> [options]`, on commander: every command answers `--help` (to stdout,
 * exit 0); an unknown command, option or argument, or a value a command refuses, is an error on
 * stderr with exit code 2; a failure while working exits 1.
 */

const FOOTER = `
Needs DATABASE_URL; the procore:* and jobs:* commands need the full configuration (see config/connector.env.example).
A .env file in the working directory is read if present.`;

/** A value a command refuses (exit 2, like commander's own usage errors). */
class UsageError extends Error {}

function databaseUrl(): string {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) throw new UsageError('DATABASE_URL is required (postgres://user@host:5432/db)');
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) throw new UsageError('DATABASE_URL must be a postgres:// URL');
  if (hasUnencodedCredentials(url)) {
    throw new UsageError('DATABASE_URL has a user name or password holding / # ? or @: percent-encode them there (/ as %2F, # as %23, ? as %3F, @ as %40)');
  }
  return url;
}

/** The whole validated configuration; a ConfigError names every problem and echoes no value. */
function appConfig(): AppConfig {
  return loadAppConfig(process.env);
}

/** Procore client messages worth seeing on a terminal (retries, refusals). */
const cliLogger = { log: () => undefined, warn: (message: string) => console.error(message), error: (message: string) => console.error(message) };

async function migrationUp(): Promise<void> {
  const url = databaseUrl();
  await checkDatabase(url);
  const applied = await migrateUp(url, ENTITIES, () => console.log('Another process is applying migrations; waiting for it'));
  console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date');
}

async function migrationCheck(): Promise<void> {
  const url = databaseUrl();
  await checkDatabase(url);
  const diff = await pendingSchemaDiff(url, ENTITIES);
  if (diff) {
    console.error(`The schema differs from the entities; create a migration:\n${diff}`);
    process.exitCode = 1;
  } else {
    console.log('The schema matches the entities');
  }
}

async function migrationCreate(options: { name?: string }): Promise<void> {
  const url = databaseUrl();
  await checkDatabase(url);
  const orm = await MikroORM.init(ormOptions(url, ENTITIES));
  try {
    const result = await orm.getMigrator().createMigration('src/database/migrations', false, false, options.name);
    console.log(result.fileName ? `Created src/database/migrations/${result.fileName}; add it to src/database/migrations/index.ts` : 'No changes');
  } finally {
    await orm.close(true);
  }
}

interface UsersCreateOptions {
  email?: string;
  name?: string;
  permission?: string;
  canPushToAccounting: boolean;
  digest: boolean;
}

async function usersCreate(options: UsersCreateOptions): Promise<void> {
  const problems: string[] = [];
  if (!options.email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(options.email)) problems.push('--email must be an email address');
  if (!options.name?.trim()) problems.push('--name is required');
  if (!options.permission || !(ERP_PERMISSIONS as readonly string[]).includes(options.permission) || options.permission === 'none') {
    problems.push('--permission must be admin, standard or read_only');
  }
  if (problems.length) throw new UsageError(problems.join('; '));
  await withUsers(async (users) => {
    const actor = { label: 'cli' };
    const user = await users.create(
      {
        email: options.email!,
        name: options.name!,
        erpPermission: options.permission as ErpPermission,
        canPushToAccounting: options.canPushToAccounting,
        subscribedToDigest: options.digest,
      },
      actor,
    );
    const { token } = await users.createToken(user.id, actor, { label: 'created by the CLI' });
    console.log(`Created user ${user.id} <${user.email}> (${user.erpPermission}${user.canPushToAccounting ? ', can push to accounting' : ''}).`);
    console.log('Its API token is shown once; keep it safe:');
    console.log(token);
  });
}

async function tokensCreate(options: { user?: string; label?: string; expiresInDays?: string }): Promise<void> {
  const problems: string[] = [];
  if (!options.user?.trim()) problems.push('--user must be a user id or email');
  const label = options.label?.trim();
  if (options.label !== undefined && (!label || label.length > 100)) problems.push('--label must be 1 to 100 characters');
  const days = options.expiresInDays;
  if (days !== undefined && (!/^\d{1,4}$/.test(days) || Number(days) < 1 || Number(days) > MAX_TOKEN_DAYS)) {
    problems.push(`--expires-in-days must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}`);
  }
  if (problems.length) throw new UsageError(problems.join('; '));
  await withUsers(async (users) => {
    const user = await users.find(options.user!);
    const { token, record } = await users.createToken(user.id, { label: 'cli' }, { label: label ?? 'created by the CLI', expiresInDays: days ? Number(days) : undefined });
    console.log(
      `Issued token ${record.id} (${record.tokenPrefix}…) for user ${user.id} <${user.email}>` +
        (record.expiresAt ? `, expiring ${record.expiresAt.toISOString()}.` : ', without expiry.'),
    );
    console.log('It is shown once; keep it safe:');
    console.log(token);
  });
}

async function tokensList(options: { user?: string }): Promise<void> {
  if (!options.user?.trim()) throw new UsageError('--user must be a user id or email');
  await withUsers(async (users) => {
    const user = await users.find(options.user!);
    const tokens = (await users.listTokens(user.id)).map((token) => presentToken(token));
    if (!tokens.length) console.log(`User ${user.id} <${user.email}> has no tokens.`);
    for (const token of tokens) {
      console.log(
        `${token.id}\t${token.prefix}…\t${token.state}\tcreated ${token.createdAt}\tlast used ${token.lastUsedAt ?? 'never'}\t` +
          `expires ${token.expiresAt ?? 'never'}${token.label ? `\t${token.label}` : ''}`,
      );
    }
  });
}

async function tokensRevoke(options: { user?: string; id?: string }): Promise<void> {
  const problems: string[] = [];
  if (!options.user?.trim()) problems.push('--user must be a user id or email');
  if (!options.id || !/^[1-9]\d{0,17}$/.test(options.id)) problems.push('--id must be the token id (see tokens:list)');
  if (problems.length) throw new UsageError(problems.join('; '));
  await withUsers(async (users) => {
    const user = await users.find(options.user!);
    const token = await users.revokeToken(user.id, options.id!, { label: 'cli' });
    console.log(`Revoked token ${token.id} (${token.tokenPrefix}…) of user ${user.id} <${user.email}> at ${token.revokedAt!.toISOString()}.`);
  });
}

async function registerProcoreWebhooks(options: { url?: string; namespace?: string }): Promise<void> {
  if (!options.url || !/^https?:\/\/\S+$/.test(options.url)) {
    throw new UsageError('--url must be the http(s) address Procore delivers to, e.g. https://connector.example.com/webhooks/procore');
  }
  if (options.namespace !== undefined && !options.namespace.trim()) throw new UsageError('--namespace must not be empty');
  const config = appConfig();
  const client = new ProcoreClient(procoreClientOptions(config), cliLogger);
  const result = await registerWebhooks(client, {
    destinationUrl: options.url,
    authorization: config.procore.webhookSecret,
    namespace: options.namespace?.trim() || WEBHOOK_NAMESPACE,
    projectIds: config.procore.projectIds,
  });
  if (result.api === 'v1') console.log('Procore answered 404 to the v2.0 webhooks API; the v1.0 hooks API was used.');
  for (const entry of result.hooks) {
    const where = entry.scope.projectId === undefined ? 'company' : `project ${entry.scope.projectId}`;
    console.log(
      `${entry.hookCreated ? 'Created' : 'Reusing'} ${where} hook ${entry.hook.id} (namespace "${entry.hook.namespace}") → ${entry.hook.destination_url}; ` +
        `its Authorization header is PROCORE_WEBHOOK_SECRET.`,
    );
    console.log(
      entry.createdTriggers.length
        ? `  Created ${entry.createdTriggers.length} trigger(s): ${entry.createdTriggers.map((t) => `${t.resourceName} ${t.eventType}`).join(', ')}; ${entry.existingTriggers} already present.`
        : `  All ${entry.existingTriggers} triggers were already present.`,
    );
  }
  for (const warning of result.warnings) console.error(`Warning: ${warning}`);
}

async function syncProcoreUsers(): Promise<void> {
  const config = appConfig();
  await checkDatabase(config.databaseUrl);
  const orm = await MikroORM.init(ormOptions(config.databaseUrl, ENTITIES));
  try {
    const sync = new ProcoreUserSync(
      new UserRepository(orm.em),
      new LockRepository(orm.em, config),
      new ProcoreClient(procoreClientOptions(config), cliLogger),
      new AuditEventRepository(orm.em),
    );
    const result = await sync.sync({ label: 'cli' });
    console.log(
      `Read ${result.read} Procore user(s): ${result.created} created, ${result.updated} updated ` +
        `(${result.deactivated} deactivated, ${result.linked} linked by email).`,
    );
    for (const skipped of result.skipped) console.error(`Skipped: ${skipped}`);
    for (const kept of result.kept) console.error(`Kept: ${kept}`);
  } finally {
    await orm.close(true);
  }
}

/** The users service on an ORM of its own, outside the application's container (no Redis, no full configuration). */
function standaloneUsersService(orm: MikroORM, databaseUrl: string): UsersService {
  return new UsersService(new UserRepository(orm.em), new AuditEventRepository(orm.em), new LockRepository(orm.em, { databaseUrl }));
}

/** Runs `work` with the users service on its own ORM (no Redis, no full configuration needed). */
async function withUsers(work: (users: UsersService) => Promise<void>): Promise<void> {
  const url = databaseUrl();
  await checkDatabase(url);
  const orm = await MikroORM.init(ormOptions(url, ENTITIES));
  try {
    await work(standaloneUsersService(orm, url));
  } finally {
    await orm.close(true);
  }
}

/** The jobs `jobs:run` puts on their queue, and what a worker then does. */
const RUNNABLE: Record<string, { jobName: JobName; does: string }> = {
  'daily-summary': { jobName: JobName.DailySummary, does: 'records and sends the daily summary' },
  'poll-projects': { jobName: JobName.PollProjects, does: 'checks every watched Procore project for budgets sent to the ERP (the polling sweep)' },
  'reconcile-sweep': { jobName: JobName.ReconcileSweep, does: 'reconciles every exported or out-of-sync budget with Spectrum' },
  'sync-users': { jobName: JobName.SyncUsers, does: 'syncs Procore company users into connector users' },
  'sweep-pending-work': { jobName: JobName.SweepPendingWork, does: 'puts recorded work without a live job back on its queue' },
};

/**
 * Puts a scheduled job on its queue now and says what that means. The daily summary is looked at
 * first: with nothing awaiting acceptance, or no approver subscribed, nothing is queued.
 */
async function runJob(job: string): Promise<void> {
  const { jobName, does } = RUNNABLE[job];
  const config = appConfig();
  await checkDatabase(config.databaseUrl);
  const app = await createWorkerContext(config, { runWorkers: false, runScheduler: false, logger: ['error'] });
  try {
    const now = new Date();
    if (jobName === JobName.DailySummary) {
      const waiting = await app.get(SubmissionRepository).count('ready_to_export');
      if (!waiting) {
        console.log('Nothing waits: no budget awaits acceptance, so no summary today (nothing queued).');
        return;
      }
      const subscribed = (await app.get(UserRepository).approvers({ digestOnly: true })).length;
      if (!subscribed) {
        console.log(`${waiting} budget(s) await acceptance, but no active approver is subscribed to the daily summary (nothing queued).`);
        return;
      }
      const work = await app.get(SchedulerService).runDailySummaryNow(now);
      console.log(
        `${work.created ? 'Queued' : 'Already queued'}: the daily summary (pending work ${work.id}) of ${waiting} budget(s) awaiting acceptance, ` +
          `to ${subscribed} subscribed approver(s); a running worker ${does}, once per approver and day.`,
      );
      return;
    }
    const work = await app.get(Outbox).enqueue(jobName, { window: `manual:${now.toISOString()}` }, { dedupeKey: `${jobName}:manual:${now.toISOString()}` });
    console.log(`${work.created ? 'Queued' : 'Already queued'}: ${jobName} (pending work ${work.id}); a running worker ${does}.`);
  } finally {
    await app.close();
  }
}

/** Runs an action; a UsageError becomes commander's usage error (stderr, exit 2). */
function action<A extends unknown[]>(work: (...args: A) => Promise<void>): (...args: [...A, Command]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    try {
      await work(...(args.slice(0, -1) as A));
    } catch (error) {
      if (error instanceof UsageError) command.error(`error: ${error.message}`, { exitCode: 2, code: 'cli.usage' });
      throw error;
    }
  };
}

/** Every command, as `npm run cli -- --help` lists them. */
export function cliProgram(): Command {
  const program = new Command('npm run cli --')
    .description('The Procore → Spectrum connector’s operator commands.')
    .usage('<command> [options]')
    .addHelpText('after', FOOTER)
    .showHelpAfterError('(see npm run cli -- --help)')
    .exitOverride()
    .configureHelp({ sortSubcommands: false });
  const command = (name: string, description: string, more = '') =>
    program
      .command(name)
      .description(description)
      .exitOverride()
      .showHelpAfterError(`(see npm run cli -- ${name} --help)`)
      .addHelpText('after', more + FOOTER);

  command('migration:up', 'apply every pending database migration').action(action(migrationUp));
  command('migration:check', 'exit 1 if the database schema differs from the entities').action(action(migrationCheck));
  command('migration:create', 'write a migration for the entity changes (development)')
    .option('--name <name>', 'a name for the migration file')
    .action(action(migrationCreate));
  command('users:create', 'create a user and print a new API token on the last line')
    .option('--email <email>', 'the user’s email address (required)')
    .option('--name <name>', 'the user’s name (required)')
    .option('--permission <permission>', 'ERP permission: admin, standard or read_only (required)')
    .option('--can-push-to-accounting', 'may accept budgets into Spectrum', false)
    .option('--no-digest', 'not subscribed to the daily summary email')
    .action(action(usersCreate));
  command('tokens:create', 'issue a new API token for an existing user; printed alone on the last line')
    .option('--user <id|email>', 'the user (required)')
    .option('--label <label>', 'what the token is for (1 to 100 characters)')
    .option('--expires-in-days <days>', `days until it expires (1 to ${MAX_TOKEN_DAYS}; default: never)`)
    .action(action(tokensCreate));
  command('tokens:list', "list a user's tokens (id, prefix, state, created, last used, expiry)")
    .option('--user <id|email>', 'the user (required)')
    .action(action(tokensList));
  command('tokens:revoke', 'revoke a token: it answers 401 from the next request on')
    .option('--user <id|email>', 'the user (required)')
    .option('--id <token-id>', 'the token id, as tokens:list shows it (required)')
    .action(action(tokensRevoke));
  command(
    'procore:register-webhooks',
    "register (or complete) the connector's Procore webhook hooks and triggers: company-level where Procore offers the resources there, " +
      'else one project-level hook per watched project (PROCORE_PROJECT_IDS, empty = every active project)',
  )
    .option('--url <url>', 'where Procore delivers, e.g. https://host/webhooks/procore (required)')
    .option('--namespace <namespace>', `the hooks' namespace (default: ${WEBHOOK_NAMESPACE})`)
    .action(action(registerProcoreWebhooks));
  command('procore:sync-users', 'sync Procore company users into connector users now').action(action(syncProcoreUsers));
  const jobs = Object.entries(RUNNABLE).map(([name, job]) => `  ${name.padEnd(20)}a worker ${job.does}`);
  command('jobs:run', 'put a scheduled job on its queue now (a running worker does it) and say what that means', `\nJobs:\n${jobs.join('\n')}\n`)
    .addArgument(new Argument('<job>', 'the job').choices(Object.keys(RUNNABLE)))
    .action(action(runJob));
  return program;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await cliProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has written its message (or the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    console.error(`Error: ${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  Logger.overrideLogger(['warn', 'error']);
  void runCli(process.argv.slice(2)).then((code) => {
    // Success ends once every connection is closed, as the commands leave them; a failure at once.
    if (code === 0) process.exitCode = 0;
    else process.exit(code);
  });
}
