import { newUseCase, statusesBut, user } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { RETRIEVE_REFUSAL } from '../../users/permissions';
import { BudgetsExceptionCode } from '../budgets.exception';
import { RetrieveSubmission } from './retrieve-submission';

describe('RetrieveSubmission', () => {
  const sender = user('12', { view: true });
  const admin = user('1', { admin: true });
  const approver = user('11');

  it('the sender takes a ready_to_export budget back: retrieved, unlocked in Procore, nobody emailed', async () => {
    const kit = newUseCase(RetrieveSubmission);
    kit.given({ status: 'ready_to_export', sentBy: sender });
    await expect(kit.sut.execute({ submissionId: '7', user: sender })).resolves.toEqual({ from: 'ready_to_export', to: 'retrieved', auditEventId: 'audit-1' });
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'retrieve', from: 'ready_to_export', to: 'retrieved', actor: { user: sender } })]);
    expect(kit.recorded()).toEqual([{ job: JobName.UnlockBudget, payload: { submissionId: '7' }, dedupeKey: 'unlock:7:audit-1' }]);
  });

  it('an admin may retrieve what someone else sent', async () => {
    const kit = newUseCase(RetrieveSubmission);
    kit.given({ status: 'ready_to_export', sentBy: sender });
    await expect(kit.sut.execute({ submissionId: '7', user: admin })).resolves.toMatchObject({ to: 'retrieved' });
  });

  it.each([
    ['an approver who did not send it', { sentBy: user('12') }],
    ['anyone, when nobody sent it (found by polling)', { sentBy: null }],
  ])('refuses %s (MayNotRetrieve), changing nothing', async (_who, sent) => {
    const kit = newUseCase(RetrieveSubmission);
    kit.given({ status: 'ready_to_export', ...sent });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.MayNotRetrieve, message: RETRIEVE_REFUSAL });
    expect(kit.statusOf()).toBe('ready_to_export');
    expect(kit.recorded()).toEqual([]);
  });

  it('a sender who lost every right may not retrieve', async () => {
    const kit = newUseCase(RetrieveSubmission);
    const gone = { ...user('12', {}), active: false };
    kit.given({ status: 'ready_to_export', sentBy: gone });
    await expect(kit.sut.execute({ submissionId: '7', user: gone })).rejects.toMatchObject({ code: BudgetsExceptionCode.MayNotRetrieve });
  });

  it.each(statusesBut('ready_to_export'))('refuses a budget that is %s (TransitionRefused), even to its sender', async (status) => {
    const kit = newUseCase(RetrieveSubmission);
    kit.given({ status, sentBy: sender });
    await expect(kit.sut.execute({ submissionId: '7', user: sender })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.recorded()).toEqual([]);
  });

  it('answers SubmissionNotFound for an unknown id', async () => {
    const kit = newUseCase(RetrieveSubmission);
    await expect(kit.sut.execute({ submissionId: '404', user: admin })).rejects.toMatchObject({ code: BudgetsExceptionCode.SubmissionNotFound });
  });
});
