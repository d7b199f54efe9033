import { Inject, Injectable, Logger } from '@nestjs/common';
import { SnapshotRepository } from '../budgets/snapshot.repository';
import type { RowExportError } from '../budgets/submission-row.entity';
import { SubmissionRepository } from '../budgets/submission.repository';
import { RecordExportOutcome } from '../budgets/use-cases/record-export-outcome';
import { LockRepository } from '../database/lock.repository';
import { ProcessShutdown, ProcessStoppingError } from '../lifecycle/process-shutdown';
import { SpectrumCallsStoppedError } from './client/spectrum.errors';
import { SPECTRUM_DRIVER, SpectrumDriver, WriteOutcome } from './drivers/spectrum-driver';
import { ExportBusyError, ExportIncompleteError } from './export.errors';
import { ExportLedger } from './export-ledger';
import { SubmissionExportLock } from './submission-export-lock';
import { MetricsService } from '../observability/metrics.service';
import { countingLedgerStore } from './spectrum-metrics';

export interface ExportAttempt {
  /** True when a failure now would spend the queue's last attempt. */
  finalAttempt: boolean;
}

export interface ExportSummary {
  submissionId: string;
  /** Why nothing was done, when nothing was. */
  skipped?: string;
  status?: 'exported' | 'failed_to_export';
  /** Rows this run sent (or put in a file). */
  sent: number;
  written: number;
  failed: number;
  ms: number;
}

/**
 * Exports an accepted submission (ExportSubmission) through the Spectrum driver in force (SOAP or
 * transfer files). The ledger on submission_row is the truth: the driver picks the rows a run
 * writes from it (over SOAP only the rows still `pending`, so a retry or a run after a crash
 * resumes where the last one stopped and never sends a `written` row again; a transfer file holds
 * a whole job). A PostgreSQL advisory lock keeps two workers from exporting the same submission at
 * once. The run's outcome goes to RecordExportOutcome, which ends the submission `exported` (and
 * queues its reconciliation) or `failed_to_export` (and the emails); when Spectrum kept failing
 * and queue attempts remain, the run throws so the queue retries with backoff. On SIGTERM the run
 * starts no new call, lets those in flight end, commits their outcomes and throws: another worker
 * resumes from the ledger.
 */
@Injectable()
export class SpectrumExporter {
  private readonly logger = new Logger(SpectrumExporter.name);

  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly locks: LockRepository,
    @Inject(SPECTRUM_DRIVER) private readonly driver: SpectrumDriver,
    private readonly recordOutcome: RecordExportOutcome,
    private readonly metrics: MetricsService,
    private readonly shutdown: ProcessShutdown,
  ) {}

  async export(submissionId: string, attempt: ExportAttempt = { finalAttempt: false }): Promise<ExportSummary> {
    const started = Date.now();
    const lock = await SubmissionExportLock.tryAcquire(this.locks, submissionId);
    if (!lock) throw new ExportBusyError(submissionId);
    try {
      const submission = await this.submissions.findById(submissionId);
      const summary = (extra: Partial<ExportSummary>): ExportSummary => ({
        submissionId,
        sent: 0,
        written: 0,
        failed: 0,
        ms: Date.now() - started,
        ...extra,
      });
      if (!submission) return summary({ skipped: 'the submission no longer exists' });
      if (submission.status !== 'exporting') return summary({ skipped: `the submission is ${submission.status}, not exporting` });

      const rows = await this.driver.rowsToWrite((states) => this.snapshots.rows(submissionId, states));
      let outcome: WriteOutcome = { notes: [] };
      if (rows.length) {
        const ledger = new ExportLedger(countingLedgerStore(this.snapshots, this.metrics));
        try {
          // Asked before every Spectrum call: the lock lost, or this process stopping (SIGTERM).
          const guard = { lostError: () => lock.lostError() ?? this.shutdown.stoppingError('the rest of the export') };
          outcome = await this.driver.write({ id: submissionId, projectName: submission.projectName }, rows, ledger, attempt, guard);
        } finally {
          // Every outcome seen is committed before the run ends, fails, or reads the ledger again
          // (the ledger changes only pending rows, so this is safe even once the lock is lost).
          await ledger.close();
        }
      }
      // The lock's connection dropped: PostgreSQL released the lock and another worker may be
      // exporting. This run concludes nothing (no status change, no rows given up); the queue resumes.
      const lost = lock.lostError();
      if (lost) throw lost;
      // SIGTERM: the calls in flight ended and are in the ledger; another worker resumes (never a give-up).
      if (outcome.interrupted instanceof ProcessStoppingError || outcome.interrupted instanceof SpectrumCallsStoppedError) throw outcome.interrupted;
      let giveUp: RowExportError | undefined;
      if (outcome.interrupted) {
        const stillPending = (await this.snapshots.rowCounts(submissionId)).pending;
        if (!attempt.finalAttempt) throw new ExportIncompleteError(submissionId, stillPending, outcome.interrupted);
        // The queue's last attempt: rows Spectrum never took are failed with what kept going wrong.
        giveUp = this.driver.keptFailing(outcome.interrupted);
      }
      const result = await this.recordOutcome.execute({ submissionId, notes: outcome.notes, giveUp });
      // Not reachable through the drivers; never mark a submission done with rows unsent.
      if ('pending' in result) throw new ExportIncompleteError(submissionId, result.pending, new Error('rows are still pending after the run'));
      this.logger.log(
        `Budget submission ${submissionId}: ${result.status} (${rows.length} row(s) sent this run, ${result.written} written, ${result.failed} failed) in ${Date.now() - started} ms`,
      );
      return summary({ ...result, sent: rows.length });
    } finally {
      await lock.release();
    }
  }
}
