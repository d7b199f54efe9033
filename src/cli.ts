import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { AuditEventRepository } from './audit/audit-event.repository';
import { createWorkerContext } from './bootstrap';
import { AppConfig, loadAppConfig } from './config/app-config';
import { checkDatabase } from './database/database-check';
import { LockRepository } from './database/lock.repository';
import { migrateUp, pendingSchemaDiff } from './database/migrate';
import { ormOptions } from './database/mikro-orm.config';
import { ENTITIES } from './entities';
import { Outbox } from './queue/outbox';
import { JobName } from './queue/queue.contract';
import { SchedulerService } from './scheduler/scheduler.service';
import { ProcoreClient } from './procore/client/procore-client';
import { procoreClientOptions } from './procore/client/procore-client.options';
import { ProcoreUserSync } from './procore/users/procore-user-sync.service';
import { registerWebhooks, WEBHOOK_NAMESPACE } from './procore/webhooks/webhook-registration';
import { ERP_PERMISSIONS, ErpPermission } from './users/user.entity';
import { UserRepository } from './users/user.repository';
import { MAX_TOKEN_DAYS, presentToken, UsersService } from './users/users.service';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migration:up                      apply every pending database migration
  migration:check                   exit 1 if the database schema differs from the entities
  migration:create [--name N]       write a migration for the entity changes (development)
  users:create --email E --name N --permission admin|standard|read_only [--can-push-to-accounting]
                                    create a user and print a new API token on the last line
  tokens:create --user ID|EMAIL [--label L] [--expires-in-days N]
                                    issue a new API token for an existing user; printed alone on the last line
  tokens:list --user ID|EMAIL       list a user's tokens (id, prefix, state, created, last used, expiry)
  tokens:revoke --user ID|EMAIL --id TOKEN_ID
                                    revoke a token: it answers 401 from the next request on
  procore:register-webhooks --url U [--namespace N]
                                    register (or complete) the connector's Procore webhook hooks and
                                    triggers: company-level where Procore offers the resources there,
                                    else one project-level hook per watched project (PROCORE_PROJECT_IDS,
                                    empty = every active project); U is where Procore delivers,
                                    e.g. https://host/webhooks/procore
  procore:sync-users                sync Procore company users into connector users now
  jobs:run <daily-summary|poll-projects|reconcile-sweep|sync-users|sweep-pending-work>
                                    put a scheduled job on its queue now (a running worker does it)

