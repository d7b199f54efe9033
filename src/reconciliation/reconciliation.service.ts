import { Inject, Injectable, Logger } from '@nestjs/common';
import { SPECTRUM_UNREADABLE } from '../budgets/reconciliation-gate';
import { ReconciliationOutcome } from '../budgets/reconciliation.entity';
import { SnapshotRepository } from '../budgets/snapshot.repository';
import type { SpectrumRow } from '../budgets/submission-row.entity';
import { SubmissionRepository } from '../budgets/submission.repository';
import { RECONCILED_STATUSES, SubmissionStatus } from '../budgets/submission-status';
import { ReconciliationFacts, RecordReconciliation } from '../budgets/use-cases/record-reconciliation';
import { formatMoney } from '../common/money';
import { AppConfig } from '../config/app-config';
import { Outbox } from '../queue/outbox';
import { JobName } from '../queue/queue.contract';
import { SpectrumSemaphore } from '../spectrum/client/spectrum-concurrency';
import { SpectrumPhase } from '../spectrum/client/spectrum-records';
import { SpectrumSoapClient } from '../spectrum/client/spectrum-soap.client';
import { SpectrumError } from '../spectrum/client/spectrum.errors';
import { SPECTRUM_DRIVER, SpectrumDriver } from '../spectrum/drivers/spectrum-driver';
import { compareWithSpectrum } from './reconciliation-comparer';

/** Where the queue is with this reconciliation: on its last attempt the reads are not retried again. */
export interface ReconcileAttempt {
  finalAttempt: boolean;
}

export { RECONCILED_STATUSES };

export interface ReconcileResult {
  submissionId: string;
  skipped?: string;
  outcome?: ReconciliationOutcome;
  status?: SubmissionStatus;
  reportId?: string;
  varianceCount?: number;
  ms: number;
}

