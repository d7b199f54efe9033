/**
 * The one contract of the work queues: every queue, every job, the payload each job carries (ids
 * only; the state lives in PostgreSQL) and each job's retry policy.
 */
export const QUEUE_NAMES = ['ingestion', 'export', 'reconciliation', 'procore', 'notifications', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export enum JobName {
  IngestSubmission = 'ingest-submission',
  ProcessWebhookEvent = 'process-webhook-event',
  PollProjects = 'poll-projects',
  ExportSubmission = 'export-submission',
  ReconcileSubmission = 'reconcile-submission',
  ReconcileSweep = 'reconcile-sweep',
  UnlockBudget = 'unlock-budget',
  SyncUsers = 'sync-users',
  SendNotification = 'send-notification',
  DailySummary = 'daily-summary',
  SweepPendingWork = 'sweep-pending-work',
}

export interface JobPayloads {
  [JobName.IngestSubmission]: { submissionId: string };
  [JobName.ProcessWebhookEvent]: { webhookEventId: string };
  [JobName.PollProjects]: { window: string };
  [JobName.ExportSubmission]: { submissionId: string };
  [JobName.ReconcileSubmission]: { submissionId: string };
  [JobName.ReconcileSweep]: { window: string };
  [JobName.UnlockBudget]: { submissionId: string };
  [JobName.SyncUsers]: { window: string };
  [JobName.SendNotification]: { notificationId: string };
  [JobName.DailySummary]: { day: string };
  [JobName.SweepPendingWork]: { window: string };
}

export interface JobDefinition {
  queue: QueueName;
  /** Attempts in one run of the queue job; work still pending after them is picked up by the sweeper. */
  attempts: number;
  /** First retry delay; later ones double, with jitter. */
  backoffMs: number;
  /** Parallel jobs of this name per worker process. */
  concurrency: number;
}

export const JOB_DEFINITIONS: Record<JobName, JobDefinition> = {
  [JobName.IngestSubmission]: { queue: 'ingestion', attempts: 5, backoffMs: 2_000, concurrency: 2 },
  [JobName.ProcessWebhookEvent]: { queue: 'ingestion', attempts: 5, backoffMs: 2_000, concurrency: 4 },
  [JobName.PollProjects]: { queue: 'ingestion', attempts: 3, backoffMs: 10_000, concurrency: 1 },
  [JobName.ExportSubmission]: { queue: 'export', attempts: 5, backoffMs: 5_000, concurrency: 2 },
  [JobName.ReconcileSubmission]: { queue: 'reconciliation', attempts: 5, backoffMs: 5_000, concurrency: 2 },
  [JobName.ReconcileSweep]: { queue: 'reconciliation', attempts: 3, backoffMs: 10_000, concurrency: 1 },
  [JobName.UnlockBudget]: { queue: 'procore', attempts: 8, backoffMs: 2_000, concurrency: 4 },
  [JobName.SyncUsers]: { queue: 'procore', attempts: 3, backoffMs: 10_000, concurrency: 1 },
  [JobName.SendNotification]: { queue: 'notifications', attempts: 8, backoffMs: 5_000, concurrency: 4 },
  [JobName.DailySummary]: { queue: 'notifications', attempts: 5, backoffMs: 10_000, concurrency: 1 },
  [JobName.SweepPendingWork]: { queue: 'maintenance', attempts: 1, backoffMs: 1_000, concurrency: 1 },
};
