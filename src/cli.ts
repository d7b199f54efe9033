import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import { AuditService } from './audit/audit.service';
import { ormOptions } from './database/mikro-orm.config';
import { checkDatabase } from './database/database-check';
import { migrateUp, pendingSchemaDiff } from './database/migrate';
import { ERP_PERMISSIONS, ErpPermission } from './users/user.entity';
import { UsersService } from './users/users.service';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migration:up                      apply every pending database migration
  migration:check                   exit 1 if the database schema differs from the entities
  migration:create [--name N]       write a migration for the entity changes (development)
  users:create --email E --name N --permission admin|standard|read_only [--can-push-to-accounting]
                                    create a user and print a new API token on the last line

Needs DATABASE_URL (and a .env file in the working directory is read if present).`;

type Command = (args: string[]) => Promise<void>;

function databaseUrl(): string {
  const url = process.env.DATABASE_URL?.trim();
  if (!url) throw new UsageError('DATABASE_URL is required (postgres://user@host:5432/db)');
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) throw new UsageError('DATABASE_URL must be a postgres:// URL');
  return url;
}

class UsageError extends Error {}

const commands: Record<string, Command> = {
  'migration:up': async () => {
    const url = databaseUrl();
    await checkDatabase(url);
    const applied = await migrateUp(url);
    console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date');
  },

  'migration:check': async () => {
    const url = databaseUrl();
    await checkDatabase(url);
    const diff = await pendingSchemaDiff(url);
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
    const orm = await MikroORM.init(ormOptions(url));
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
    const orm = await MikroORM.init(ormOptions(url));
    try {
      const users = new UsersService(orm.em.fork(), new AuditService());
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
      const { token } = await users.createToken(user.id, actor, 'created by the CLI');
      console.log(`Created user ${user.id} <${user.email}> (${user.erpPermission}${user.canPushToAccounting ? ', can push to accounting' : ''}).`);
      console.log('Its API token is shown once; keep it safe:');
      console.log(token);
    } finally {
      await orm.close(true);
    }
  },
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
  runCli(process.argv.slice(2)).catch((error: Error) => {
    console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : `Error: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
