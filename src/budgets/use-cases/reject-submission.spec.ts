import { newUseCase, statusesBut, user } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { Notifier } from '../notifier';
import { SubmissionStatus } from '../submission-status';
import { RejectSubmission } from './reject-submission';

const REJECTABLE: SubmissionStatus[] = ['ready_to_export', 'failed_to_export', 'out_of_sync'];

describe('RejectSubmission', () => {
  const approver = user('11');

  it.each(REJECTABLE)(
    'rejects a budget that is %s with the reason: unlocks it in Procore and tells its creator and sender',
    async (status) => {
      const kit = newUseCase(RejectSubmission);
      const submission = kit.given({ status });
      await expect(kit.sut.execute({ submissionId: '7', user: approver, reason: 'wrong job' })).resolves.toEqual({ from: status, to: 'rejected', auditEventId: 'audit-1' });
      expect(submission).toMatchObject({ status: 'rejected', decidedBy: approver, rejectionReason: 'wrong job' });
      expect(kit.audited()).toEqual([expect.objectContaining({ action: 'reject', from: status, to: 'rejected', note: 'wrong job', actor: { user: approver } })]);
      expect(kit.recorded()).toEqual([{ job: JobName.UnlockBudget, payload: { submissionId: '7' }, dedupeKey: 'unlock:7:audit-1' }]);
      expect(kit.mock(Notifier).rejected).toHaveBeenCalledWith('7', 'audit-1');
    },
  );

  it.each(statusesBut(...REJECTABLE))('refuses a budget that is %s (TransitionRefused), nobody told', async (status) => {
    const kit = newUseCase(RejectSubmission);
    kit.given({ status });
    await expect(kit.sut.execute({ submissionId: '7', user: approver, reason: 'no' })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.statusOf()).toBe(status);
    expect(kit.recorded()).toEqual([]);
    expect(kit.mock(Notifier).rejected).not.toHaveBeenCalled();
  });

  it('the sender may reject even with REQUIRE_INDEPENDENT_APPROVER on', async () => {
    const sender = user('12');
    const kit = newUseCase(RejectSubmission, { requireIndependentApprover: true });
    kit.given({ status: 'ready_to_export', sentBy: sender });
    await expect(kit.sut.execute({ submissionId: '7', user: sender, reason: 'mine, wrong' })).resolves.toMatchObject({ to: 'rejected' });
  });
});
