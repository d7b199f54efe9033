import { Client } from 'pg';

/** How often the lock's connection is checked while held. */
const HEARTBEAT_MS = 5_000;

/** The export lock's connection dropped: PostgreSQL released the lock, another worker may export now. */
export class ExportLockLostError extends Error {
  constructor(
    readonly submissionId: string,
    readonly reason: string,
  ) {
    super(`Budget submission ${submissionId}: the export lock was lost (${reason}); the run stopped and the queue resumes it`);
    this.name = 'ExportLockLostError';
  }
}

/**
 * A PostgreSQL session advisory lock per submission, so two workers never export the same
 * submission at once (a re-enqueued job after a Redis flush, a sweeper racing a slow worker). It
 * lives on a connection of its own: if the worker dies, PostgreSQL drops the connection and the
 * lock with it, and another worker can resume at once.
 *
 * The other way round matters as much: if the connection drops while the worker lives (a network
 * cut, a restarted or failed-over PostgreSQL, an administrator ending the session), PostgreSQL has
 * released the lock and another worker may already be exporting. The lock then says it is `lost`
 * (the connection's error/end events, and a heartbeat query that catches a silent drop), and the
 * export run stops before its next Spectrum call (issue 9, item 10).
 */
export class SubmissionExportLock {
  private lostReason?: string;
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;

  private constructor(
    private readonly client: Client,
    readonly submissionId: string,
    heartbeatMs: number,
  ) {
    client.on('error', (error: Error) => this.lose(error.message));
    client.on('end', () => this.lose('the connection ended'));
    this.heartbeat = setInterval(() => {
      this.client.query('select 1').catch((error: Error) => this.lose(error.message));
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /** The lock, or null when another worker holds it. */
  static async tryAcquire(
    databaseUrl: string,
    submissionId: string,
    options: { heartbeatMs?: number } = {},
  ): Promise<SubmissionExportLock | null> {
    const client = new Client({ connectionString: databaseUrl, application_name: 'connector-export-lock', keepAlive: true });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(hashtextextended('spectrum-export:' || $1::text, 0)) as locked`,
        [submissionId],
      );
      if (rows[0]?.locked) return new SubmissionExportLock(client, submissionId, options.heartbeatMs ?? HEARTBEAT_MS);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end().catch(() => undefined);
    return null;
  }

  /** True once the connection holding the lock dropped: stop before the next Spectrum call. */
  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  /** The error to stop with, once lost. */
  lostError(): ExportLockLostError | undefined {
    return this.lostReason === undefined ? undefined : new ExportLockLostError(this.submissionId, this.lostReason);
  }

  /** Releases the lock (closing the session releases it too). */
  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.heartbeat);
    await this.client.end().catch(() => undefined);
  }

  private lose(reason: string): void {
    if (this.released) return;
    this.lostReason ??= reason;
    clearInterval(this.heartbeat);
  }
}
