import { MIGRATIONS } from './migrations';

/** The table MikroORM records applied migrations in (mikro-orm.config.ts). */
export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

/**
 * Key of the PostgreSQL session advisory lock held while migrations are applied (`migration:up`,
 * MIGRATE_ON_START): processes starting at once apply them one after the other, and the later ones
 * find nothing left to do.
 */
export const MIGRATION_LOCK_KEY = 'connector:migrations';

/** Runs one query and returns its rows (a pg Client's or the ORM connection's). */
export type RowQuery = (sql: string) => Promise<Array<Record<string, unknown>>>;

/**
 * The migrations this build knows that the database has not applied, oldest first. A database
 * without the migrations table (never migrated) has every migration pending. Read-only: unlike the
 * Migrator, it never creates the table.
 */
export async function pendingMigrations(query: RowQuery, known: readonly string[] = MIGRATIONS.map((m) => m.name)): Promise<string[]> {
  const [table] = await query(`select to_regclass('${MIGRATIONS_TABLE}') is not null as present`);
  if (!table?.present) return [...known];
  const applied = new Set((await query(`select name from ${MIGRATIONS_TABLE}`)).map((row) => bareName(String(row.name))));
  return known.filter((name) => !applied.has(bareName(name)));
}

/** A list of names for a message: the first few, then how many more. */
export function describeMigrations(names: readonly string[], shown = 5): string {
  const listed = names.slice(0, shown).join(', ');
  return names.length > shown ? `${listed} and ${names.length - shown} more` : listed;
}

/** MikroORM records a migration's name without its file extension. */
function bareName(name: string): string {
  return name.replace(/\.[jt]s$/, '');
}
