import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SYSTEM } from '../audit/audit.service';
import { Submission } from '../budgets/submission.entity';
import { SubmissionStateMachine } from '../budgets/submission-state-machine';
import { AppConfig } from '../config/app-config';
import { Notifier } from '../notifications/notifier';
import { JobName } from '../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../queue/work-queue.service';
import { SPECTRUM_DRIVER, SpectrumDriver, WriteOutcome } from './drivers/spectrum-driver';
import { ExportBusyError, ExportIncompleteError } from './export.errors';
import { ExportLedger } from './export-ledger';
import { loadExportRows } from './export-plan';
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
 * Exports an accepted submission (ExportSubmission) through the Spectrum driver in force (SOAP or
 * transfer files). The ledger on submission_row is the truth: the driver picks the rows a run
 * writes from it (over SOAP only the rows still `pending`, so a retry or a run after a crash
 * resumes where the last one stopped and never sends a `written` row again; a transfer file holds
 * a whole job). A PostgreSQL advisory lock keeps two
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
    @Inject(SPECTRUM_DRIVER) private readonly driver: SpectrumDriver,
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

      const rows = await this.driver.rowsToWrite((states) => loadExportRows(em, submissionId, states));
      let outcome: WriteOutcome = { notes: [] };
      if (rows.length) {
        const ledger = new ExportLedger(em);
        try {
          outcome = await this.driver.write({ id: submissionId, projectName: submission.projectName }, rows, ledger, attempt, lock);
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

  /** The queue's last attempt: rows Spectrum never took are failed with what kept going wrong. */
  private async giveUp(em: EntityManager, submissionId: string, reason: Error): Promise<void> {
    await em.execute(
      `update submission_row set export_state = 'failed', export_error = ?::jsonb
        where submission_id = ? and export_state = 'pending'`,
      [JSON.stringify(this.driver.keptFailing(reason)), submissionId],
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
