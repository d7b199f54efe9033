import type { ExportLedger } from '../export-ledger';
import type { RowExportError, RowExportState, SpectrumRow } from '../../budgets/submission-row.entity';

/**
 * How a budget reaches Spectrum (SPECTRUM_TRANSPORT): over Data Exchange SOAP (SoapDriver) or as
 * transfer files for Spectrum's job import (FileDriver). The application chooses one driver once,
 * at start (SpectrumModule); the exporter and the reconciliation ask it, never the setting.
 */
export interface SpectrumDriver {
  /**
   * The rows one export run hands to `write`, read through `load` (the submission's export rows in
   * the given ledger states).
   */
  rowsToWrite(load: (states: RowExportState[]) => Promise<SpectrumRow[]>): Promise<SpectrumRow[]>;

  /** Writes the rows, recording every outcome in the ledger. */
  write(submission: ExportSubmission, rows: SpectrumRow[], ledger: ExportLedger, attempt: ExportAttemptInfo, guard: RunGuard): Promise<WriteOutcome>;

  /** The row error of the queue's last attempt for a row that never got through. */
  keptFailing(reason: Error): RowExportError;

  /**
   * Until when an exported budget that does not match Spectrum yet is awaiting Spectrum's own import
   * (not out of sync), or null when Spectrum answers every write at once.
   */
  awaitingImportUntil(exportedAt: Date | null): Date | null;
}

/** Injection token of the driver in force. */
export const SPECTRUM_DRIVER = Symbol('SPECTRUM_DRIVER');

export interface ExportSubmission {
  id: string;
  projectName: string;
}

export interface ExportAttemptInfo {
  /** True when a failure now would spend the queue's last attempt. */
  finalAttempt: boolean;
}

/** Asked before every Spectrum call: an error to stop with (the export lock was lost), or undefined. */
export interface RunGuard {
  lostError(): Error | undefined;
}

/** What one pass over the rows left behind. */
export interface WriteOutcome {
  /** Set when a transient failure stopped the pass with rows still pending. */
  interrupted?: Error;
  /** One line each for the audit note (files written, …). */
  notes: string[];
}
