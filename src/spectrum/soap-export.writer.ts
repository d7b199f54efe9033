import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EXPORT_ERROR_CODES, keptFailingError, rowErrorFromMessages, rowErrorFromSpectrum } from './export.errors';
import { ExportLedger, LedgerEntry } from './export-ledger';
import { ExportRow, findJob, indexPhases, jobsOf, planWrites, PlannedWrite } from './export-plan';
import { SpectrumPermit, SpectrumSemaphore } from './spectrum-concurrency';
import { SpectrumJob } from './spectrum-records';
import { SpectrumSoapClient } from './spectrum-soap.client';
import { SpectrumError, SpectrumRetriesExhaustedError } from './spectrum.errors';

/** What one pass over the pending rows left behind. */
export interface WriteOutcome {
  /** Set when a transient failure stopped the pass with rows still pending. */
  interrupted?: Error;
  /** One line each for the audit note (files written, …). */
  notes: string[];
}

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
@Injectable()
export class SoapExportWriter {
  private readonly logger = new Logger(SoapExportWriter.name);

  constructor(
    private readonly config: AppConfig,
    private readonly client: SpectrumSoapClient,
    private readonly semaphore: SpectrumSemaphore,
  ) {}

  async write(rows: ExportRow[], ledger: ExportLedger, attempt: { finalAttempt: boolean } = { finalAttempt: false }): Promise<WriteOutcome> {
    const permits = await this.semaphore.acquireUpTo(Math.max(1, Math.min(this.config.spectrum.concurrency, rows.length)));
    try {
      const planned = await this.plan(rows, ledger);
      if (planned.interrupted) return { interrupted: planned.interrupted, notes: [] };
      return { interrupted: await this.runLoops(planned.writes, permits, ledger, attempt.finalAttempt), notes: [] };
    } finally {
      await Promise.all(permits.map((permit) => permit.release().catch(() => undefined)));
    }
  }

  /** Steps 1 and 2: which jobs exist and what Spectrum already has; rows that cannot go fail here. */
  private async plan(rows: ExportRow[], ledger: ExportLedger): Promise<{ writes: PlannedWrite[]; interrupted?: Error }> {
    const writes: PlannedWrite[] = [];
    const mapped: ExportRow[] = [];
    for (const row of rows) {
      if (row.job && row.phase && row.costType) mapped.push(row);
      else {
        await ledger.record(failed(row, EXPORT_ERROR_CODES.unmapped, 'The row has no Spectrum job, phase or cost type; fix the mapping and send the budget again'));
      }
    }
    if (!mapped.length) return { writes };

    let jobs: SpectrumJob[];
    try {
      jobs = await this.client.getJobs();
    } catch (error) {
      return { writes, interrupted: await this.readFailed(error, mapped, ledger) };
    }
    for (const job of jobsOf(mapped)) {
      const jobRows = mapped.filter((row) => row.job === job);
      const found = findJob(jobs, job);
      if (!found || found.statusCode === 'C') {
        const message = `Job ${job} not found or Complete in Spectrum: Spectrum lists it ${found ? 'as Complete' : 'nowhere among the company\'s Active and Inactive jobs'}`;
        for (const row of jobRows) await ledger.record(failed(row, EXPORT_ERROR_CODES.jobNotFound, message, 'Job_Number'));
        continue;
      }
      try {
        const phases = await this.client.getPhases(job);
        writes.push(...planWrites(jobRows, indexPhases(phases), this.config.spectrum.priceMethodCode));
      } catch (error) {
        const interrupted = await this.readFailed(error, jobRows, ledger);
        if (interrupted) return { writes, interrupted };
      }
    }
    return { writes };
  }

  /** A read that failed: transient → stop (returned); permanent → the rows it concerns fail. */
  private async readFailed(error: unknown, rows: ExportRow[], ledger: ExportLedger): Promise<Error | undefined> {
    if (!(error instanceof SpectrumError)) throw error;
    if (error.transient) return error;
    const rowError = rowErrorFromSpectrum(error);
    for (const row of rows) await ledger.record({ rowId: row.id, outcome: 'failed', error: rowError });
    return undefined;
  }

  /** Step 3: K loops take the next row, call AddPhase under their permit, record the outcome. */
  private async runLoops(writes: PlannedWrite[], permits: SpectrumPermit[], ledger: ExportLedger, finalAttempt: boolean): Promise<Error | undefined> {
    let cursor = 0;
    let interrupted: SpectrumError | undefined;
    let broken = false;
    // Final attempt: rows failed one after another by the identical fault mean Spectrum fails for
    // everything, not for those rows; the pass stops and the rest get the same error at once.
    let keptFailingStreak = 0;
    const loop = async (slot: number) => {
      while (!interrupted && !broken && cursor < writes.length) {
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
              this.logger.log(`${describeRow(write.row)}: written with note ${result.warnings.map((w) => `${w.code} ${w.message}`).join('; ')}`);
            }
          } else {
            entry = { rowId: write.row.id, outcome: 'failed', error: rowErrorFromMessages(result.errors) };
          }
        } catch (error) {
          if (!(error instanceof SpectrumError)) throw error;
          if (finalAttempt && error instanceof SpectrumRetriesExhaustedError && error.repeatedIdentically) {
            // The queue's retries are spent too: the fault this row meets is reported as permanent.
            entry = { rowId: write.row.id, outcome: 'failed', error: keptFailingError('soap', error) };
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
        loop(slot).catch((error: unknown) => {
          broken = true;
          throw error;
        }),
      ),
    );
    const crashed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (crashed) throw crashed.reason;
    return interrupted;
  }
}

/** On the final attempt: this many rows in a row failed by the identical fault end the pass. */
const KEPT_FAILING_STREAK = 10;

function failed(row: ExportRow, code: string, message: string, column: string | null = null): LedgerEntry {
  return { rowId: row.id, outcome: 'failed', error: { code, message, column } };
}

function describeRow(row: ExportRow): string {
  return `${row.job}/${row.phase}/${row.costType}`;
}
