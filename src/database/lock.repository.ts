import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';
import { Repository } from './repository';

/** How often a held session lock's connection is checked. */
const HEARTBEAT_MS = 5_000;

/** A session lock held on a connection of its own. */
export interface SessionLock {
  /** Why the lock was lost (its connection dropped, so PostgreSQL released it), once it was. */
  readonly lostReason: string | undefined;
  release(): Promise<void>;
}

/** The lock could not be had within the wait (lock_timeout), or the connection failed while waiting. */
export class LockWaitError extends Error {}

/**
 * PostgreSQL advisory locks, in one place. Two kinds:
 * - transaction locks (`pg_advisory_xact_lock`), held until the surrounding transaction ends —
 *   they serialise short critical sections (opening a project's submission, the user sync, a change
 *   that can take away an active admin);
 * - session locks on a connection of their own, outside the ORM's pool (a waiting job never starves
 *   the pool): they hold across processes while long work runs, and if the process dies PostgreSQL
 *   drops the connection and the lock with it. If the connection drops while the process lives, the
 *   lock says it is lost (the connection's error/end events and a heartbeat query), so the holder
 *   can stop before it acts on something another process may now hold.
 */
@Injectable()
export class LockRepository extends Repository {
  constructor(
    root: EntityManager,
    @Inject(AppConfig) private readonly config: Pick<AppConfig, 'databaseUrl'>,
  ) {
    super(root);
  }

  // ---- transaction locks (keys hashed with hashtext) -------------------------------------------

  /** New submissions of one Procore project are opened one at a time. */
  projectIntake(procoreProjectId: string): Promise<void> {
    return this.xactLock(`procore-project:${procoreProjectId}`);
  }

  /** One Procore user sync at a time: concurrent ones would race on the unique email and Procore id. */
  userSync(): Promise<void> {
    return this.xactLock('procore-user-sync');
  }

  /**
   * Every change that can take away an active admin (a demotion, a deactivation, the Procore user
   * sync), one at a time, so two admins demoting each other at once cannot both succeed.
   */
  activeAdmins(): Promise<void> {
    return this.xactLock('connector:active-admins');
  }

  private async xactLock(key: string): Promise<void> {
    await this.tx.execute(`select pg_advisory_xact_lock(hashtext(?))`, [key]);
  }

  // ---- session locks (keys hashed with hashtextextended) ---------------------------------------

  /**
   * Waits up to `waitMs` for the lock of everything the connector does to one Procore project's
   * budget in Procore; LockWaitError when it cannot be had.
   */
  async waitForProjectWork(procoreProjectId: string, waitMs: number): Promise<SessionLock> {
    const client = await this.connect('connector-project-lock', false);
    const lock = new HeldSessionLock(client, null, 'the connection closed');
    try {
      await client.query(`set lock_timeout = ${Math.max(1, Math.floor(waitMs))}`);
      await client.query(`select pg_advisory_lock(hashtextextended('procore-project-work:' || $1::text, 0))`, [procoreProjectId]);
      return lock;
    } catch (error) {
      await lock.release();
      throw new LockWaitError((error as Error).message);
    }
  }

  /** The export lock of a submission, or null when another worker holds it. Checked by a heartbeat while held. */
  async tryExport(submissionId: string, options: { heartbeatMs?: number } = {}): Promise<SessionLock | null> {
    const client = await this.connect('connector-export-lock', true);
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `select pg_try_advisory_lock(hashtextextended('spectrum-export:' || $1::text, 0)) as locked`,
        [submissionId],
      );
      if (rows[0]?.locked) return new HeldSessionLock(client, options.heartbeatMs ?? HEARTBEAT_MS, 'the connection ended');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end().catch(() => undefined);
    return null;
  }

  private async connect(applicationName: string, keepAlive: boolean): Promise<Client> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: applicationName, keepAlive });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }
}

/** A session lock: closing its connection releases it. */
class HeldSessionLock implements SessionLock {
  lostReason: string | undefined;
  private released = false;
  private readonly heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly client: Client,
    heartbeatMs: number | null,
    endReason: string,
  ) {
    client.on('error', (error: Error) => this.lose(error.message));
    client.on('end', () => this.lose(endReason));
    if (heartbeatMs !== null) {
      this.heartbeat = setInterval(() => {
        this.client.query('select 1').catch((error: Error) => this.lose(error.message));
      }, heartbeatMs);
      this.heartbeat.unref();
    }
  }

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
