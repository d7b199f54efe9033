import { Inject, Injectable } from '@nestjs/common';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../../config/runtime-options';
import { LockRepository, LockWaitError } from '../../database/lock.repository';
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
 * newer send found the budget locked (9.3). A PostgreSQL session lock (LockRepository): it holds
 * across processes, and if a worker dies PostgreSQL drops it.
 */
@Injectable()
export class ProjectLock {
  constructor(
    private readonly locks: LockRepository,
    @Inject(RUNTIME_OPTIONS) private readonly runtime: Pick<RuntimeOptions, 'timings'>,
  ) {}

  async run<T>(projectId: number | string, work: (lock: HeldProjectLock) => Promise<T>): Promise<T> {
    const waitMs = this.runtime.timings.projectLockWaitMs ?? PROJECT_LOCK_WAIT_MS;
    let lock;
    try {
      lock = await this.locks.waitForProjectWork(String(projectId), waitMs);
    } catch (error) {
      if (!(error instanceof LockWaitError)) throw error;
      throw new ProcoreWorkLockError(
        `Procore project ${projectId} is busy with other work of the connector (waited ${Math.round(waitMs / 1000)} s): ${error.message}`,
      );
    }
    try {
      return await work({
        assertHeld: () => {
          if (lock.lostReason) throw new ProcoreWorkLockError(`The lock on Procore project ${projectId} was lost (${lock.lostReason}); the work is tried again`);
        },
      });
    } finally {
      // Closing the session releases the lock.
      await lock.release();
    }
  }
}
