import { Outbox } from '../../src/queue/outbox';
import { PendingWorkSweeper } from '../../src/queue/pending-work-sweeper';
import { JobName } from '../../src/queue/queue.contract';
import { WorkQueue } from '../../src/queue/work-queue.service';
import { flushRedis, resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

describe('pending work sweeper', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(() => resetDatabase());

  it('re-enqueues pending work whose queue job vanished with a Redis flush', async () => {
    const submission = await createSubmission(t.em());
    const work = await t.get(Outbox).enqueue(JobName.UnlockBudget, { submissionId: submission.id });
    const queue = t.get(WorkQueue).queueFor(JobName.UnlockBudget);
    expect(await queue.getJob(WorkQueue.jobId(work))).not.toBeNull();
    await flushRedis();
    expect(await queue.getJob(WorkQueue.jobId(work))).toBeNull();
    expect(await t.get(PendingWorkSweeper).sweep(0)).toEqual({ requeued: 1 });
    const job = await queue.getJob(WorkQueue.jobId(work));
    expect(job?.data).toEqual({ submissionId: submission.id, workId: work.id });
    // A live job is left alone.
    expect(await t.get(PendingWorkSweeper).sweep(0)).toEqual({ requeued: 0 });
  });

  it('records the export again for a submission left exporting with no pending export work', async () => {
    const stuck = await createSubmission(t.em(), { status: 'exporting' });
    const recent = await createSubmission(t.em(), { status: 'exporting' });
    await sql(`update submission set status_changed_at = now() - interval '1 hour' where id = $1`, [stuck.id]);
    const { requeued } = await t.get(PendingWorkSweeper).sweep(60_000);
    expect(requeued).toBe(1);
    expect(await sql(`select job_name, payload, state from pending_work`)).toEqual([
      { job_name: 'export-submission', payload: { submissionId: stuck.id }, state: 'pending' },
    ]);
    expect(recent.id).not.toBe(stuck.id);
    // Once its work is pending, the next sweep leaves it alone.
    expect((await t.get(PendingWorkSweeper).sweep(60_000)).requeued).toBe(0);
  });
});
