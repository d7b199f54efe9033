import { LockRepository, SessionLock } from '../database/lock.repository';

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
 * A PostgreSQL session advisory lock per submission (LockRepository.tryExport), so two workers
 * never export the same submission at once (a re-enqueued job after a Redis flush, a sweeper racing
 * a slow worker). If the worker dies, PostgreSQL drops the lock with its connection and another
 * worker can resume at once.
 *
 * The other way round matters as much: if the connection drops while the worker lives (a network
 * cut, a restarted or failed-over PostgreSQL, an administrator ending the session), PostgreSQL has
 * released the lock and another worker may already be exporting. The lock then says it is `lost`,
 * and the export run stops before its next Spectrum call (issue 9, item 10).
 */
export class SubmissionExportLock {
  private constructor(
    private readonly lock: SessionLock,
    readonly submissionId: string,
  ) {}

  /** The lock, or null when another worker holds it. */
  static async tryAcquire(locks: LockRepository, submissionId: string, options: { heartbeatMs?: number } = {}): Promise<SubmissionExportLock | null> {
    const lock = await locks.tryExport(submissionId, options);
    return lock ? new SubmissionExportLock(lock, submissionId) : null;
  }

  /** True once the connection holding the lock dropped: stop before the next Spectrum call. */
  get lost(): boolean {
    return this.lock.lostReason !== undefined;
  }

  /** The error to stop with, once lost. */
  lostError(): ExportLockLostError | undefined {
    const reason = this.lock.lostReason;
    return reason === undefined ? undefined : new ExportLockLostError(this.submissionId, reason);
  }

  /** Releases the lock (closing the session releases it too). */
  release(): Promise<void> {
    return this.lock.release();
  }
}
