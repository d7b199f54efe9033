import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { Clock } from '../../src/scheduler/clock';
import { SchedulerService } from '../../src/scheduler/scheduler.service';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser } from '../support/factories';
import { SmtpStandIn } from '../stand-ins/smtp';
import { Connector, settle, startConnector } from './notification-kit';

/**
 * The daily summary's day is a calendar day of DAILY_SUMMARY_TZ, never UTC's. East of UTC the two
 * differ at the summary's own hour: 07:00 in Sydney (AEDT, UTC+11) is 20:00 UTC the day before.
 */
describe('daily summary in a zone east of UTC (Australia/Sydney)', () => {
  const smtp = new SmtpStandIn();
  let connector: Connector;
  let clock: Clock;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    await smtp.start();
    connector = await startConnector(smtp, 'worker', { env: { DAILY_SUMMARY_TZ: 'Australia/Sydney', DAILY_SUMMARY_CRON: '0 7 * * *' } });
    clock = connector.get(Clock);
  });
  afterAll(async () => {
    await connector?.close();
    await smtp.stop();
  });
  beforeEach(async () => {
    await settle();
    await resetDatabase();
    smtp.clear();
    await createUser(connector.em(), { erpPermission: 'standard', canPushToAccounting: true, email: 'approver@example.com' });
    await createSubmission(connector.em());
  });

  it("the 07:00 tick serves Sydney's day and its summary is sent", async () => {
    const now = new Date('2026-01-15T20:30:00Z'); // Friday 16 January, 07:30 in Sydney
    clock.now = () => now;
    await connector.get(SchedulerService).enqueueDailySummary(now);
    await smtp.waitForMessages(1);
    await settle();
    expect(await sql(`select payload from pending_work where job_name = $1`, [JobName.DailySummary])).toEqual([{ payload: { day: '2026-01-16' } }]);
    expect(await sql(`select day, recipient_email, state from notification`)).toEqual([{ day: '2026-01-16', recipient_email: 'approver@example.com', state: 'sent' }]);
  });

  it("a summary whose Sydney day is over is dropped, though that day is still today in UTC", async () => {
    clock.now = () => new Date('2026-01-16T14:00:00Z'); // Saturday 17 January, 01:00 in Sydney; still the 16th in UTC
    await connector.get(Outbox).enqueue(JobName.DailySummary, { day: '2026-01-16' });
    await settle();
    expect(smtp.messages).toHaveLength(0);
    expect(await sql(`select 1 from notification`)).toEqual([]);
    expect(await sql(`select state from pending_work where job_name = $1`, [JobName.DailySummary])).toEqual([{ state: 'done' }]);
  });

  it('late in the Sydney evening the same day is still served', async () => {
    const now = new Date('2026-01-16T12:30:00Z'); // 23:30 on the 16th in Sydney
    clock.now = () => now;
    await connector.get(SchedulerService).enqueueDailySummary(now);
    await smtp.waitForMessages(1);
    await settle();
    expect(await sql(`select day from notification`)).toEqual([{ day: '2026-01-16' }]);
  });
});
