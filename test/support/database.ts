import { Client } from 'pg';
import Redis from 'ioredis';
import { databaseUrl, redisUrl } from './test-env';

const TABLES_TO_KEEP = new Set(['mikro_orm_migrations']);

/**
 * Empties every table of this worker's database (the schema stays). Ids keep counting up, so a
 * queue job left in Redis by an earlier test never shares an id with new work.
 */
export async function resetDatabase(url = databaseUrl()): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(`select tablename from pg_tables where schemaname = 'public'`);
    const tables = rows.map((row) => row.tablename).filter((name) => !TABLES_TO_KEEP.has(name));
    if (tables.length) await client.query(`truncate ${tables.map((name) => `"${name}"`).join(', ')} cascade`);
  } finally {
    await client.end();
  }
}

/** Empties this worker's Redis database. */
export async function resetRedis(url = redisUrl()): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}

/** Runs one query against this worker's database. */
export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
