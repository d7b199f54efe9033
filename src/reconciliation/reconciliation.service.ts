import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SYSTEM } from '../audit/audit.service';
import { SubmissionStateMachine } from '../budgets/submission-state-machine';
import { SubmissionStatus } from '../budgets/submission-status';
import { AppConfig } from '../config/app-config';
import { formatMoney } from '../common/money';
import { Notifier } from '../notifications/notifier';
import { JobName } from '../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../queue/work-queue.service';
import { SPECTRUM_DRIVER, SpectrumDriver } from '../spectrum/drivers/spectrum-driver';
import { ExportRow, loadExportRows } from '../spectrum/export-plan';
import { SpectrumSemaphore } from '../spectrum/client/spectrum-concurrency';
import { SpectrumPhase } from '../spectrum/client/spectrum-records';
import { SpectrumSoapClient } from '../spectrum/client/spectrum-soap.client';
import { SpectrumError } from '../spectrum/client/spectrum.errors';
import { compareWithSpectrum } from './reconciliation-comparer';
import { ReconciliationOutcome } from './reconciliation.entity';
import { SPECTRUM_UNREADABLE } from './reconciliation-gate';

/** Where the queue is with this reconciliation: on its last attempt the reads are not retried again. */
export interface ReconcileAttempt {
  finalAttempt: boolean;
}

