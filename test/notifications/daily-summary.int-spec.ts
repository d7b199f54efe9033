import { Outbox } from '../../src/queue/outbox';
import { Notifier } from '../../src/budgets/notifier';
import { JobName } from '../../src/queue/queue.contract';
import { WorkQueue } from '../../src/queue/work-queue.service';
import { SchedulerService } from '../../src/scheduler/scheduler.service';
import { localDate } from '../../src/scheduler/time-window';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser } from '../support/factories';
import { api } from '../support/http';
import { SmtpStandIn } from '../stand-ins/smtp';
import { Connector, recipientsOf, settle, startConnector } from './notification-kit';

const SUBJECT = 'ERP Integrations Daily Summary';
const DAY_MS = 24 * 3_600_000;
/** The tests run with DAILY_SUMMARY_TZ=UTC and DAILY_SUMMARY_CRON `0 7 * * *` (the defaults). */
const today = () => localDate(new Date(), 'UTC');
const tomorrow = () => localDate(new Date(Date.now() + DAY_MS), 'UTC');
const tickOf = (day: string, later = 0) => new Date(Date.parse(`${day}T07:00:00Z`) + later);

/**
 * The "ERP Integrations Daily Summary": once per calendar day per subscribed approver, with
 * several connector instances on one Redis and one PostgreSQL, across restarts.
 */
