import { Client } from 'pg';
import Redis from 'ioredis';
import { databaseUrl, redisUrl, runId } from './test-env';

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

/**
 * Deletes this run's queue keys from this worker's Redis database — never another run's: several
 * jest runs (or the demo) may share the server.
 */
export async function resetRedis(url = redisUrl()): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `test-${runId()}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
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

/** A real FLUSHDB of this worker's Redis database: everything the connector kept in Redis is gone. */
export async function flushRedis(url = redisUrl()): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
