import { defineConfig, Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { MIGRATIONS } from './migrations';

/**
 * ORM options for a database URL and the connector's entities (src/entities.ts: the application
 * names them, the database layer knows none). Migrations are versioned files, never `schema:update`.
 */
export function ormOptions(databaseUrl: string, entities: NonNullable<Options['entities']>, overrides: Partial<Options> = {}) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    pool: { min: 0, max: 10 },
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: MIGRATIONS,
      pathTs: 'src/database/migrations',
      path: 'src/database/migrations',
      snapshot: false,
      transactional: true,
      silent: true,
      allOrNothing: true,
      emit: 'ts',
    },
    ...overrides,
  });
}
