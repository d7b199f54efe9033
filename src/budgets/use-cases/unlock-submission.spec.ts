import { newUseCase, user } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { ReconciliationGate } from '../reconciliation-gate';
import { SUBMISSION_STATUSES } from '../submission-status';
import { UnlockSubmission } from './unlock-submission';

describe('UnlockSubmission', () => {
  const approver = user('11');

  function synced() {
    const kit = newUseCase(UnlockSubmission);
    const submission = kit.given({ status: 'synced', unlockedAt: null });
    kit.mock(ReconciliationGate).unlockRefusal.mockResolvedValue(null);
    return { kit, submission };
  }

  it('a synced budget is unlocked once: it stays synced, who and when are set, the UnlockBudget job is recorded', async () => {
    const { kit, submission } = synced();
    const answer = await kit.sut.execute({ submissionId: '7', user: approver });
    expect(answer).toEqual({ status: 'synced', unlockRequestedAt: expect.any(String) });
    expect(submission).toMatchObject({ status: 'synced', unlockedBy: approver, unlockedAt: new Date(answer.unlockRequestedAt) });
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'unlock', from: 'synced', to: 'synced', actor: { user: approver } })]);
    expect(kit.recorded()).toEqual([{ job: JobName.UnlockBudget, payload: { submissionId: '7' }, dedupeKey: 'unlock:7:audit-1' }]);
  });

  it('a second unlock gets AlreadyUnlocked and records nothing more', async () => {
    const { kit } = synced();
    await kit.sut.execute({ submissionId: '7', user: approver });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.AlreadyUnlocked, details: { status: 'synced' } });
    expect(kit.recorded()).toHaveLength(1);
    expect(kit.audited()).toHaveLength(1);
  });

  it.each(SUBMISSION_STATUSES.filter((status) => status !== 'synced'))('refuses a budget that is %s (UnlockRefused), without asking the reconciliation', async (status) => {
    const kit = newUseCase(UnlockSubmission);
    kit.given({ status });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.UnlockRefused, details: { status } });
    expect(kit.mock(ReconciliationGate).unlockRefusal).not.toHaveBeenCalled();
    expect(kit.recorded()).toEqual([]);
  });

  it('refuses a synced budget the latest reconciliation does not back (UnlockRefused, its reason)', async () => {
    const { kit } = synced();
    kit.mock(ReconciliationGate).unlockRefusal.mockResolvedValue('the latest is out of sync');
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.UnlockRefused, message: 'the latest is out of sync' });
    expect(kit.audited()).toEqual([]);
    expect(kit.recorded()).toEqual([]);
  });

  it('answers SubmissionNotFound for an unknown id', async () => {
    const kit = newUseCase(UnlockSubmission);
    await expect(kit.sut.execute({ submissionId: '404', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.SubmissionNotFound });
  });
});
