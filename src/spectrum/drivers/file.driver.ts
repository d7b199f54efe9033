import { promises as fs } from 'node:fs';
import type { RowExportError, RowExportState, SpectrumRow } from '../../budgets/submission-row.entity';
import { AppConfig } from '../../config/app-config';
import { EXPORT_ERROR_CODES, keptFailingError } from '../export.errors';
import { ExportLedger } from '../export-ledger';
import { checkRows, jobsOf } from '../export-plan';
import { recordFlags } from './record-flags';
import { ExportAttemptInfo, ExportSubmission, RunGuard, SpectrumDriver, WriteOutcome } from './spectrum-driver';
import { SpectrumRowIndex } from '../spectrum-row-index';
import { TransferFileError, writeTransferFile } from './transfer-file';

/**
 * The file transport (SPECTRUM_TRANSPORT=file): one standard transfer file per job, written
 * atomically into SPECTRUM_EXPORT_DIR for Spectrum's Import Standard Job. A file gives no per-row
 * answer, so its pending rows are `written` once the file is in place; reconciliation later proves
 * whether Spectrum imported them. The exporter hands over every row of a job (written ones
 * included), so a file rewritten after a crash or a partial ledger commit — same name, replaced
 * whole — still holds the whole job, never only the rows that were pending.
 */
export class FileDriver implements SpectrumDriver {
  constructor(private readonly config: AppConfig) {}

  /**
   * Every row that is not failed of each job that still has a pending row: a job's transfer file is
   * rewritten whole under the same name, so it must hold the rows a previous run already marked
   * written, not only the pending ones (the driver marks only the pending ones written).
   */
  async rowsToWrite(load: (states: RowExportState[]) => Promise<SpectrumRow[]>): Promise<SpectrumRow[]> {
    const rows = await load(['pending', 'written']);
    const jobsWithPending = new Set(rows.filter((row) => row.exportState === 'pending').map((row) => row.job));
    return rows.filter((row) => jobsWithPending.has(row.job));
  }

  keptFailing(reason: Error): RowExportError {
    return keptFailingError('Writing the transfer file kept failing', reason);
  }

  /**
   * A transfer file gives no answer: until SPECTRUM_FILE_IMPORT_WAIT after the export, a budget that
   * does not match yet is awaiting Spectrum's import, never out of sync.
   */
  awaitingImportUntil(exportedAt: Date | null): Date | null {
    return exportedAt ? new Date(exportedAt.getTime() + this.config.spectrum.fileImportWaitMs) : null;
  }

  async write(
    submission: ExportSubmission,
    rows: SpectrumRow[],
    ledger: ExportLedger,
    _attempt: ExportAttemptInfo,
    guard: RunGuard = { lostError: () => undefined },
  ): Promise<WriteOutcome> {
    const dir = this.config.spectrum.exportDir;
    if (!dir) throw new Error('SPECTRUM_EXPORT_DIR is not set although SPECTRUM_TRANSPORT=file');
    const notes: string[] = [];
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (error) {
      return { interrupted: new Error(`cannot create the export folder ${dir}: ${(error as Error).message}`), notes };
    }
    // The checks that need no Spectrum read (SPECTRUM_COST_TYPES, two rows on one Spectrum row):
    // while one fails, no file is written.
    const mapped = rows.filter((row) => row.job && row.phase && row.costType);
    const flags = checkRows(mapped, new SpectrumRowIndex([]), { costTypes: this.config.spectrum.costTypes }).filter(
      (flag) => flag.row.exportState === 'pending',
    );
    if (flags.length) {
      await recordFlags(flags, mapped.filter((row) => row.exportState === 'pending'), ledger);
      return { notes };
    }
    for (const job of jobsOf(rows)) {
      const lost = guard.lostError();
      if (lost) return { interrupted: lost, notes };
      const jobRows = rows.filter((row) => row.job === job);
      const unmapped = jobRows.filter((row) => !row.job || !row.phase || !row.costType);
      for (const row of unmapped.filter((candidate) => candidate.exportState === 'pending')) {
        await ledger.record({
          rowId: row.id,
          outcome: 'failed',
          error: { code: EXPORT_ERROR_CODES.unmapped, message: 'The row has no Spectrum job, phase or cost type', column: null },
        });
      }
      const fileRows = jobRows.filter((row) => !unmapped.includes(row));
      if (!fileRows.length) continue;
      try {
        const file = await writeTransferFile(
          dir,
          {
            jobNumber: job,
            jobDescription: submission.projectName,
            rows: fileRows.map((row) => ({
              phaseCode: row.phase,
              description: row.description,
              costType: row.costType,
              estimate: row.revisedEstimate,
            })),
          },
          submission.id,
        );
        notes.push(`transfer file ${file.path} (${fileRows.length} row(s))`);
        const at = new Date();
        for (const row of fileRows) {
          if (row.exportState === 'pending') await ledger.record({ rowId: row.id, outcome: 'written', action: null, at });
        }
      } catch (error) {
        if (error instanceof TransferFileError) {
          for (const row of fileRows.filter((candidate) => candidate.exportState === 'pending')) {
            await ledger.record({
              rowId: row.id,
              outcome: 'failed',
              error: { code: EXPORT_ERROR_CODES.transferFile, message: error.message, column: null },
            });
          }
          continue;
        }
        // The folder is unwritable or full: try again later.
        return { interrupted: new Error(`cannot write the transfer file for job ${job} into ${dir}: ${(error as Error).message}`), notes };
      }
    }
    return { notes };
  }
}