Needs DATABASE_URL; the procore:* commands need the full configuration (see config/connector.env.example).
A .env file in the working directory is read if present.`;

type Command = (args: string[]) => Promise<void>;

function databaseUrl(): string {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) throw new UsageError('DATABASE_URL is required (postgres://user@host:5432/db)');
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) throw new UsageError('DATABASE_URL must be a postgres:// URL');
  return url;
}

class UsageError extends Error {}

/** The whole validated configuration; a ConfigError names every problem and echoes no value. */
function appConfig(): AppConfig {
  return loadAppConfig(process.env);
}

/** Procore client messages worth seeing on a terminal (retries, refusals). */
const cliLogger = { log: () => undefined, warn: (message: string) => console.error(message), error: (message: string) => console.error(message) };

const commands: Record<string, Command> = {
  'migration:up': async () => {
    const url = databaseUrl();
    await checkDatabase(url);
    const applied = await migrateUp(url, ENTITIES, () => console.log('Another process is applying migrations; waiting for it'));
    console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date');
  },

  'migration:check': async () => {
    const url = databaseUrl();
    await checkDatabase(url);
    const diff = await pendingSchemaDiff(url, ENTITIES);
    if (diff) {
      console.error(`The schema differs from the entities; create a migration:\n${diff}`);
      process.exitCode = 1;
    } else {
      console.log('The schema matches the entities');
    }
  },

  'migration:create': async (args) => {
    const { values } = parseArgs({ args, options: { name: { type: 'string' } } });
    const url = databaseUrl();
    await checkDatabase(url);
    const orm = await MikroORM.init(ormOptions(url, ENTITIES));
    try {
      const result = await orm.getMigrator().createMigration('src/database/migrations', false, false, values.name);
      console.log(result.fileName ? `Created src/database/migrations/${result.fileName}; add it to src/database/migrations/index.ts` : 'No changes');
    } finally {
      await orm.close(true);
    }
  },

  'users:create': async (args) => {
    const { values } = parseArgs({
      args,
      options: {
        email: { type: 'string' },
        name: { type: 'string' },
        permission: { type: 'string' },
        'can-push-to-accounting': { type: 'boolean', default: false },
        'no-digest': { type: 'boolean', default: false },
      },
    });
    const problems: string[] = [];
    if (!values.email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email)) problems.push('--email must be an email address');
    if (!values.name?.trim()) problems.push('--name is required');
    if (!values.permission || !(ERP_PERMISSIONS as readonly string[]).includes(values.permission) || values.permission === 'none') {
      problems.push('--permission must be admin, standard or read_only');
    }
    if (problems.length) throw new UsageError(problems.join('; '));
    const url = databaseUrl();
    await checkDatabase(url);
    const orm = await MikroORM.init(ormOptions(url, ENTITIES));
    try {
      const users = standaloneUsersService(orm, url);
      const actor = { label: 'cli' };
      const user = await users.create(
        {
          email: values.email!,
          name: values.name!,
          erpPermission: values.permission as ErpPermission,
          canPushToAccounting: values['can-push-to-accounting'] ?? false,
          subscribedToDigest: !values['no-digest'],
        },
        actor,
      );
      const { token } = await users.createToken(user.id, actor, { label: 'created by the CLI' });
      console.log(`Created user ${user.id} <${user.email}> (${user.erpPermission}${user.canPushToAccounting ? ', can push to accounting' : ''}).`);
      console.log('Its API token is shown once; keep it safe:');
      console.log(token);
    } finally {
      await orm.close(true);
    }
  },

  'tokens:create': async (args) => {
    const { values } = parseArgs({ args, options: { user: { type: 'string' }, label: { type: 'string' }, 'expires-in-days': { type: 'string' } } });
    const problems: string[] = [];
    if (!values.user?.trim()) problems.push('--user must be a user id or email');
    const label = values.label?.trim();
    if (values.label !== undefined && (!label || label.length > 100)) problems.push('--label must be 1 to 100 characters');
    const days = values['expires-in-days'];
    if (days !== undefined && (!/^\d{1,4}$/.test(days) || Number(days) < 1 || Number(days) > MAX_TOKEN_DAYS)) {
      problems.push(`--expires-in-days must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}`);
    }
    if (problems.length) throw new UsageError(problems.join('; '));
    await withUsers(async (users) => {
      const user = await users.find(values.user!);
      const { token, record } = await users.createToken(user.id, { label: 'cli' }, { label: label ?? 'created by the CLI', expiresInDays: days ? Number(days) : undefined });
      console.log(
        `Issued token ${record.id} (${record.tokenPrefix}…) for user ${user.id} <${user.email}>` +
          (record.expiresAt ? `, expiring ${record.expiresAt.toISOString()}.` : ', without expiry.'),
      );
      console.log('It is shown once; keep it safe:');
      console.log(token);
    });
  },

  'tokens:list': async (args) => {
    const { values } = parseArgs({ args, options: { user: { type: 'string' } } });
    if (!values.user?.trim()) throw new UsageError('--user must be a user id or email');
    await withUsers(async (users) => {
      const user = await users.find(values.user!);
      const tokens = (await users.listTokens(user.id)).map((token) => presentToken(token));
      if (!tokens.length) console.log(`User ${user.id} <${user.email}> has no tokens.`);
      for (const token of tokens) {
        console.log(
          `${token.id}\t${token.prefix}…\t${token.state}\tcreated ${token.createdAt}\tlast used ${token.lastUsedAt ?? 'never'}\t` +
            `expires ${token.expiresAt ?? 'never'}${token.label ? `\t${token.label}` : ''}`,
        );
      }
    });
  },

  'tokens:revoke': async (args) => {
    const { values } = parseArgs({ args, options: { user: { type: 'string' }, id: { type: 'string' } } });
    const problems: string[] = [];
    if (!values.user?.trim()) problems.push('--user must be a user id or email');
    if (!values.id || !/^[1-9]\d{0,17}$/.test(values.id)) problems.push('--id must be the token id (see tokens:list)');
    if (problems.length) throw new UsageError(problems.join('; '));
    await withUsers(async (users) => {
      const user = await users.find(values.user!);
      const token = await users.revokeToken(user.id, values.id!, { label: 'cli' });
      console.log(`Revoked token ${token.id} (${token.tokenPrefix}…) of user ${user.id} <${user.email}> at ${token.revokedAt!.toISOString()}.`);
    });
  },

  'procore:register-webhooks': async (args) => {
    const { values } = parseArgs({ args, options: { url: { type: 'string' }, namespace: { type: 'string' } } });
    if (!values.url || !/^https?:\/\/\S+$/.test(values.url)) throw new UsageError('--url must be the http(s) address Procore delivers to, e.g. https://connector.example.com/webhooks/procore');
    if (values.namespace !== undefined && !values.namespace.trim()) throw new UsageError('--namespace must not be empty');
    const config = appConfig();
    const client = new ProcoreClient(procoreClientOptions(config), cliLogger);
    const result = await registerWebhooks(client, {
      destinationUrl: values.url,
      authorization: config.procore.webhookSecret,
      namespace: values.namespace?.trim() || WEBHOOK_NAMESPACE,
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
  },

  'procore:sync-users': async () => {
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
  },
};

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

const RUNNABLE: Record<string, JobName> = {
  'daily-summary': JobName.DailySummary,
  'poll-projects': JobName.PollProjects,
  'reconcile-sweep': JobName.ReconcileSweep,
  'sync-users': JobName.SyncUsers,
  'sweep-pending-work': JobName.SweepPendingWork,
};

commands['jobs:run'] = async (args) => {
  const jobName = RUNNABLE[args[0] ?? ''];
  if (!jobName) throw new UsageError(`jobs:run needs one of: ${Object.keys(RUNNABLE).join(', ')}`);
  const config = appConfig();
  await checkDatabase(config.databaseUrl);
  const app = await createWorkerContext(config, { runWorkers: false, runScheduler: false, logger: ['error'] });
  try {
    const now = new Date();
    const work =
      jobName === JobName.DailySummary
        ? await app.get(SchedulerService).runDailySummaryNow(now)
        : await app.get(Outbox).enqueue(jobName, { window: `manual:${now.toISOString()}` }, {
            dedupeKey: `${jobName}:manual:${now.toISOString()}`,
          });
    console.log(`${work.created ? 'Queued' : 'Already queued'}: ${jobName} (pending work ${work.id}); a running worker processes it.`);
  } finally {
    await app.close();
  }
};

export async function runCli(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(name && name !== '--help' ? `Unknown command "${name}".\n\n${USAGE}` : USAGE);
    process.exitCode = name === '--help' ? 0 : 2;
    return;
  }
  await command(args);
}

if (require.main === module) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  Logger.overrideLogger(['warn', 'error']);
  runCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : `Error: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
