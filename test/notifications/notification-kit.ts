import { Notifier } from '../../src/budgets/notifier';
import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { sql } from '../support/database';
import { delay, waitFor } from '../support/wait';
import { startTestApp, startTestWorker, TestApp, TestAppOptions } from '../support/test-app';
import type { ReceivedMessage, SmtpStandIn } from '../stand-ins/smtp';

/** The jobs this part of the connector handles; other engineers' handlers are not needed. */
export const NOTIFICATION_JOBS = [JobName.SendNotification, JobName.DailySummary, JobName.SweepPendingWork];

export type Connector = Pick<TestApp, 'em' | 'get' | 'close' | 'config'> & { url: string };

/** A connector instance (HTTP + workers, or a worker alone) sending mail to the stand-in. */
export async function startConnector(
  smtp: SmtpStandIn,
  role: 'api' | 'worker' = 'api',
  options: TestAppOptions = {},
): Promise<Connector> {
  const settings: TestAppOptions = {
    runWorkers: true,
    jobs: NOTIFICATION_JOBS,
    backoffScale: 0.001,
    ...options,
    env: { SMTP_URL: smtp.url, ...(options.env ?? {}) },
  };
  if (role === 'api') return startTestApp(settings);
  return { ...(await startTestWorker(settings)), url: '' };
}

/**
 * Waits until no notification work is pending and nothing is left to send, then a little longer,
 * so a duplicate that was going to arrive has arrived.
 */
export async function settle(timeoutMs = 30_000, quietMs = 300): Promise<void> {
  await waitFor(
    async () => {
      const [{ open }] = await sql<{ open: string }>(
        `select (select count(*) from pending_work where state = 'pending' and job_name in ($1, $2))
              + (select count(*) from notification where state = 'pending') as open`,
        [JobName.SendNotification, JobName.DailySummary],
      );
      return open === '0';
    },
    'notification work to be done',
    timeoutMs,
  );
  await delay(quietMs);
}

/** Recipients of the received messages, sorted, one entry per message. */
export const recipientsOf = (messages: readonly ReceivedMessage[]) => messages.flatMap((m) => m.envelope.rcptTo).sort();

/** An audit event as a workflow transition writes it; returns its id. */
export async function insertAuditEvent(event: {
  submissionId: string;
  action: string;
  from?: string | null;
  to?: string | null;
  actorId?: string | null;
  note?: string | null;
}): Promise<string> {
  const [row] = await sql<{ id: string }>(
    `insert into audit_event (submission_id, actor_id, actor_label, action, from_status, to_status, note, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, now()) returning id`,
    [event.submissionId, event.actorId ?? null, event.actorId ? 'user' : 'system', event.action, event.from ?? null, event.to ?? null, event.note ?? null],
  );
  return String(row.id);
}

/** Calls a Notifier method in its own transaction and dispatches its work, as the workflow does. */
export async function notify(connector: Connector, record: (notifier: Notifier) => Promise<unknown>): Promise<void> {
  await connector.get(Outbox).transaction(() => record(connector.get(Notifier)));
}
