import { MikroORM, Options } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { describeMigrations, MIGRATION_LOCK_KEY, pendingMigrations } from './migration-status';
import { ormOptions } from './mikro-orm.config';

type Entities = NonNullable<Options['entities']>;

/**
 * Applies every pending migration; returns the names applied. Holds the migrations' advisory lock
 * meanwhile, so that several processes (or `migration:up` beside a start with MIGRATE_ON_START)
 * apply them one after the other: the later ones find nothing left. `onWait` is called once when
 * another process holds the lock.
 */
export async function migrateUp(databaseUrl: string, entities: Entities, onWait?: () => void): Promise<string[]> {
  return withMigrationLock(
    databaseUrl,
    async () => {
      const orm = await MikroORM.init(ormOptions(databaseUrl, entities));
      try {
        const applied = await orm.getMigrator().up();
        return applied.map((migration) => migration.name);
      } finally {
        await orm.close(true);
      }
    },
    onWait,
  );
}

/** Raised at start when the database lacks migrations and MIGRATE_ON_START is not true. */
export class PendingMigrationsError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `The database has ${pending.length} pending migration${pending.length === 1 ? '' : 's'} (${describeMigrations(pending)}). ` +
        'Run `npm run migration:up` (in a container: `node dist/cli.js migration:up`) and start again, ' +
        'or set MIGRATE_ON_START=true to apply them at start.',
    );
  }
}

/**
 * Start-up: with migrations pending, refuses (PendingMigrationsError) unless `migrateOnStart`, in
 * which case it applies them under the advisory lock. Returns the names this process applied.
 */
export async function migrateAtStart(
  databaseUrl: string,
  entities: Entities,
  migrateOnStart: boolean,
  log: (message: string) => void,
): Promise<string[]> {
  const pending = await withClient(databaseUrl, (client) => pendingMigrations(async (sql) => (await client.query(sql)).rows));
  if (!pending.length) return [];
  if (!migrateOnStart) throw new PendingMigrationsError(pending);
  log(`MIGRATE_ON_START=true: applying ${pending.length} pending migration(s): ${describeMigrations(pending)}`);
  const applied = await migrateUp(databaseUrl, entities, () => log('Another process is applying migrations; waiting for it'));
  log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Another process applied the migrations');
  return applied;
}

/** The SQL that would bring the database in line with the entities; empty when they match. */
export async function pendingSchemaDiff(databaseUrl: string, entities: Entities): Promise<string> {
  const orm = await MikroORM.init(ormOptions(databaseUrl, entities));
  try {
    return (await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: false })).trim();
  } finally {
    await orm.close(true);
  }
}

/**
 * Runs `work` holding the migrations' session advisory lock, on a connection of its own (released
 * with it, even if this process dies).
 */
async function withMigrationLock<T>(databaseUrl: string, work: () => Promise<T>, onWait?: () => void): Promise<T> {
  return withClient(databaseUrl, async (client) => {
    const [{ locked }] = (await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1)) as locked', [MIGRATION_LOCK_KEY])).rows;
    if (!locked) {
      onWait?.();
      await client.query('select pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK_KEY]);
    }
    try {
      return await work();
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
}

async function withClient<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a dropped connection fails the query in progress
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