describe('daily summary', () => {
  const smtp = new SmtpStandIn();
  let a: Connector;
  let b: Connector;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    await smtp.start();
    a = await startConnector(smtp, 'api');
    b = await startConnector(smtp, 'worker');
  });
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await smtp.stop();
  });
  beforeEach(async () => {
    await settle();
    await resetDatabase();
    smtp.clear();
  });

  /** What both instances do when the schedule fires — plus the job itself, to show the ledger holds alone. */
  const triggerEverywhere = (instances: Connector[], day: string, at: Date) =>
    Promise.all(
      instances.flatMap((instance) => [
        instance.get(SchedulerService).enqueueDailySummary(at),
        instance.get(Outbox).enqueue(JobName.DailySummary, { day }),
      ]),
    );

  const approvers = async () => ({
    dana: await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: true, email: 'dana@example.com', name: 'Dana Ruiz' }),
    ada: await createUser(a.em(), { erpPermission: 'admin', canPushToAccounting: true, email: 'ada@example.com', name: 'Ada Admin' }),
  });

  it('two instances, triggered in both and again after a restart: one email per approver; the next day one more', async () => {
    await approvers();
    const { user: sam } = await createUser(a.em(), { erpPermission: 'standard', email: 'sam@example.com', name: 'Sam Sender' });
    const first = await createSubmission(a.em(), { sentBy: sam });
    const polled = await createSubmission(a.em(), { sentBy: null, lines: [{ costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: -1205n }] });
    const exporting = await createSubmission(a.em(), { status: 'exporting', sentBy: sam });

    const day = today();
    await triggerEverywhere([a, b], day, tickOf(day));
    await smtp.waitForMessages(2);
    await settle();
    expect(recipientsOf(smtp.messages)).toEqual(['ada@example.com', 'dana@example.com']);

    // The content: every budget awaiting acceptance, and only those.
    const message = smtp.messages.find((m) => m.to[0] === 'dana@example.com')!;
    expect(message.subject).toBe(SUBJECT);
    expect(message.text).toContain('Hello Dana Ruiz,');
    expect(message.text).toContain('2 budgets await your acceptance');
    expect(message.text).toContain(`1. ${first.projectName} (Spectrum job 26-101)`);
    expect(message.text).toContain('Sent by Sam Sender on');
    expect(message.text).toContain('2 lines, revised estimate 100,040.93');
    expect(message.text).toContain(`http://connector.test/console/budgets/${first.id}`);
    expect(message.text).toContain(`2. ${polled.projectName} (Spectrum job 26-101)`);
    expect(message.text).toContain('Sent by Procore (automatic poll) on');
    expect(message.text).toContain('1 line, revised estimate -12.05');
    expect(message.text).toContain('Total of 2 budgets: 100,028.88');
    expect(message.text).toContain('http://connector.test/console/budgets?status=ready_to_export');
    expect(message.text).not.toContain(exporting.projectName);
    expect(message.html).toContain(`<a href="http://connector.test/console/budgets/${first.id}"`);

    // The same day again, on a restarted instance and the other one, later in the day.
    await b.close();
    b = await startConnector(smtp, 'worker');
    await triggerEverywhere([a, b], day, tickOf(day, 5 * 3_600_000));
    await settle();
    expect(smtp.messages).toHaveLength(2);

    // The next day: one more each.
    const next = tomorrow();
    await triggerEverywhere([a, b], next, tickOf(next));
    await smtp.waitForMessages(4);
    await settle();
    expect(recipientsOf(smtp.messages)).toEqual(['ada@example.com', 'ada@example.com', 'dana@example.com', 'dana@example.com']);
    expect(smtp.messages.every((m) => m.subject === SUBJECT)).toBe(true);

    const ledger = await sql(`select day, recipient_email, state from notification order by day, recipient_email`);
    expect(ledger).toEqual([
      { day, recipient_email: 'ada@example.com', state: 'sent' },
      { day, recipient_email: 'dana@example.com', state: 'sent' },
      { day: next, recipient_email: 'ada@example.com', state: 'sent' },
      { day: next, recipient_email: 'dana@example.com', state: 'sent' },
    ]);
    // One DailySummary work per day from the schedule, however many instances fired.
    const scheduled = await sql(`select dedupe_key from pending_work where dedupe_key like 'daily-summary:%' order by id`);
    expect(scheduled).toEqual([{ dedupe_key: `daily-summary:${day}` }, { dedupe_key: `daily-summary:${next}` }]);
  });

  it('nothing awaiting acceptance: no summary', async () => {
    const { dana } = await approvers();
    await createSubmission(a.em(), { status: 'exporting' });
    const rejected = await createSubmission(a.em(), { status: 'rejected', sentBy: dana.user });
    expect(rejected.status).toBe('rejected');
    await triggerEverywhere([a], today(), tickOf(today()));
    await settle();
    expect(smtp.messages).toHaveLength(0);
    expect(await sql(`select 1 from notification`)).toEqual([]);
    expect(await sql(`select state from pending_work where job_name = 'daily-summary'`)).toEqual([{ state: 'done' }, { state: 'done' }]);
  });

  it('only subscribed approvers: unsubscribed (by themselves), read_only, without canPushToAccounting or deactivated get none', async () => {
    const { dana, ada } = await approvers();
    const ursula = await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: true, email: 'ursula@example.com' });
    const admin = await createUser(a.em(), { erpPermission: 'admin', canPushToAccounting: false, email: 'admin-no-push@example.com' });
    await createUser(a.em(), { erpPermission: 'read_only', canPushToAccounting: true, email: 'reader@example.com' });
    await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: false, email: 'no-push@example.com' });
    const former = await createUser(a.em(), { erpPermission: 'standard', canPushToAccounting: true, email: 'former@example.com' });
    await createSubmission(a.em());

    // Self-service: PATCH /api/v1/users/me, and the existing PATCH /api/v1/users/:id for oneself.
    const me = await api(a.url, ursula.token).patch('/api/v1/users/me', { subscribedToDigest: false });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: ursula.user.id, subscribedToDigest: false });
    expect((await api(a.url, ursula.token).get('/api/v1/users/me')).body.subscribedToDigest).toBe(false);
    expect((await api(a.url, ursula.token).patch('/api/v1/users/me', { erpPermission: 'admin' })).status).toBe(403);
    expect((await api(a.url, ada.token).patch(`/api/v1/users/${ada.user.id}`, { subscribedToDigest: false })).status).toBe(200);
    expect((await api(a.url, admin.token).patch(`/api/v1/users/${former.user.id}`, { active: false })).status).toBe(200);

    await triggerEverywhere([a, b], today(), tickOf(today()));
    await smtp.waitForMessages(1);
    await settle();
    expect(recipientsOf(smtp.messages)).toEqual([dana.user.email]);
  });

  it('someone who unsubscribes after the summary was recorded, before it is sent, gets none', async () => {
    const { dana, ada } = await approvers();
    await createSubmission(a.em());
    const { recorded: works } = await a.get(Outbox).transactionHeld(() => a.get(Notifier).dailySummary(today()));
    expect(works).toHaveLength(2);
    await api(a.url, ada.token).patch('/api/v1/users/me', { subscribedToDigest: false });
    await a.get(WorkQueue).dispatch(works);
    await smtp.waitForMessages(1);
    await settle();
    expect(recipientsOf(smtp.messages)).toEqual([dana.user.email]);
    const ledger = await sql(`select recipient_email, state, last_error from notification order by recipient_email`);
    expect(ledger).toEqual([
      { recipient_email: 'ada@example.com', state: 'failed', last_error: 'not sent: the recipient is no longer a subscribed approver' },
      { recipient_email: 'dana@example.com', state: 'sent', last_error: null },
    ]);
  });

  it('on demand (CLI, demo): sent even after the scheduled run found nothing, and still once per approver', async () => {
    const { dana, ada } = await approvers();
    await triggerEverywhere([a], today(), tickOf(today())); // nothing awaits yet: records nothing
    await settle();
    await createSubmission(a.em());
    await a.get(SchedulerService).enqueueDailySummary(tickOf(today(), 3_600_000)); // the same window: no-op
    await settle();
    expect(smtp.messages).toHaveLength(0);

    await a.get(SchedulerService).runDailySummaryNow(new Date());
    await smtp.waitForMessages(2);
    await settle();
    await a.get(SchedulerService).runDailySummaryNow(new Date());
    await settle();
    expect(recipientsOf(smtp.messages)).toEqual([ada.user.email, dana.user.email]);
  });

  it('a summary whose day is over (its work waited past midnight) is dropped', async () => {
    await approvers();
    await createSubmission(a.em());
    const yesterday = localDate(new Date(Date.now() - DAY_MS), 'UTC');
    await a.get(Outbox).enqueue(JobName.DailySummary, { day: yesterday });
    await settle();
    expect(smtp.messages).toHaveLength(0);
    expect(await sql(`select 1 from notification`)).toEqual([]);
  });
});
