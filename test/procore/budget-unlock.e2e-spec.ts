import { BudgetUnlock } from '../../src/procore/unlock/budget-unlock.service';
import { PendingWorkSweeper } from '../../src/queue/pending-work-sweeper';
import { sql, resetDatabase, resetRedis } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, seedSampleProject } from '../stand-ins/procore';
import { useProcoreApp } from './procore-test-kit';
import { waitFor } from '../support/wait';

describe('unlocking the budget in Procore (UnlockBudget)', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let approver: UserWithToken;

  useProcoreApp(standIn, {}, (app) => (t = app));
  beforeEach(async () => {
    await standIn.up();
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });

  const actions = (submissionId: string) =>
    sql(`select action from audit_event where submission_id = $1 order by id`, [submissionId]).then((rows) => rows.map((row) => row.action));
  const unlockWork = () => sql(`select state, attempts, last_error from pending_work where job_name = 'unlock-budget'`);

  it('reject unlocks the budget in Procore and records it', async () => {
    const submission = await createSubmission(t.em(), { procoreProjectId: String(SAMPLE_PROJECT_ID) });
    const res = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/reject`, { reason: 'Phase 03-300 is double counted' });
    expect(res.status).toBe(200);
    await waitFor(async () => !standIn.isLocked(SAMPLE_PROJECT_ID), 'the budget to be unlocked');
    await waitFor(async () => (await unlockWork())[0]?.state === 'done', 'the unlock work to finish');
    expect(await actions(submission.id)).toEqual(['reject', 'procore.unlock']);
    const [event] = await sql(`select actor_label, note, from_status, to_status from audit_event where action = 'procore.unlock'`);
    expect(event).toEqual({ actor_label: 'system', note: `Unlocked the budget in Procore (project ${SAMPLE_PROJECT_ID})`, from_status: null, to_status: null });
    expect(standIn.countRequests({ method: 'DELETE', path: '/budget/lock' })).toBe(1);
  });

  it('retrieve by the sender unlocks the budget', async () => {
    const sender = await createUser(t.em(), { erpPermission: 'standard' });
    const submission = await createSubmission(t.em(), { procoreProjectId: String(SAMPLE_PROJECT_ID), sentBy: sender.user });
    const res = await api(t.url, sender.token).post(`/api/v1/budgets/${submission.id}/retrieve`);
    expect(res.body).toEqual({ id: submission.id, status: 'retrieved' });
    await waitFor(async () => !standIn.isLocked(SAMPLE_PROJECT_ID), 'the budget to be unlocked');
  });

  it('with Procore down the rejection still stands; the unlock happens once it is back, even after Redis lost the job', async () => {
    const submission = await createSubmission(t.em(), { procoreProjectId: String(SAMPLE_PROJECT_ID) });
    await standIn.down();
    const res = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/reject`, { reason: 'Wrong totals' });
    expect(res.status).toBe(200);
    expect(await sql(`select status, rejection_reason from submission`)).toEqual([{ status: 'rejected', rejection_reason: 'Wrong totals' }]);

    // The queue spends its attempts; the work stays pending in PostgreSQL. The eighth (last) has
    // ended once its error is recorded after it began: a last attempt still running when Procore
    // comes back could unlock too, beside the run the sweeper starts below.
    await waitFor(
      async () => (await sql(`select 1 from pending_work where job_name = 'unlock-budget' and attempts >= 8 and updated_at > started_at`)).length === 1,
      'the queue to spend its attempts',
      20_000,
    );
    const [work] = await unlockWork();
    expect(work).toMatchObject({ state: 'pending', last_error: expect.stringMatching(/^Procore DELETE \/rest\/v1.0\/projects\/1001\/budget\/lock failed: /) });
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    await resetRedis(); // Redis forgets everything of this run

    await standIn.up();
    expect(await t.get(PendingWorkSweeper).sweep(0)).toEqual({ requeued: 1 });
    await waitFor(async () => !standIn.isLocked(SAMPLE_PROJECT_ID), 'the budget to be unlocked');
    await waitFor(async () => (await unlockWork())[0]?.state === 'done', 'the unlock work to finish');
    expect(await actions(submission.id)).toEqual(['reject', 'procore.unlock']);
  });

  it('a permanent refusal (project gone from Procore) is recorded and ends the work', async () => {
    const submission = await createSubmission(t.em(), { procoreProjectId: '999999' });
    await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/reject`, { reason: 'Wrong project' });
    await waitFor(async () => (await unlockWork())[0]?.state === 'done', 'the unlock work to finish');
    const [event] = await sql(`select note from audit_event where action = 'procore.unlock_failed'`);
    expect(event.note).toBe(
      'Could not unlock the budget in Procore (project 999999): Procore DELETE /rest/v1.0/projects/999999/budget/lock failed with 404 Not Found: Project not found',
    );
  });

  it('an already unlocked budget is fine; a newer open submission keeps the budget locked', async () => {
    const old = await createSubmission(t.em(), { status: 'rejected', procoreProjectId: String(SAMPLE_PROJECT_ID) });
    standIn.setLocked(SAMPLE_PROJECT_ID, false);
    expect(await t.get(BudgetUnlock).unlock(old.id)).toMatchObject({ outcome: 'already_unlocked' });

    standIn.setLocked(SAMPLE_PROJECT_ID, true);
    const newer = await createSubmission(t.em(), { status: 'ready_to_export', procoreProjectId: String(SAMPLE_PROJECT_ID) });
    expect(await t.get(BudgetUnlock).unlock(old.id)).toEqual({
      submissionId: old.id,
      outcome: 'kept_locked',
      note: `Left the budget locked in Procore: the newer submission ${newer.id} (ready to export) holds it`,
    });
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    expect(await actions(old.id)).toEqual(['procore.unlock', 'procore.unlock_skipped']);
  });
});
