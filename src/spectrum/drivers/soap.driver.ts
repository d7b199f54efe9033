import { Logger } from '@nestjs/common';
import type { RowExportError, RowExportState, SpectrumRow } from '../../budgets/submission-row.entity';
import { AppConfig } from '../../config/app-config';
import { EXPORT_ERROR_CODES, keptFailingError, rowErrorFromMessages, rowErrorFromSpectrum } from '../export.errors';
import { ExportLedger, LedgerEntry } from '../export-ledger';
import { checkRows, describeRow, jobsOf, PlannedWrite, planExport, RowFlag } from '../export-plan';
import { recordFlags } from './record-flags';
import { ExportAttemptInfo, ExportSubmission, RunGuard, SpectrumDriver, WriteOutcome } from './spectrum-driver';
import { checkJobs, JobCheck } from '../spectrum-check';
import { SpectrumPermit, SpectrumSemaphore } from '../client/spectrum-concurrency';
import { SpectrumPhase } from '../client/spectrum-records';
import { SpectrumRowIndex } from '../spectrum-row-index';
import { SpectrumSoapClient } from '../client/spectrum-soap.client';
import { SpectrumError, SpectrumRetriesExhaustedError } from '../client/spectrum.errors';

/**
 * Export steps 1–3 over SOAP for the pending rows of one submission: GetJob, GetPhase per job,
 * then AddPhase per row through K parallel loops, K being the permits this process got from the
 * cross-worker semaphore. Each outcome goes to the ledger. A transient failure that outlasted the
 * client's retries stops the pass with its row still pending (Spectrum is unwell; the queue retries
 * later with backoff) — also when the same fault repeated identically for the row, since
 * `SOAP-ENV:Server` faults are intermittent. Only on the queue's final attempt is a row whose call
 * got the identical fault every time reported as permanent ("Spectrum kept failing: …"), and the
 * other rows carry on. Permanent failures (data errors A/I/M, refused credentials) are kept on
 * their row at once and the other rows carry on.
 */
export class SoapDriver implements SpectrumDriver {
  private readonly logger = new Logger(SoapDriver.name);

  constructor(
    private readonly config: AppConfig,
    private readonly client: SpectrumSoapClient,
    private readonly semaphore: SpectrumSemaphore,
  ) {}

  /** The rows still `pending`, nothing else: a retry or a run after a crash resumes where the last stopped. */
  rowsToWrite(load: (states: RowExportState[]) => Promise<SpectrumRow[]>): Promise<SpectrumRow[]> {
    return load(['pending']);
  }

  keptFailing(reason: Error): RowExportError {
    return keptFailingError('Spectrum kept failing', reason);
  }

  /** Spectrum answers every AddPhase: reconciliation judges at once. */
  awaitingImportUntil(): Date | null {
    return null;
  }

  async write(
    _submission: ExportSubmission,
    rows: SpectrumRow[],
    ledger: ExportLedger,
    attempt: ExportAttemptInfo = { finalAttempt: false },
    guard: RunGuard = { lostError: () => undefined },
  ): Promise<WriteOutcome> {
    const permits = await this.semaphore.acquireUpTo(Math.max(1, Math.min(this.config.spectrum.concurrency, rows.length)));
    try {
      const planned = await this.plan(rows, ledger);
      if (planned.interrupted) return { interrupted: planned.interrupted, notes: [] };
      return { interrupted: await this.runLoops(planned.writes, permits, ledger, attempt.finalAttempt, guard), notes: [] };
    } finally {
      await Promise.all(permits.map((permit) => permit.release().catch(() => undefined)));
    }
  }

  /**
   * Steps 1 and 2, and the checks before the first AddPhase: which jobs exist (and are not
   * Complete), what Spectrum already holds, and every row that must not be written as it stands
   * (checkRows). When anything is flagged, nothing is written: the flagged rows fail with their
   * reason and the others with "blocked" (docs/architecture.md, "Flagged at accept"). A read that fails for
   * good (an error record, refused credentials) stops the run the same way, with Spectrum's message.
   */
  private async plan(rows: SpectrumRow[], ledger: ExportLedger): Promise<{ writes: PlannedWrite[]; interrupted?: Error }> {
    const mapped: SpectrumRow[] = [];
    for (const row of rows) {
      if (row.job && row.phase && row.costType) mapped.push(row);
      else {
        await ledger.record(failed(row, EXPORT_ERROR_CODES.unmapped, 'The row has no Spectrum job, phase or cost type; fix the mapping and send the budget again'));
      }
    }
    if (!mapped.length) return { writes: [] };

    let checks: JobCheck[];
    const phases: SpectrumPhase[] = [];
    try {
      checks = await checkJobs(this.client, jobsOf(mapped));
      for (const check of checks) if (!check.problem) phases.push(...(await this.client.getPhases(check.job)));
    } catch (error) {
      return { writes: [], interrupted: await this.readFailed(error, mapped, ledger) };
    }
    const index = new SpectrumRowIndex(phases);
    const jobProblems = new Map(checks.filter((check) => check.problem).map((check) => [check.job, check.problem!]));
    const flags: RowFlag[] = mapped
      .filter((row) => jobProblems.has(row.job))
      .map((row) => ({ row, ...jobProblems.get(row.job)!, column: 'Job_Number' }));
    const writable = mapped.filter((row) => !jobProblems.has(row.job));
    flags.push(...checkRows(writable, index, { costTypes: this.config.spectrum.costTypes }));
    if (flags.length) {
      await recordFlags(flags, mapped, ledger);
      return { writes: [] };
    }

    const plan = planExport(writable, index, this.config.spectrum.priceMethodCode);
    // A removed row Spectrum does not hold (or that a row of this version sets) has nothing to send.
    for (const row of plan.nothingToDo) await ledger.record({ rowId: row.id, outcome: 'written', action: null, at: new Date() });
    return { writes: plan.writes };
  }