/** Statuses reconciliation judges: just exported, or found out of sync before. */
export const RECONCILED_STATUSES: readonly SubmissionStatus[] = ['exported', 'out_of_sync'];

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
 * Reads Spectrum back for an exported submission and judges it (PRODUCT.md, Reconciliation).
 * GetPhase per job, under the cross-worker concurrency cap; the client never returns a cut-off
 * read (it reads again, then fails with a transient error), so a conclusion is only ever drawn
 * from complete reads — when reads keep failing, nothing is stored and the status stays. Every
 * conclusion is stored as a Reconciliation report; the status moves exported → synced or
 * out_of_sync, and out_of_sync → synced once Spectrum matches (never out_of_sync twice).
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly client: SpectrumSoapClient,
    private readonly semaphore: SpectrumSemaphore,
    @Inject(SPECTRUM_DRIVER) private readonly driver: SpectrumDriver,
    private readonly stateMachine: SubmissionStateMachine,
    private readonly workQueue: WorkQueue,
    private readonly notifier: Notifier,
  ) {}

  async reconcile(submissionId: string, attempt: ReconcileAttempt = { finalAttempt: false }): Promise<ReconcileResult> {
    const started = Date.now();
    const em = this.em.fork();
    // `version` (status_changed_at, as text to keep every digit) tells at commit whether the status
    // moved while Spectrum was read — even away and back (out_of_sync → exporting → exported).
    const [submission] = await em.execute<Array<{ status: SubmissionStatus; job: string | null; exported_at: string | Date | null; version: string }>>(
      `select status, job, exported_at, status_changed_at::text as version from submission where id = ?`,
      [submissionId],
    );
    if (!submission) return { submissionId, skipped: 'the submission no longer exists', ms: Date.now() - started };
    if (!RECONCILED_STATUSES.includes(submission.status)) {
      return { submissionId, skipped: `the submission is ${submission.status}`, ms: Date.now() - started };
    }

    // The jobs first (cheap), so the budget rows load while Spectrum is read.
    const jobs = await this.jobsOf(em, submissionId);
    let read: [ExportRow[], SpectrumPhase[]];
    try {
      read = await Promise.all([loadExportRows(em, submissionId), this.readSpectrum(jobs)]);
    } catch (error) {
      // Spectrum could not be read. Transient failures are retried by the queue; once the retries
      // are spent (or at once when the failure is permanent: an error record, refused credentials)
      // an exported budget goes out_of_sync with the reason, so it has a way out (DECISIONS.md
      // "Lifecycle": an admin may acknowledge it; reconciliation keeps reading on its schedule).
      if (!(error instanceof SpectrumError) || (error.transient && !attempt.finalAttempt)) throw error;
      return this.giveUp(em, submissionId, submission, jobs, error, started);
    }
    const [allRows, spectrum] = read;
    const rows = allRows.filter((row) => row.job && row.phase && row.costType);
    const comparison = compareWithSpectrum({ rows, spectrum, tolerance: this.config.reconcileTolerance });

    let outcome: ReconciliationOutcome = comparison.outcome;
    let explanation = comparison.explanation;
    // A driver whose writes Spectrum imports later (transfer files): until then, a budget that does
    // not match yet is awaiting its import, never out of sync — even when some rows match already
    // (a re-sent budget's unchanged rows match before any import).
    const exportedAt = submission.exported_at === null ? null : new Date(submission.exported_at);
    const waitUntil = submission.status === 'exported' ? this.driver.awaitingImportUntil(exportedAt) : null;
    if (outcome === 'out_of_sync' && waitUntil && Date.now() < waitUntil.getTime()) {
      outcome = 'awaiting_import';
      const shown =
        comparison.importedRows === 0
          ? `Spectrum shows none of the budget's ${comparison.nonZeroRows} estimate(s) yet.`
          : `Spectrum already shows ${comparison.importedRows} of the budget's ${comparison.nonZeroRows} estimate(s) (rows that held these amounts before match without an import) and differs on ${comparison.varianceCount} row(s).`;
      explanation =
        `Waiting for Spectrum to import the transfer file: ${shown} ` +
        `Reconciliation checks again on its schedule and judges the budget after ${waitUntil.toISOString()} (SPECTRUM_FILE_IMPORT_WAIT after the export).`;
    }

    let works: RecordedWork[] = [];
    let skipped: string | undefined;
    let reportId: string | undefined;
    let status: SubmissionStatus = submission.status;
    await em.transactional(async (tx) => {
      // The status may have moved while Spectrum was read (a retry, a reject, a new export): the
      // read may predate what Spectrum holds now, so nothing is concluded from it.
      const [current] = await tx.execute<Array<{ status: SubmissionStatus; version: string }>>(
        `select status, status_changed_at::text as version from submission where id = ? for update`,
        [submissionId],
      );
      if (!current || current.version !== submission.version || !RECONCILED_STATUSES.includes(current.status)) {
        skipped = current
          ? `the submission's status changed while Spectrum was read (now ${current.status}); its next reconciliation judges it`
          : 'the submission was deleted while Spectrum was read';
        return;
      }
      status = current.status;
      // Plain SQL: the report of a 20 000-row budget is megabytes of JSON the ORM need not track.
      const [inserted] = await tx.execute<Array<{ id: string }>>(
        `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total,
                                     spectrum_estimated_total, variance_count, tolerance, explanation, rows)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) returning id`,
        [
          submissionId,
          new Date(),
          outcome,
          this.client.companyCode,
          jobs.join(', ') || (submission.job ?? ''),
          formatMoney(comparison.procoreRevisedTotal),
          formatMoney(comparison.spectrumEstimatedTotal),
          comparison.varianceCount,
          formatMoney(this.config.reconcileTolerance),
          explanation,
          JSON.stringify(comparison.rows),
        ],
      );
      reportId = String(inserted.id);
      const data = { reconciliationId: reportId, varianceCount: comparison.varianceCount };
      if (outcome === 'synced') {
        await this.stateMachine.transition(tx, submissionId, { event: 'reconciledSynced', actor: SYSTEM, note: explanation, data });
        status = 'synced';
      } else if (outcome === 'out_of_sync' && current.status === 'exported') {
        const transition = await this.stateMachine.transition(tx, submissionId, {
          event: 'reconciledOutOfSync',
          actor: SYSTEM,
          note: explanation,
          data,
        });
        status = 'out_of_sync';
        works = await this.notifier.outOfSync(tx, submissionId, transition.auditEventId);
      }
    });
    await this.workQueue.dispatch(em, works);
    if (skipped || !reportId) return { submissionId, skipped: skipped ?? 'nothing stored', ms: Date.now() - started };
    this.logger.log(
      `Budget submission ${submissionId}: reconciliation ${outcome} (${comparison.varianceCount} variance(s), budget ${formatMoney(comparison.procoreRevisedTotal)}, Spectrum ${formatMoney(comparison.spectrumEstimatedTotal)}) → ${status}`,
    );
    return {
      submissionId,
      outcome,
      status,
      reportId,
      varianceCount: comparison.varianceCount,
      ms: Date.now() - started,
    };
  }

  /**
   * The reads kept failing: an `exported` budget goes `out_of_sync` with "Spectrum could not be
   * read: …" (a report with that explanation and no rows, and the out-of-sync emails); an
   * `out_of_sync` one stays as it is. Either way the work ends here instead of retrying forever.
   */
  private async giveUp(
    em: EntityManager,
    submissionId: string,
    submission: { status: SubmissionStatus; job: string | null; version: string },
    jobs: string[],
    error: SpectrumError,
    started: number,
  ): Promise<ReconcileResult> {
    const explanation = `${SPECTRUM_UNREADABLE} ${error.message}. No Spectrum amounts were read: the totals show the budget's only. Reconciliation reads Spectrum again on its schedule; an admin may acknowledge the variance with a reason.`;
    this.logger.warn(`Budget submission ${submissionId}: ${explanation}`);
    if (submission.status !== 'exported') {
      return { submissionId, skipped: `${SPECTRUM_UNREADABLE} ${error.message}`, ms: Date.now() - started };
    }
    let works: RecordedWork[] = [];
    let reportId: string | undefined;
    let skipped: string | undefined;
    await em.transactional(async (tx) => {
      const [current] = await tx.execute<Array<{ status: SubmissionStatus; version: string; total: string }>>(
        `select status, status_changed_at::text as version, revised_estimate::text as total from submission where id = ? for update`,
        [submissionId],
      );
      if (!current || current.version !== submission.version || current.status !== 'exported') {
        skipped = `the submission's status changed while Spectrum was read (now ${current?.status ?? 'gone'})`;
        return;
      }
      const [inserted] = await tx.execute<Array<{ id: string }>>(
        `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total,
                                     spectrum_estimated_total, variance_count, tolerance, explanation, rows)
         values (?, ?, 'out_of_sync', ?, ?, ?, 0, 0, ?, ?, '[]'::jsonb) returning id`,
        [submissionId, new Date(), this.client.companyCode, jobs.join(', ') || (submission.job ?? ''), current.total, formatMoney(this.config.reconcileTolerance), explanation],
      );
      reportId = String(inserted.id);
      const transition = await this.stateMachine.transition(tx, submissionId, {
        event: 'reconciledOutOfSync',
        actor: SYSTEM,
        note: explanation,
        data: { reconciliationId: reportId, unreadable: true },
      });
      works = await this.notifier.outOfSync(tx, submissionId, transition.auditEventId);
    });
    await this.workQueue.dispatch(em, works);
    if (skipped || !reportId) return { submissionId, skipped: skipped ?? 'nothing stored', ms: Date.now() - started };
    return { submissionId, outcome: 'out_of_sync', status: 'out_of_sync', reportId, varianceCount: 0, ms: Date.now() - started };
  }

  /** ReconcileSweep: one ReconcileSubmission per exported or out-of-sync submission. */
  async sweep(): Promise<{ enqueued: number }> {
    const em = this.em.fork();
    const ids = await em.execute<Array<{ id: string }>>(
      `select id from submission where status in ('exported', 'out_of_sync') order by id`,
    );
    let works: RecordedWork[] = [];
    await em.transactional(async (tx) => {
      works = [];
      for (const { id } of ids) {
        const submissionId = String(id);
        works.push(await this.workQueue.record(tx, JobName.ReconcileSubmission, { submissionId }, { dedupeKey: `reconcile:${submissionId}` }));
      }
    });
    await this.workQueue.dispatch(em, works);
    return { enqueued: works.length };
  }

  /** The Spectrum jobs of the submission's rows. */
  private async jobsOf(em: EntityManager, submissionId: string): Promise<string[]> {
    const records = await em.execute<Array<{ job: string }>>(
      `select distinct btrim(coalesce(r.job, s.job)) as job
         from submission_row r join submission s on s.id = r.submission_id
        where r.submission_id = ? and r.phase is not null and r.cost_type is not null and coalesce(r.job, s.job) is not null
        order by 1`,
      [submissionId],
    );
    return records.map((record) => record.job).filter(Boolean);
  }

  /** Every row of the jobs, from complete reads, holding one Spectrum permit. */
  private async readSpectrum(jobs: string[]): Promise<SpectrumPhase[]> {
    if (!jobs.length) return [];
    return this.semaphore.withPermit(async () => {
      const phases: SpectrumPhase[] = [];
      for (const job of jobs) phases.push(...(await this.client.getPhases(job)));
      return phases;
    });
  }
}
