import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../../config/app-config';
import { ProcoreWorkLockError } from './ingestion-errors';

/** Longer than any budget read; a wait that long means something is stuck (the queue retries). */
export const PROJECT_LOCK_WAIT_MS = 10 * 60_000;

/** A held project lock: work done with it can ask whether it is still held before acting. */
export interface HeldProjectLock {
  /** Throws ProcoreWorkLockError when the lock's connection dropped (and the lock with it). */
  assertHeld(): void;
}

/**
 * One lock per Procore project around everything the connector does to that project's budget in
 * Procore: the budget checks of webhooks and polls (read, compare, store), the ingestion of a send
 * (lock, read, store) and the unlocks (the "is a newer submission open?" check and the call). So
 * an older read never commits after a newer one (issue 9.2), and an unlock never lands after a
 * newer send found the budget locked (9.3).
 *
 * A PostgreSQL session advisory lock on a connection of its own (outside the ORM's pool, so a
 * waiting job never starves the pool): it holds across processes, and if a worker dies PostgreSQL
 * drops the connection and the lock with it.
 */
@Injectable()
export class ProjectLock {
  /** PROJECT_LOCK_WAIT_MS; tests shorten it. */
  waitMs = PROJECT_LOCK_WAIT_MS;

  constructor(private readonly config: AppConfig) {}

  async run<T>(projectId: number | string, work: (lock: HeldProjectLock) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'connector-project-lock' });
    let lost: Error | undefined;
    client.on('error', (error) => (lost = error));
    client.on('end', () => (lost ??= new Error('the connection closed')));
    await client.connect();
    try {
      try {
        await client.query(`set lock_timeout = ${Math.max(1, Math.floor(this.waitMs))}`);
        await client.query(`select pg_advisory_lock(hashtextextended('procore-project-work:' || $1::text, 0))`, [String(projectId)]);
      } catch (error) {
        throw new ProcoreWorkLockError(
          `Procore project ${projectId} is busy with other work of the connector (waited ${Math.round(this.waitMs / 1000)} s): ${(error as Error).message}`,
        );
      }
      return await work({
        assertHeld: () => {
          if (lost) throw new ProcoreWorkLockError(`The lock on Procore project ${projectId} was lost (${lost.message}); the work is tried again`);
        },
      });
    } finally {
      // Closing the session releases the lock.
      await client.end().catch(() => undefined);
    }
  }
}
