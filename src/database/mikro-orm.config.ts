import { Logger } from '@nestjs/common';
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
    // The query builder's own warnings (e.g. a connection lost while PostgreSQL restarts) go
    // through the application's logger, as JSON lines, instead of its console output.
    driverOptions: { log: knexLog(new Logger('Database')) },
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

function knexLog(logger: Logger) {
  const text = (message: unknown) => (typeof message === 'string' ? message : JSON.stringify(message));
  return {
    warn: (message: unknown) => logger.warn(text(message)),
    error: (message: unknown) => logger.error(text(message)),
    deprecate: (method: string, alternative: string) => logger.warn(`${method} is deprecated, use ${alternative}`),
    debug: (message: unknown) => logger.debug(text(message)),
  };
}
