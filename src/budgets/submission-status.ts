import { JobName } from '../queue/queue.contract';

/** Every status of a budget submission (the lifecycle of a submission, README). */
export const SUBMISSION_STATUSES = [
  'ingesting',
  'ingest_failed',
  'ready_to_export',
  'exporting',
  'exported',
  'synced',
  'out_of_sync',
  'failed_to_export',
  'rejected',
  'retrieved',
  'superseded',
] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/** A project has at most one submission in these statuses. */
export const OPEN_STATUSES: readonly SubmissionStatus[] = [
  'ingesting',
  'ready_to_export',
  'exporting',
  'exported',
  'failed_to_export',
  'out_of_sync',
];

/** Statuses reconciliation judges: just exported, or found out of sync before. */
export const RECONCILED_STATUSES: readonly SubmissionStatus[] = ['exported', 'out_of_sync'];

/** Statuses whose rows may be mapped again: nothing is being written to Spectrum for them. */
export const REMAPPABLE_STATUSES: readonly SubmissionStatus[] = ['ready_to_export', 'failed_to_export'];

/**
 * Statuses a submission waits in for one piece of work to move it on. A submission left in one
 * with no such work pending (Redis flushed, a dispatch lost) gets it recorded again by the
 * sweeper's stuck-work net (StuckSubmissions).
 */
export const WAITS_FOR: Partial<Record<SubmissionStatus, JobName>> = {
  ingesting: JobName.IngestSubmission,
  exporting: JobName.ExportSubmission,
};

/**
 * The work a transition causes, recorded with it in the same transaction (TransitionWork):
 * - `export` / `reconcile` / `unlock`: the ExportSubmission / ReconcileSubmission / UnlockBudget job;
 * - `unlockIfConnectorLocked`: UnlockBudget, only when the connector locked the budget itself;
 * - `notify…`: the emails the event owes (Notifier); `notifyResent` only when the project's
 *   previous submission ended rejected or retrieved.
 */
export type TransitionWorkKind =
  | 'export'
  | 'reconcile'
  | 'unlock'
  | 'unlockIfConnectorLocked'
  | 'notifyRejected'
  | 'notifyResent'
  | 'notifyExportFailed'
  | 'notifyOutOfSync';

/**
 * The state machine: each event names the statuses it may leave, the one it enters and the work
 * it causes. Every status change in the connector goes through one of these
 * (SubmissionStateMachine). `unlock` enters the status it leaves: an event on `synced`, recorded
 * and guarded like any other (once per submission).
 */
export const TRANSITIONS = {
  ingested: { from: ['ingesting'], to: 'ready_to_export', causes: ['notifyResent'] },
  ingestFailed: { from: ['ingesting'], to: 'ingest_failed', causes: ['unlockIfConnectorLocked'] },
  accept: { from: ['ready_to_export'], to: 'exporting', causes: ['export'] },
  reject: { from: ['ready_to_export', 'failed_to_export', 'out_of_sync'], to: 'rejected', causes: ['unlock', 'notifyRejected'] },
  retrieve: { from: ['ready_to_export'], to: 'retrieved', causes: ['unlock'] },
  supersede: { from: ['ready_to_export'], to: 'superseded', causes: [] },
  exported: { from: ['exporting'], to: 'exported', causes: ['reconcile'] },
  exportFailed: { from: ['exporting'], to: 'failed_to_export', causes: ['notifyExportFailed'] },
  retry: { from: ['failed_to_export', 'out_of_sync'], to: 'exporting', causes: ['export'] },
  reconciledSynced: { from: ['exported', 'out_of_sync'], to: 'synced', causes: [] },
  reconciledOutOfSync: { from: ['exported'], to: 'out_of_sync', causes: ['notifyOutOfSync'] },
  acknowledge: { from: ['out_of_sync'], to: 'synced', causes: [] },
  unlock: { from: ['synced'], to: 'synced', causes: ['unlock'] },
} as const satisfies Record<string, { from: readonly SubmissionStatus[]; to: SubmissionStatus; causes: readonly TransitionWorkKind[] }>;

export type SubmissionEvent = keyof typeof TRANSITIONS;

/** "ready to export": a status as a sentence says it. */
export function statusInWords(status: SubmissionStatus): string {
  return status.replace(/_/g, ' ');
}
