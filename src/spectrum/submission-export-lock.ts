import { Client } from 'pg';

/**
 * A PostgreSQL session advisory lock per submission, so two workers never export the same
 * submission at once (a re-enqueued job after a Redis flush, a sweeper racing a slow worker). It
 * lives on a connection of its own: if the worker dies, PostgreSQL drops the connection and the
 * lock with it, and another worker can resume at once.
 */
export class SubmissionExportLock {
  private constructor(private readonly client: Client) {}

  /** The lock, or null when another worker holds it. */
  static async tryAcquire(databaseUrl: string, submissionId: string): Promise<SubmissionExportLock | null> {
    const client = new Client({ connectionString: databaseUrl, application_name: 'connector-export-lock' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(hashtextextended('spectrum-export:' || $1::text, 0)) as locked`,
        [submissionId],
      );
      if (rows[0]?.locked) return new SubmissionExportLock(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end().catch(() => undefined);
    return null;
  }

  /** Releases the lock (closing the session releases it too). */
  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