  /** A read that failed: transient → stop (returned); permanent → every row fails with Spectrum's message. */
  private async readFailed(error: unknown, rows: SpectrumRow[], ledger: ExportLedger): Promise<Error | undefined> {
    if (!(error instanceof SpectrumError)) throw error;
    if (error.transient) return error;
    const rowError = rowErrorFromSpectrum(error);
    for (const row of rows) await ledger.record({ rowId: row.id, outcome: 'failed', error: rowError });
    return undefined;
  }

  /** Step 3: K loops take the next row, call AddPhase under their permit, record the outcome. */
  private async runLoops(
    writes: PlannedWrite[],
    permits: SpectrumPermit[],
    ledger: ExportLedger,
    finalAttempt: boolean,
    guard: RunGuard,
  ): Promise<Error | undefined> {
    let cursor = 0;
    let interrupted: Error | undefined;
    let broken = false;
    // Final attempt: rows failed one after another by the identical fault mean Spectrum fails for
    // everything, not for those rows; the pass stops and the rest get the same error at once.
    let keptFailingStreak = 0;
    const loop = async (slot: number) => {
      while (!interrupted && !broken && cursor < writes.length) {
        // The export lock's connection dropped: another worker may be exporting now. Stop here.
        const lost = guard.lostError();
        if (lost) {
          interrupted ??= lost;
          break;
        }
        const write = writes[cursor++];
        // A permit lost (lease not renewed, Redis flushed) is taken again before the next call.
        if (permits[slot].lost) permits[slot] = await this.semaphore.acquire();
        let entry: LedgerEntry;
        try {
          const result = await this.client.addPhase(write.fields);
          keptFailingStreak = 0;
          if (result.ok) {
            entry = { rowId: write.row.id, outcome: 'written', action: write.action, at: new Date() };
            if (result.warnings.length) {
              this.logger.log(`${write.row.job}/${describeRow(write.row)}: written with note ${result.warnings.map((w) => `${w.code} ${w.message}`).join('; ')}`);
            }
          } else {
            entry = { rowId: write.row.id, outcome: 'failed', error: rowErrorFromMessages(result.errors) };
          }
        } catch (error) {
          if (!(error instanceof SpectrumError)) throw error;
          if (finalAttempt && error instanceof SpectrumRetriesExhaustedError && error.repeatedIdentically) {
            // The queue's retries are spent too: the fault this row meets is reported as permanent.
            entry = { rowId: write.row.id, outcome: 'failed', error: this.keptFailing(error) };
            if (++keptFailingStreak >= KEPT_FAILING_STREAK) interrupted ??= error;
          } else if (error.transient) {
            interrupted ??= error;
            entry = { rowId: write.row.id, outcome: 'attempted' };
          } else {
            entry = { rowId: write.row.id, outcome: 'failed', error: rowErrorFromSpectrum(error) };
          }
        }
        await ledger.record(entry);
      }
    };
    const results = await Promise.allSettled(
      permits.map((_, slot) =>
        loop(slot)
          .catch((error: unknown) => {
            broken = true;
            throw error;
          })
          // Each permit goes back as soon as its own loop has ended (its last call answered), not
          // when every loop has: on a graceful stop the others may still be waiting for Spectrum.
          .finally(() => permits[slot].release().catch(() => undefined)),
      ),
    );
    const crashed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (crashed) throw crashed.reason;
    return interrupted;
  }
}

/** On the final attempt: this many rows in a row failed by the identical fault end the pass. */
const KEPT_FAILING_STREAK = 10;

function failed(row: SpectrumRow, code: string, message: string, column: string | null = null): LedgerEntry {
  return { rowId: row.id, outcome: 'failed', error: { code, message, column } };
}
