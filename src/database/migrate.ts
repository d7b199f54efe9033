import { MikroORM, Options } from '@mikro-orm/postgresql';
import { ormOptions } from './mikro-orm.config';

type Entities = NonNullable<Options['entities']>;

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(databaseUrl: string, entities: Entities): Promise<string[]> {
  const orm = await MikroORM.init(ormOptions(databaseUrl, entities));
  try {
    const applied = await orm.getMigrator().up();
    return applied.map((migration) => migration.name);
  } finally {
    await orm.close(true);
  }
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
