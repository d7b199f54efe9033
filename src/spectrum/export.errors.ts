import { RowExportError } from '../budgets/submission-row.entity';
import {
  describeMessage,
  SpectrumAuthError,
  SpectrumDataError,
  SpectrumError,
  SpectrumMessage,
  SpectrumResponseFormatError,
} from './client/spectrum.errors';

/** Another worker is exporting this submission right now; the queue tries again later. */
export class ExportBusyError extends Error {
  constructor(readonly submissionId: string) {
    super(`Budget submission ${submissionId} is being exported by another worker; trying again later`);
    this.name = 'ExportBusyError';
  }
}

/**
 * The export stopped with rows still pending because Spectrum (or the export folder) kept failing
 * for a while. The queue retries with backoff and the export resumes from the ledger.
 */
export class ExportIncompleteError extends Error {
  constructor(
    readonly submissionId: string,
    readonly pendingRows: number,
    readonly reason: Error,
  ) {
    super(`Budget submission ${submissionId}: ${pendingRows} row(s) not written yet, will retry: ${reason.message}`, { cause: reason });
    this.name = 'ExportIncompleteError';
  }
}

/** Codes of row errors the connector sets itself; Spectrum's own are A, I and M. */
export const EXPORT_ERROR_CODES = {
  jobNotFound: 'job_not_found',
  jobComplete: 'job_complete',
  /** A job number Spectrum would read as SuperSelect operators. */
  jobUnusable: 'job_unusable',
  /** Not written because other rows of the submission were flagged before anything was written. */
  blocked: 'blocked',
  unmapped: 'unmapped',
  unavailable: 'spectrum_unavailable',
  fault: 'spectrum_fault',
  auth: 'spectrum_auth',
  response: 'spectrum_response',
  transferFile: 'transfer_file',
} as const;

/** Spectrum's answer to one AddPhase as the row's error: the first error, the others appended. */
export function rowErrorFromMessages(errors: SpectrumMessage[]): RowExportError {
  const [first, ...others] = errors;
  const message = first.message || 'rejected without a message';
  return {
    code: first.code,
    message: others.length ? `${message} (also: ${others.map(describeMessage).join('; ')})` : message,
    column: first.column || null,
  };
}

/** A permanent Spectrum failure as a row error. */
export function rowErrorFromSpectrum(error: SpectrumError): RowExportError {
  if (error instanceof SpectrumDataError && error.errors.length) return rowErrorFromMessages(error.errors);
  const code =
    error instanceof SpectrumAuthError
      ? EXPORT_ERROR_CODES.auth
      : error instanceof SpectrumResponseFormatError
        ? EXPORT_ERROR_CODES.response
        : EXPORT_ERROR_CODES.fault;
  return { code, message: error.message, column: null };
}

/**
 * The row error of the queue's last attempt for a row that never got through: what kept going
 * wrong. `what` is the driver's words ("Spectrum kept failing", …).
 */
export function keptFailingError(what: string, reason: Error): RowExportError {
  return {
    code: EXPORT_ERROR_CODES.unavailable,
    message: `${what}: ${reason.message}. The row was not written; retry the export once Spectrum answers again.`,
    column: null,
  };
}
