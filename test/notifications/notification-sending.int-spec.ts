import { NotificationBusyError, NotificationSender, SendResult } from '../../src/notifications/notification-sender.service';
import { MailTransport } from '../../src/notifications/mail-transport';
import { Notifier } from '../../src/budgets/notifier';
import { MetricsService } from '../../src/observability/metrics.service';
import { Outbox } from '../../src/queue/outbox';
import { PendingWorkSweeper } from '../../src/queue/pending-work-sweeper';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { SmtpStandIn } from '../stand-ins/smtp';
import { Connector, insertAuditEvent, notify, recipientsOf, settle, startConnector } from './notification-kit';
import { delay, waitFor } from '../support/wait';

/**
 * Workflow emails end to end: the workflow records them (Notifier), the queue sends them over
 * real SMTP (the stand-in), the ledger in PostgreSQL makes each go once.
 */
describe('notification emails over SMTP', () => {
  const smtp = new SmtpStandIn();
  let a: Connector;
  let approver: UserWithToken;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    await smtp.start();
    a = await startConnector(smtp);
  });
  afterAll(async () => {
    await a?.close();
    await smtp.stop();
  });
  beforeEach(async () => {
    await settle();
    await resetDatabase();
    smtp.clear();
    approver = await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Dana Approver', email: 'dana@example.com' });
  });

  const ledger = () =>
    sql<{ id: string; kind: string; recipient_email: string; state: string; message_id: string | null; subject: string | null; last_error: string | null; attempts: number }>(
      `select id, kind, recipient_email, state, message_id, subject, last_error, attempts from notification order by recipient_email`,
    );
  /** connector_emails_sent_total / _failed_total of the connector, summed over kinds. */
  const emailCounts = async () => {
    const metrics = a.get(MetricsService);
    const sum = (values: Array<{ value: number; labels: Record<string, string | number> }>, final?: string) =>
      values.filter((v) => final === undefined || v.labels.final === final).reduce((total, v) => total + v.value, 0);
    return {
      sent: sum((await metrics.emailsSent.get()).values),
      retried: sum((await metrics.emailsFailed.get()).values, 'false'),
      givenUp: sum((await metrics.emailsFailed.get()).values, 'true'),
    };
  };
  const reject = (submissionId: string, reason: string) => api(a.url, approver.token).post(`/api/v1/budgets/${submissionId}/reject`, { reason });

  describe('rejected', () => {
    it('creator ≠ sender: two emails, each with the reason, the sender and a link', async () => {
      const { user: creator } = await createUser(a.em(), { erpPermission: 'read_only', name: 'Chris Creator', email: 'chris@example.com' });
      const { user: sender } = await createUser(a.em(), { erpPermission: 'standard', name: 'Sam Sender', email: 'sam@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: creator, sentBy: sender });

      const res = await reject(submission.id, 'Phase 03300 should be 03-300.\nPlease fix.');
      expect(res.status).toBe(200);
      const messages = await smtp.waitForMessages(2);
      await settle();

      expect(smtp.messages).toHaveLength(2);
      expect(recipientsOf(messages)).toEqual(['chris@example.com', 'sam@example.com']);
      for (const message of messages) {
        expect(message.subject).toBe(`Budget rejected: ${submission.projectName} (26-101)`);
        expect(message.text).toContain('Phase 03300 should be 03-300.\nPlease fix.');
        expect(message.text).toContain('Dana Approver rejected the budget');
        expect(message.text).toContain('Sam Sender (sam@example.com)');
        expect(message.text).toContain(`http://connector.test/console/budgets/${submission.id}`);
        expect(message.html).toContain('Phase 03300 should be 03-300.<br>');
        expect(message.from).toBe('"Connector" <connector@example.com>');
      }
      expect(messages.find((m) => m.to[0] === 'chris@example.com')!.text).toContain('Hello Chris Creator,');

      const rows = await ledger();
      expect(rows.map((r) => [r.kind, r.recipient_email, r.state])).toEqual([
        ['rejected', 'chris@example.com', 'sent'],
        ['rejected', 'sam@example.com', 'sent'],
      ]);
      for (const row of rows) {
        const message = messages.find((m) => m.to[0] === row.recipient_email)!;
        expect(message.headers['x-connector-notification-id']).toBe(String(row.id));
        expect(row.message_id).toBe(message.messageId);
        expect(row.subject).toBe(message.subject);
      }
    });

    it('creator = sender: one email', async () => {
      const { user: pm } = await createUser(a.em(), { erpPermission: 'standard', email: 'pat@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: pm, sentBy: pm });
      expect((await reject(submission.id, 'Wrong totals')).status).toBe(200);
      await smtp.waitForMessages(1);
      await settle();
      expect(recipientsOf(smtp.messages)).toEqual(['pat@example.com']);
    });

    it('nobody to tell (a polled budget with an unknown creator): no email, nothing pending', async () => {
      const submission = await createSubmission(a.em(), { createdBy: null, sentBy: null });
      expect((await reject(submission.id, 'Wrong totals')).status).toBe(200);
      await settle();
      expect(smtp.messages).toHaveLength(0);
      expect(await ledger()).toEqual([]);
    });

    it('a reason with <script> and & arrives escaped in HTML and intact in text', async () => {
      const { user: pm } = await createUser(a.em(), { erpPermission: 'standard', email: 'pat@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: pm, sentBy: pm });
      const reason = 'Phase 03-300 <script>alert("x")</script> is double-counted & the L cost type should be M';
      expect((await reject(submission.id, reason)).status).toBe(200);
      const [message] = await smtp.waitForMessages(1);
      expect(message.html).not.toContain('<script>');
      expect(message.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      expect(message.html).toContain('is double-counted &amp; the L cost type');
      expect(message.text).toContain(reason);
    });

    it('SMTP down: the rejection succeeds at once; the emails arrive once SMTP is back, none twice', async () => {
      const { user: creator } = await createUser(a.em(), { erpPermission: 'read_only', email: 'chris@example.com' });
      const { user: sender } = await createUser(a.em(), { erpPermission: 'standard', email: 'sam@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: creator, sentBy: sender });
      await smtp.down();
      try {
        const started = Date.now();
        const res = await reject(submission.id, 'Wrong totals');
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ status: 'rejected' });
        expect(Date.now() - started).toBeLessThan(2000);

        // The queue spends every attempt of the jobs (tiny backoff in tests); the work stays pending.
        await waitFor(async () => {
          const rows = await sql<{ done: boolean }>(
            `select bool_and(n.attempts >= 8) as done from notification n`,
          );
          return rows[0].done === true;
        }, 'the SendNotification jobs to spend their attempts');
        expect((await ledger()).map((r) => r.state)).toEqual(['pending', 'pending']);
        expect((await ledger())[0].last_error).toMatch(/^Transient mail failure \(connection\)/);
        const pending = await sql(`select 1 from pending_work where job_name = 'send-notification' and state = 'pending'`);
        expect(pending).toHaveLength(2);
        expect(smtp.messages).toHaveLength(0);
      } finally {
        await smtp.up();
      }

      // The sweeper (every minute in production; here without the 15-minute wait) re-enqueues them.
      const { requeued } = await a.get(PendingWorkSweeper).sweep(0);
      expect(requeued).toBe(2);
      await smtp.waitForMessages(2);
      await a.get(PendingWorkSweeper).sweep(0);
      await settle(10_000, 500);
      expect(recipientsOf(smtp.messages)).toEqual(['chris@example.com', 'sam@example.com']);
      expect((await ledger()).map((r) => r.state)).toEqual(['sent', 'sent']);
    });

    it('a recipient the server refuses permanently: that email is closed as failed, the other is sent', async () => {
      const { user: creator } = await createUser(a.em(), { erpPermission: 'read_only', email: 'gone@example.com' });
      const { user: sender } = await createUser(a.em(), { erpPermission: 'standard', email: 'sam@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: creator, sentBy: sender });
      const before = await emailCounts();
      smtp.rejectRecipient('gone@example.com');
      try {
        expect((await reject(submission.id, 'Wrong totals')).status).toBe(200);
        await smtp.waitForMessages(1);
        await settle();
      } finally {
        smtp.rejectRecipient('gone@example.com', 0);
      }
      const rows = await ledger();
      expect(rows.map((r) => [r.recipient_email, r.state, r.attempts])).toEqual([
        ['gone@example.com', 'failed', 1],
        ['sam@example.com', 'sent', 1],
      ]);
      expect(rows[0].last_error).toMatch(/Permanent mail failure \(recipient-rejected\).*550/);
      const after = await emailCounts();
      expect({ sent: after.sent - before.sent, retried: after.retried - before.retried, givenUp: after.givenUp - before.givenUp }).toEqual({ sent: 1, retried: 0, givenUp: 1 });
      const work = await sql(`select state from pending_work where job_name = 'send-notification' order by id`);
      expect(work.map((w) => w.state)).toEqual(['done', 'done']);
    });

    it('a transient 451 is retried by the queue and sent once', async () => {
      const { user: pm } = await createUser(a.em(), { erpPermission: 'standard', email: 'pat@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: pm, sentBy: pm });
      const before = await emailCounts();
      smtp.failNext(2, 451);
      expect((await reject(submission.id, 'Wrong totals')).status).toBe(200);
      await smtp.waitForMessages(1);
      await settle();
      expect(smtp.messages).toHaveLength(1);
      expect(await ledger()).toMatchObject([{ state: 'sent', attempts: 3 }]);
      const after = await emailCounts();
      expect({ sent: after.sent - before.sent, retried: after.retried - before.retried, givenUp: after.givenUp - before.givenUp }).toEqual({ sent: 1, retried: 2, givenUp: 0 });
    });
  });

  describe('claiming', () => {
    it('many senders on one notification, in two instances: exactly one email', async () => {
      const b = await startConnector(smtp, 'worker');
      try {
        const { user: pm } = await createUser(a.em(), { erpPermission: 'standard', email: 'pat@example.com' });
        const submission = await createSubmission(a.em(), { createdBy: pm, sentBy: pm, status: 'rejected' });
        const eventId = await insertAuditEvent({ submissionId: submission.id, action: 'reject', from: 'ready_to_export', to: 'rejected', actorId: approver.user.id, note: 'x' });
        // Recorded without dispatching: only the direct calls below send it.
        await a.get(Outbox).transactionHeld(() => a.get(Notifier).rejected(submission.id, eventId));
        const [{ id }] = await sql<{ id: string }>(`select id from notification`);

        const attempts = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? b : a)
              .get(NotificationSender)
              .send(String(id))
              .then((result: SendResult) => result.outcome, (error: Error) => (error instanceof NotificationBusyError ? 'busy' : error.message)),
          ),
        );
        await delay(300);
        expect(attempts.filter((outcome) => outcome === 'sent')).toHaveLength(1);
        expect(attempts.every((outcome) => ['sent', 'busy', 'skipped'].includes(outcome))).toBe(true);
        expect(smtp.messages).toHaveLength(1);
        expect(await ledger()).toMatchObject([{ state: 'sent', attempts: 1 }]);
        expect(await a.get(NotificationSender).send(String(id))).toEqual({ outcome: 'skipped', reason: `notification ${id} is already sent` });
        // The queue job of the recorded work runs later and finds it sent.
        expect((await a.get(PendingWorkSweeper).sweep(0)).requeued).toBe(1);
        await settle();
        expect(smtp.messages).toHaveLength(1);
      } finally {
        await b.close();
      }
    });
  });

  describe('shutdown', () => {
    it('closes the SMTP pool; a send cut off by shutdown stays pending and goes out from another instance', async () => {
      const c = await startConnector(smtp, 'worker');
      const { user: pm } = await createUser(a.em(), { erpPermission: 'standard', email: 'pat@example.com' });
      const submission = await createSubmission(a.em(), { createdBy: pm, sentBy: pm, status: 'rejected' });
      const eventId = await insertAuditEvent({ submissionId: submission.id, action: 'reject', from: 'ready_to_export', to: 'rejected', actorId: approver.user.id, note: 'x' });
      await a.get(Outbox).transactionHeld(() => a.get(Notifier).rejected(submission.id, eventId));
      const [{ id }] = await sql<{ id: string }>(`select id from notification`);

      // Shutdown closes the pool: Nest calls MailTransport.onModuleDestroy.
      const transport = c.get(MailTransport);
      await c.close();
      await expect(transport.send({ to: 'x@example.com', subject: 's', html: 'h', text: 't' })).rejects.toMatchObject({ reason: 'closed' });

      // A send that meets a closed pool (the process is stopping) keeps the email pending.
      const d = await startConnector(smtp, 'worker');
      try {
        d.get(MailTransport).close();
        await expect(d.get(NotificationSender).send(String(id))).rejects.toMatchObject({ reason: 'closed' });
        expect(await ledger()).toMatchObject([{ state: 'pending', attempts: 1 }]);
      } finally {
        await d.close();
      }

      await a.get(PendingWorkSweeper).sweep(0);
      await smtp.waitForMessages(1);
      await settle();
      expect(await ledger()).toMatchObject([{ state: 'sent', attempts: 2 }]);
      expect(smtp.messages).toHaveLength(1);
    });
  });

  describe('failed to export, out of sync, re-sent (recorded by Notifier as the exporter, reconciler and ingestion will)', () => {
    let sender: UserWithToken;

    beforeEach(async () => {
      // An approver who turned the digest off still hears about failures (the digest flag governs only the digest).
      await createUser(a.em(), { erpPermission: 'admin', canPushToAccounting: true, email: 'ada@example.com', subscribedToDigest: false });
      sender = await createUser(a.em(), { erpPermission: 'standard', email: 'sam@example.com', name: 'Sam Sender' });
      // Never told: no canPushToAccounting, read only, or deactivated.
      await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: false, email: 'nopush@example.com' });
      await createUser(a.em(), { erpPermission: 'read_only', canPushToAccounting: true, email: 'reader@example.com' });
      const { user: former } = await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: true, email: 'former@example.com' });
      await sql(`update app_user set active = false where id = $1`, [former.id]);
    });

    it('failed to export: approvers and the sender, with every row error', async () => {
      const submission = await createSubmission(a.em(), { status: 'failed_to_export', sentBy: sender.user, createdBy: sender.user });
      await sql(`update submission_row set export_state = 'written' where submission_id = $1 and phase = '01100'`, [submission.id]);
      await sql(
        `update submission_row set export_state = 'failed', export_error = $2 where submission_id = $1 and phase = '03300'`,
        [submission.id, JSON.stringify({ code: 'I', message: 'Invalid Cost Type <M> & more', column: 'Cost_Type' })],
      );
      const eventId = await insertAuditEvent({ submissionId: submission.id, action: 'exportFailed', from: 'exporting', to: 'failed_to_export' });

      await notify(a, (notifier) => notifier.exportFailed(submission.id, eventId));
      const messages = await smtp.waitForMessages(3);
      await settle();

      expect(recipientsOf(smtp.messages)).toEqual(['ada@example.com', 'dana@example.com', 'sam@example.com']);
      for (const message of messages) {
        expect(message.subject).toBe(`Budget failed to export to Spectrum: ${submission.projectName} (26-101)`);
        expect(message.text).toContain('ended with 1 error. 1 of 2 rows were written');
        expect(message.text).toContain('Invalid Cost Type <M> & more');
        expect(message.text).toContain('26-101 / 03300 / M');
        expect(message.html).toContain('Invalid Cost Type &lt;M&gt; &amp; more');
        expect(message.html).toContain('Cost_Type');
      }
    });

    it('out of sync: approvers and the sender, with every variance of the latest report', async () => {
      const submission = await createSubmission(a.em(), { status: 'out_of_sync', sentBy: sender.user });
      const rows = [
        { job: '26-101', phase: '01100', costType: 'L', description: 'General Conditions', procoreRevised: '1275.50', spectrumEstimated: '1275.50', variance: '0.00', status: 'matched' },
        { job: '26-101', phase: '03300', costType: 'M', description: 'Cast-in-Place Concrete', procoreRevised: '98765.43', spectrumEstimated: '90000.00', variance: '-8765.43', status: 'amount_differs' },
        { job: '26-101', phase: '09900', costType: 'O', description: 'Contingency', procoreRevised: null, spectrumEstimated: '250.00', variance: '250.00', status: 'not_in_budget' },
      ];
      await sql(
        `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total, spectrum_estimated_total, variance_count, tolerance, explanation, rows)
         values ($1, now() - interval '1 hour', 'synced', 'ABC', '26-101', 0, 0, 0, 0, 'older report', '[]'),
                ($1, now(), 'out_of_sync', 'ABC', '26-101', 100040.93, 91525.50, 2, 0, $2, $3)`,
        [submission.id, "Spectrum kept its current estimates: the Job Cost option 'Current Estimate display only' may be on", JSON.stringify(rows)],
      );
      const eventId = await insertAuditEvent({ submissionId: submission.id, action: 'reconciledOutOfSync', from: 'exported', to: 'out_of_sync' });

      await notify(a, (notifier) => notifier.outOfSync(submission.id, eventId));
      const messages = await smtp.waitForMessages(3);
      await settle();

      expect(recipientsOf(smtp.messages)).toEqual(['ada@example.com', 'dana@example.com', 'sam@example.com']);
      for (const message of messages) {
        expect(message.subject).toBe(`Budget out of sync with Spectrum: ${submission.projectName} (26-101)`);
        expect(message.text).toContain('26-101 / 03300 / M  Cast-in-Place Concrete');
        expect(message.text).toContain('Amount differs: Procore revised 98,765.43, Spectrum estimated 90,000.00, variance -8,765.43');
        expect(message.text).toContain('Not in the budget: Procore revised —, Spectrum estimated 250.00, variance +250.00');
        expect(message.text).not.toContain('General Conditions');
        expect(message.text).toContain('Totals: Procore revised 100,040.93, Spectrum estimated 91,525.50, variance -8,515.43');
        expect(message.text).toContain("'Current Estimate display only' may be on");
        expect(message.text).toContain(`http://connector.test/console/budgets/${submission.id}/reconciliation.html`);
      }
    });

    it('re-sent: approvers, with the previous rejection and its reason', async () => {
      const previous = await createSubmission(a.em(), { status: 'rejected', procoreProjectId: '777', sentBy: sender.user });
      await sql(`update submission set rejection_reason = 'Missing the & steel package', decided_by_id = $2, decided_at = now() where id = $1`, [
        previous.id,
        approver.user.id,
      ]);
      await insertAuditEvent({ submissionId: previous.id, action: 'reject', from: 'ready_to_export', to: 'rejected', actorId: approver.user.id, note: 'Missing the & steel package' });
      const again = await createSubmission(a.em(), { status: 'ready_to_export', procoreProjectId: '777', sentBy: sender.user });
      const eventId = await insertAuditEvent({ submissionId: again.id, action: 'ingested', from: 'ingesting', to: 'ready_to_export' });

      await notify(a, (notifier) => notifier.resent(again.id, eventId));
      const messages = await smtp.waitForMessages(2);
      await settle();

      expect(recipientsOf(smtp.messages)).toEqual(['ada@example.com', 'dana@example.com']);
      for (const message of messages) {
        expect(message.subject).toBe(`Budget sent again for acceptance: ${again.projectName} (26-101)`);
        expect(message.text).toContain('Missing the & steel package');
        expect(message.text).toContain('Dana Approver');
        expect(message.html).toContain('Missing the &amp; steel package');
        expect(message.text).toContain(`http://connector.test/console/budgets/${again.id}`);
      }
    });

    it('an email whose data is gone is closed as failed with the reason, not retried', async () => {
      const submission = await createSubmission(a.em(), { status: 'out_of_sync', sentBy: sender.user });
      const eventId = await insertAuditEvent({ submissionId: submission.id, action: 'reconciledOutOfSync', from: 'exported', to: 'out_of_sync' });
      await notify(a, (notifier) => notifier.outOfSync(submission.id, eventId));
      await settle();
      expect(smtp.messages).toHaveLength(0);
      const rows = await ledger();
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        expect(row).toMatchObject({ state: 'failed', attempts: 1, last_error: `budget submission ${submission.id} has no out-of-sync reconciliation report` });
      }
    });
  });
});
