import type { LedgerEntry } from '../budgets/snapshot.repository';

export type { LedgerEntry };

/** Where the ledger's batches go (SnapshotRepository.recordOutcomes). */
export interface LedgerStore {
  recordOutcomes(batch: LedgerEntry[]): Promise<void>;
}

export interface ExportLedgerOptions {
  /** Rows per UPDATE. */
  batchSize?: number;
  /** A recorded outcome waits at most this long before its batch is committed. */
  maxDelayMs?: number;
  /** Writers wait (back-pressure) while this many outcomes are not committed. Default 2 × batchSize. */
  maxBuffered?: number;
}

/**
 * The export ledger's writer: the outcome of each AddPhase lands on its submission_row
 * (export_state, written_at, spectrum_action, export_error, export_attempts) in small batched
 * UPDATEs, committed in the background so the Spectrum calls never wait for PostgreSQL. Only rows
 * still `pending` are changed. `close()` commits everything recorded: the exporter calls it before
 * it ends, fails or lets anything read the ledger again, so within a process a row whose success
 * was seen is always committed as written before it could be sent again. Writers wait while
 * `maxBuffered` outcomes (two batches) are uncommitted, so a crash loses at most that many — the
 * last fraction of a second of outcomes; those rows are sent again, which AddPhase makes harmless.
 */
export class ExportLedger {
  private readonly batchSize: number;
  private readonly maxDelayMs: number;
  private readonly maxBuffered: number;
  private buffer: LedgerEntry[] = [];
  /** Outcomes of the batch being committed right now. */
  private inFlight = 0;
  private flushing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failure?: Error;
  private readonly drained = new Set<() => void>();
  committed = 0;

  constructor(
    private readonly store: LedgerStore,
    options: ExportLedgerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 50;
    // Two batches: one committing, one filling. Beyond that the writers wait, so a crash can lose
    // (and so re-send, harmlessly) at most that many outcomes.
    this.maxBuffered = options.maxBuffered ?? 2 * this.batchSize;
  }

  /** Queues an outcome; resolves at once unless too many are waiting for their commit. */
  async record(entry: LedgerEntry): Promise<void> {
    if (this.failure) throw this.failure;
    this.buffer.push(entry);
    if (this.buffer.length >= this.batchSize) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.maxDelayMs);
    while (this.uncommitted >= this.maxBuffered && !this.failure) {
      await new Promise<void>((resolve) => this.drained.add(resolve));
    }
    if (this.failure) throw this.failure;
  }

  /** Outcomes recorded and not committed yet (waiting or being committed). */
  get uncommitted(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Commits every recorded outcome; throws if a commit failed. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing || (this.buffer.length && !this.failure)) {
      if (!this.flushing) this.kick();
      await this.flushing;
    }
    if (this.failure) throw this.failure;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.failure || !this.buffer.length) return;
    const batch = this.buffer.splice(0, this.batchSize);
    this.inFlight = batch.length;
    this.flushing = this.commit(batch)
      .then(
        () => {
          this.committed += batch.length;
        },
        (error: unknown) => {
          this.failure = error instanceof Error ? error : new Error(String(error));
        },
      )
      .finally(() => {
        this.flushing = undefined;
        this.inFlight = 0;
        for (const wake of this.drained) wake();
        this.drained.clear();
        if (this.buffer.length >= this.batchSize) this.kick();
        else if (this.buffer.length) this.timer ??= setTimeout(() => this.kick(), this.maxDelayMs);
      });
  }

  private commit(batch: LedgerEntry[]): Promise<void> {
    return this.store.recordOutcomes(batch);
  }
}
