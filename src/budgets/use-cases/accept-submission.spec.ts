import { newUseCase, statusesBut, user } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { SnapshotRepository } from '../snapshot.repository';
import { SubmissionRepository } from '../submission.repository';
import { AcceptSubmission, INDEPENDENT_APPROVER_REFUSAL } from './accept-submission';

describe('AcceptSubmission', () => {
  const approver = user('11');
  const sender = user('12');

  it('moves a ready_to_export budget to exporting, decided by the approver, and records its export', async () => {
    const kit = newUseCase(AcceptSubmission);
    kit.given({ status: 'ready_to_export', sentBy: sender });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).resolves.toEqual({ from: 'ready_to_export', to: 'exporting', auditEventId: 'audit-1' });
    expect(kit.statusOf()).toBe('exporting');
    expect(kit.audited()).toEqual([expect.objectContaining({ submissionId: '7', action: 'accept', from: 'ready_to_export', to: 'exporting', actor: { user: approver } })]);
    expect(kit.recorded()).toEqual([{ job: JobName.ExportSubmission, payload: { submissionId: '7' }, dedupeKey: 'export:7:audit-1' }]);
  });

  it('sets who decided and when in the same guarded change', async () => {
    const kit = newUseCase(AcceptSubmission);
    const submission = kit.given({ status: 'ready_to_export' });
    await kit.sut.execute({ submissionId: '7', user: approver });
    expect(submission.decidedBy).toBe(approver);
    expect(submission.decidedAt).toBeInstanceOf(Date);
  });

  it.each(statusesBut('ready_to_export'))('refuses a budget that is %s (TransitionRefused), recording nothing', async (status) => {
    const kit = newUseCase(AcceptSubmission);
    kit.given({ status });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.statusOf()).toBe(status);
    expect(kit.audited()).toEqual([]);
    expect(kit.recorded()).toEqual([]);
  });

  it('answers SubmissionNotFound for an unknown id', async () => {
    const kit = newUseCase(AcceptSubmission);
    await expect(kit.sut.execute({ submissionId: '404', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.SubmissionNotFound });
  });

  describe('separation of duties (REQUIRE_INDEPENDENT_APPROVER)', () => {
    it('refuses the sender (SenderMayNotAccept) and changes nothing', async () => {
      const kit = newUseCase(AcceptSubmission, { requireIndependentApprover: true });
      kit.given({ status: 'ready_to_export', sentBy: sender });
      const refusal = kit.sut.execute({ submissionId: '7', user: sender });
      await expect(refusal).rejects.toMatchObject({ code: BudgetsExceptionCode.SenderMayNotAccept, message: INDEPENDENT_APPROVER_REFUSAL });
      expect(kit.statusOf()).toBe('ready_to_export');
      expect(kit.recorded()).toEqual([]);
    });

    it('lets anyone else accept, and the sender too when it is off', async () => {
      const on = newUseCase(AcceptSubmission, { requireIndependentApprover: true });
      on.given({ status: 'ready_to_export', sentBy: sender });
      await expect(on.sut.execute({ submissionId: '7', user: approver })).resolves.toMatchObject({ to: 'exporting' });
      const off = newUseCase(AcceptSubmission, { requireIndependentApprover: false });
      off.given({ status: 'ready_to_export', sentBy: sender });
      await expect(off.sut.execute({ submissionId: '7', user: sender })).resolves.toMatchObject({ to: 'exporting' });
    });

    it('a budget nobody sent (found by polling) may be accepted by anyone', async () => {
      const kit = newUseCase(AcceptSubmission, { requireIndependentApprover: true });
      kit.given({ status: 'ready_to_export', sentBy: null });
      await expect(kit.sut.execute({ submissionId: '7', user: sender })).resolves.toMatchObject({ to: 'exporting' });
    });

    it('a budget in another status is refused for its status, not for who sent it', async () => {
      const kit = newUseCase(AcceptSubmission, { requireIndependentApprover: true });
      kit.given({ status: 'rejected', sentBy: sender });
      await expect(kit.sut.execute({ submissionId: '7', user: sender })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused });
    });
  });

  it('refuses a budget with problems (HasProblems), listing the first five', async () => {
    const kit = newUseCase(AcceptSubmission);
    kit.given({ status: 'ready_to_export', problemCount: 6 });
    const problems = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    kit.mock(SnapshotRepository).problems.mockResolvedValue(problems);
    const refusal = kit.sut.execute({ submissionId: '7', user: approver });
    await expect(refusal).rejects.toMatchObject({ code: BudgetsExceptionCode.HasProblems, details: { problems } });
    await expect(refusal).rejects.toThrow('This budget has 6 problem(s) and cannot be accepted: p1; p2; p3; p4; p5; …');
    expect(kit.statusOf()).toBe('ready_to_export');
    expect(kit.recorded()).toEqual([]);
  });

  it('of two concurrent accepts, the one whose guarded change finds the status moved gets ChangedMeanwhile', async () => {
    const kit = newUseCase(AcceptSubmission);
    const submission = kit.given({ status: 'ready_to_export' });
    const submissions = kit.mock(SubmissionRepository);
    submissions.changeStatus.mockImplementationOnce(async () => {
      submission.status = 'exporting'; // the other request won
      return false;
    });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.ChangedMeanwhile, details: { status: 'exporting' } });
    expect(kit.audited()).toEqual([]);
    expect(kit.recorded()).toEqual([]);
  });
});
