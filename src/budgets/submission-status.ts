/** Every status of a budget submission (PRODUCT.md, "The lifecycle of a submission"). */
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

/**
 * The state machine: each event names the statuses it may leave and the one it enters. Every
 * status change in the connector goes through one of these (SubmissionStateMachine).
 */
export const TRANSITIONS = {
  ingested: { from: ['ingesting'], to: 'ready_to_export' },
  ingestFailed: { from: ['ingesting'], to: 'ingest_failed' },
  accept: { from: ['ready_to_export'], to: 'exporting' },
  reject: { from: ['ready_to_export', 'failed_to_export', 'out_of_sync'], to: 'rejected' },
  retrieve: { from: ['ready_to_export'], to: 'retrieved' },
  supersede: { from: ['ready_to_export'], to: 'superseded' },
  exported: { from: ['exporting'], to: 'exported' },
  exportFailed: { from: ['exporting'], to: 'failed_to_export' },
  retry: { from: ['failed_to_export', 'out_of_sync'], to: 'exporting' },
  reconciledSynced: { from: ['exported', 'out_of_sync'], to: 'synced' },
  reconciledOutOfSync: { from: ['exported'], to: 'out_of_sync' },
  acknowledge: { from: ['out_of_sync'], to: 'synced' },
} as const satisfies Record<string, { from: readonly SubmissionStatus[]; to: SubmissionStatus }>;

export type SubmissionEvent = keyof typeof TRANSITIONS;
