import { AcceptSubmission } from './accept-submission';
import { AcknowledgeVariance } from './acknowledge-variance';
import { FailIngestion } from './fail-ingestion';
import { OpenSubmission } from './open-submission';
import { RecordExportOutcome } from './record-export-outcome';
import { RecordProcoreLock } from './record-procore-lock';
import { RecordProcoreUnlock } from './record-procore-unlock';
import { RecordReconciliation } from './record-reconciliation';
import { RecordSnapshot } from './record-snapshot';
import { RejectSubmission } from './reject-submission';
import { RemapSubmission } from './remap-submission';
import { RetrieveSubmission } from './retrieve-submission';
import { RetrySubmission } from './retry-submission';
import { UnlockSubmission } from './unlock-submission';

/**
 * Every operation on a submission: one command and one `execute()` each. Approvers' decisions come
 * from the API and the console; the others from Procore, Spectrum and reconciliation, which produce
 * facts and call exactly one of these.
 */
export const USE_CASES = [
  OpenSubmission,
  RecordSnapshot,
  FailIngestion,
  RecordProcoreLock,
  RecordProcoreUnlock,
  AcceptSubmission,
  RejectSubmission,
  RetrySubmission,
  RetrieveSubmission,
  AcknowledgeVariance,
  UnlockSubmission,
  RemapSubmission,
  RecordExportOutcome,
  RecordReconciliation,
];
