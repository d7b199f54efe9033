import { defineConfig, Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** ORM options for a database URL. Migrations are versioned files, never `schema:update`. */
export function ormOptions(databaseUrl: string, overrides: Partial<Options> = {}) {
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ENTITIES,
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