/**
 * Reads Spectrum back for an exported submission and judges it (README, Reconciliation). GetPhase
 * per job, under the cross-worker concurrency cap; the client never returns a cut-off read (it
 * reads again, then fails with a transient error), so a conclusion is only ever drawn from complete
 * reads — when reads keep failing, the queue retries, and on its last attempt the budget is judged
 * unreadable. The conclusion is recorded by RecordReconciliation, which stores the report and moves
 * the status (exported → synced or out_of_sync, out_of_sync → synced).
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly config: AppConfig,
    private readonly client: SpectrumSoapClient,
    private readonly semaphore: SpectrumSemaphore,
    @Inject(SPECTRUM_DRIVER) private readonly driver: SpectrumDriver,
    private readonly recordReconciliation: RecordReconciliation,
    private readonly outbox: Outbox,
  ) {}

  async reconcile(submissionId: string, attempt: ReconcileAttempt = { finalAttempt: false }): Promise<ReconcileResult> {
    const started = Date.now();
    const done = (result: Omit<ReconcileResult, 'submissionId' | 'ms'>): ReconcileResult => ({ submissionId, ...result, ms: Date.now() - started });
    // The version (when the status last changed) tells at commit whether the status moved while
    // Spectrum was read — even away and back (out_of_sync → exporting → exported).
    const [submission, current] = await Promise.all([this.submissions.findById(submissionId), this.submissions.statusVersion(submissionId)]);
    if (!submission || !current) return done({ skipped: 'the submission no longer exists' });
    if (!RECONCILED_STATUSES.includes(current.status)) return done({ skipped: `the submission is ${current.status}` });

    // The jobs first (cheap), so the budget rows load while Spectrum is read.
    const jobs = (await this.snapshots.jobsOf([submissionId])).get(submissionId) ?? [];
    const job = jobs.join(', ') || (submission.job ?? '');
    let read: [SpectrumRow[], SpectrumPhase[]];
    try {
      read = await Promise.all([this.snapshots.rows(submissionId), this.readSpectrum(jobs)]);
    } catch (error) {
      // Spectrum could not be read. Transient failures are retried by the queue; once the retries
      // are spent (or at once when the failure is permanent: an error record, refused credentials)
      // an exported budget goes out_of_sync with the reason, so it has a way out (docs/architecture.md,
      // "Spectrum unreadable": an admin may acknowledge it; reconciliation keeps reading on its schedule).
      if (!(error instanceof SpectrumError) || (error.transient && !attempt.finalAttempt)) throw error;
      const explanation = `${SPECTRUM_UNREADABLE} ${error.message}. No Spectrum amounts were read: the totals show the budget's only. Reconciliation reads Spectrum again on its schedule; an admin may acknowledge the variance with a reason.`;
      this.logger.warn(`Budget submission ${submissionId}: ${explanation}`);
      // An out_of_sync budget stays as it is.
      if (current.status !== 'exported') return done({ skipped: `${SPECTRUM_UNREADABLE} ${error.message}` });
      return done(await this.record(submissionId, current.version, job, { kind: 'unreadable', explanation }));
    }
    const [allRows, spectrum] = read;
    const rows = allRows.filter((row) => row.job && row.phase && row.costType);
    const comparison = compareWithSpectrum({ rows, spectrum, tolerance: this.config.reconcileTolerance });
    const facts: ReconciliationFacts = { kind: 'compared', ...comparison, ...this.awaitingImport(comparison, current.status, submission.exportedAt ?? null) };
    const result = await this.record(submissionId, current.version, job, facts);
    if (result.status) {
      this.logger.log(
        `Budget submission ${submissionId}: reconciliation ${result.outcome} (${comparison.varianceCount} variance(s), budget ${formatMoney(comparison.procoreRevisedTotal)}, Spectrum ${formatMoney(comparison.spectrumEstimatedTotal)}) → ${result.status}`,
      );
    }
    return done(result);
  }

  /**
   * A driver whose writes Spectrum imports later (transfer files): until then, a budget that does
   * not match yet is awaiting its import, never out of sync — even when some rows match already (a
   * re-sent budget's unchanged rows match before any import).
   */
  private awaitingImport(
    comparison: ReturnType<typeof compareWithSpectrum>,
    status: SubmissionStatus,
    exportedAt: Date | null,
  ): { outcome: ReconciliationOutcome; explanation: string } {
    const waitUntil = status === 'exported' ? this.driver.awaitingImportUntil(exportedAt) : null;
    if (comparison.outcome !== 'out_of_sync' || !waitUntil || Date.now() >= waitUntil.getTime()) {
      return { outcome: comparison.outcome, explanation: comparison.explanation };
    }
    const shown =
      comparison.importedRows === 0
        ? `Spectrum shows none of the budget's ${comparison.nonZeroRows} estimate(s) yet.`
        : `Spectrum already shows ${comparison.importedRows} of the budget's ${comparison.nonZeroRows} estimate(s) (rows that held these amounts before match without an import) and differs on ${comparison.varianceCount} row(s).`;
    return {
      outcome: 'awaiting_import',
      explanation:
        `Waiting for Spectrum to import the transfer file: ${shown} ` +
        `Reconciliation checks again on its schedule and judges the budget after ${waitUntil.toISOString()} (SPECTRUM_FILE_IMPORT_WAIT after the export).`,
    };
  }

  private async record(submissionId: string, version: string, job: string, facts: ReconciliationFacts): Promise<Omit<ReconcileResult, 'submissionId' | 'ms'>> {
    const recorded = await this.recordReconciliation.execute({
      submissionId,
      version,
      companyCode: this.client.companyCode,
      job,
      tolerance: this.config.reconcileTolerance,
      facts,
    });
    return 'skipped' in recorded ? recorded : { ...recorded };
  }

  /** ReconcileSweep: one ReconcileSubmission per exported or out-of-sync submission. */
  async sweep(): Promise<{ enqueued: number }> {
    const ids = await this.submissions.idsIn(RECONCILED_STATUSES);
    await this.outbox.transaction(async () => {
      for (const submissionId of ids) await this.outbox.record(JobName.ReconcileSubmission, { submissionId }, { dedupeKey: `reconcile:${submissionId}` });
    });
    return { enqueued: ids.length };
  }

  /**
   * Every row of the jobs, from complete reads. Each job is read twice (Active/Inactive, then
   * Complete rows): with two Spectrum permits free the two reads run at once, with one they run in
   * turn — never more calls at once than permits held. Permits go back when the reads have ended.
   */
  private async readSpectrum(jobs: string[]): Promise<SpectrumPhase[]> {
    if (!jobs.length) return [];
    const permits = await this.semaphore.acquireUpTo(2);
    try {
      const phases: SpectrumPhase[] = [];
      for (const job of jobs) phases.push(...(await this.client.getPhases(job, { concurrently: permits.length >= 2 })));
      return phases;
    } finally {
      await Promise.all(permits.map((permit) => permit.release().catch(() => undefined)));
    }
  }
}
