import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { SYSTEM } from '../audit/audit.service';
import { Submission } from '../budgets/submission.entity';
import { SubmissionStateMachine } from '../budgets/submission-state-machine';
import { AppConfig } from '../config/app-config';
import { Notifier } from '../notifications/notifier';
import { JobName } from '../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../queue/work-queue.service';
import { ExportBusyError, ExportIncompleteError, keptFailingError } from './export.errors';
import { ExportLedger } from './export-ledger';
import { ExportRow, loadExportRows } from './export-plan';
import { FileExportWriter } from './file-export.writer';
import { SoapExportWriter, WriteOutcome } from './soap-export.writer';
import { SubmissionExportLock } from './submission-export-lock';

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
 * Exports an accepted submission (ExportSubmission). The ledger on submission_row is the truth:
 * over SOAP a run sends only the rows still `pending`, so a retry or a run after a crash resumes
 * where the last one stopped and never sends a `written` row again. (A transfer file holds a whole
 * job, so the file transport rewrites the file of each job that still has a pending row with all
 * of that job's rows; see rowsToWrite.) A PostgreSQL advisory lock keeps two
 * workers from exporting the same submission at once. The run ends the submission `exported`
 * (and records its reconciliation) or `failed_to_export` (and records the emails), or — when
 * Spectrum kept failing and queue attempts remain — throws so the queue retries with backoff.
 */
@Injectable()
export class SpectrumExporter {
  private readonly logger = new Logger(SpectrumExporter.name);

  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly soap: SoapExportWriter,
    private readonly files: FileExportWriter,
    private readonly stateMachine: SubmissionStateMachine,
    private readonly workQueue: WorkQueue,
    private readonly notifier: Notifier,
  ) {}

  async export(submissionId: string, attempt: ExportAttempt = { finalAttempt: false }): Promise<ExportSummary> {
    const started = Date.now();
    const lock = await SubmissionExportLock.tryAcquire(this.config.databaseUrl, submissionId);
    if (!lock) throw new ExportBusyError(submissionId);
    try {
      const em = this.em.fork();
      const submission = await em.findOne(
        Submission,
        submissionId,
        { fields: ['id', 'status', 'projectName'], disableIdentityMap: true },
      );
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

      const rows = await this.rowsToWrite(em, submissionId);
      let outcome: WriteOutcome = { notes: [] };
      if (rows.length) {
        const ledger = new ExportLedger(em);
        try {
          outcome =
            this.config.spectrum.transport === 'file'
              ? await this.files.write({ id: submissionId, projectName: submission.projectName }, rows, ledger, lock)
              : await this.soap.write(rows, ledger, attempt, lock);
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
      if (outcome.interrupted) {
        const stillPending = await this.countPending(em, submissionId);
        if (!attempt.finalAttempt) throw new ExportIncompleteError(submissionId, stillPending, outcome.interrupted);
        await this.giveUp(em, submissionId, outcome.interrupted);
      }
      const result = await this.finish(em, submissionId, outcome.notes);
      this.logger.log(
        `Budget submission ${submissionId}: ${result.status} (${rows.length} row(s) sent this run, ${result.written} written, ${result.failed} failed) in ${Date.now() - started} ms`,
      );
      return summary({ ...result, sent: rows.length });
    } finally {
      await lock.release();
    }
  }

  /**
   * What this run writes. SOAP: the rows still `pending`, nothing else. File: every row that is not
   * failed of each job that still has a pending row — a job's transfer file is rewritten whole under
   * the same name, so it must hold the rows a previous run already marked written, not only the
   * pending ones (the writer marks only the pending ones written).
   */
  private async rowsToWrite(em: EntityManager, submissionId: string): Promise<ExportRow[]> {
    if (this.config.spectrum.transport !== 'file') return loadExportRows(em, submissionId, ['pending']);
    const rows = await loadExportRows(em, submissionId, ['pending', 'written']);
    const jobsWithPending = new Set(rows.filter((row) => row.exportState === 'pending').map((row) => row.job));
    return rows.filter((row) => jobsWithPending.has(row.job));
  }

  /** The queue's last attempt: rows Spectrum never took are failed with what kept going wrong. */
  private async giveUp(em: EntityManager, submissionId: string, reason: Error): Promise<void> {
    await em.execute(
      `update submission_row set export_state = 'failed', export_error = ?::jsonb
        where submission_id = ? and export_state = 'pending'`,
      [JSON.stringify(keptFailingError(this.config.spectrum.transport, reason)), submissionId],
    );
  }

  /** Every row is written or failed: exported (+ reconciliation) or failed_to_export (+ emails). */
  private async finish(
    em: EntityManager,
    submissionId: string,
    notes: string[],
  ): Promise<{ status: 'exported' | 'failed_to_export'; written: number; failed: number }> {
    const counts = await em.execute<Array<{ export_state: string; count: string }>>(
      `select export_state, count(*) as count from submission_row where submission_id = ? group by export_state`,
      [submissionId],
    );
    const count = (state: string) => Number(counts.find((c) => c.export_state === state)?.count ?? 0);
    const [written, failed, pending] = [count('written'), count('failed'), count('pending')];
    if (pending > 0) {
      // Not reachable through the writers; never mark a submission done with rows unsent.
      throw new ExportIncompleteError(submissionId, pending, new Error('rows are still pending after the run'));
    }
    let works: RecordedWork[] = [];
    const status = failed > 0 ? 'failed_to_export' : 'exported';
    await em.transactional(async (tx) => {
      if (failed > 0) {
        const transition = await this.stateMachine.transition(tx, submissionId, {
          event: 'exportFailed',
          actor: SYSTEM,
          note: await this.failureNote(tx, submissionId, written, failed),
          data: { written, failed },
        });
        works = await this.notifier.exportFailed(tx, submissionId, transition.auditEventId);
      } else {
        const exported = await this.stateMachine.transition(tx, submissionId, {
          event: 'exported',
          actor: SYSTEM,
          changes: { exportedAt: new Date() },
          note: [`${written} row(s) written to Spectrum`, ...notes].join('; '),
          data: { written },
        });
        // Keyed by this export, so it is never folded into a reconciliation of the previous one.
        const dedupeKey = `reconcile:${submissionId}:${exported.auditEventId}`;
        works = [await this.workQueue.record(tx, JobName.ReconcileSubmission, { submissionId }, { dedupeKey })];
      }
    });
    await this.workQueue.dispatch(em, works);
    return { status, written, failed };
  }

  private async failureNote(em: EntityManager, submissionId: string, written: number, failed: number): Promise<string> {
    const examples = await em.execute<Array<{ phase: string | null; cost_type: string | null; export_error: { code: string; message: string; column?: string | null } | null }>>(
      `select phase, cost_type, export_error from submission_row
        where submission_id = ? and export_state = 'failed'
        order by (export_error->>'code') = 'blocked', position limit 3`,
      [submissionId],
    );
    const described = examples.map((row) => {
      const error = row.export_error;
      const column = error?.column ? ` [${error.column}]` : '';
      return `${row.phase ?? '?'}/${row.cost_type ?? '?'}: ${error?.code ?? ''} ${error?.message ?? 'no detail'}${column}`;
    });
    return `${failed} of ${written + failed} row(s) not written to Spectrum: ${described.join('; ')}${failed > described.length ? '; …' : ''}`;
  }

  private async countPending(em: EntityManager, submissionId: string): Promise<number> {
    const [{ count }] = await em.execute<Array<{ count: string }>>(
      `select count(*) as count from submission_row where submission_id = ? and export_state = 'pending'`,
      [submissionId],
    );
    return Number(count);
  }
}
