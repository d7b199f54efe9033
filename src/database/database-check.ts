import { Client } from 'pg';

/** Connects once to prove DATABASE_URL works; throws a message naming it, without the password. */
export async function checkDatabase(databaseUrl: string, timeoutMs = 5_000): Promise<void> {
  let client: Client | undefined;
  try {
    client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(`DATABASE_URL: cannot connect to ${redactUrl(databaseUrl)}: ${(error as Error).message}`);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** Hides the password: everything between the user name and the last `@` before the host. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):.*@(?=[^@]*$)/, '//$1:***@');
}
