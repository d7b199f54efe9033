import { newUseCase, statusesBut, user } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { ReconciliationGate } from '../reconciliation-gate';
import { SnapshotRepository } from '../snapshot.repository';
import { RetrySubmission } from './retry-submission';

describe('RetrySubmission', () => {
  const approver = user('11');

  it('exports a failed_to_export budget again: failed rows back to pending, a new export recorded', async () => {
    const kit = newUseCase(RetrySubmission);
    kit.given({ status: 'failed_to_export' });
    kit.mock(SnapshotRepository).resetFailed.mockResolvedValue(2);
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).resolves.toEqual({ from: 'failed_to_export', to: 'exporting', auditEventId: 'audit-1' });
    expect(kit.mock(SnapshotRepository).resetFailed).toHaveBeenCalledWith('7');
    expect(kit.mock(SnapshotRepository).resetToRewrite).not.toHaveBeenCalled();
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'retry', from: 'failed_to_export', to: 'exporting', actor: { user: approver } })]);
    // Keyed by the retry's own audit event: never folded into the previous export's job.
    expect(kit.recorded()).toEqual([{ job: JobName.ExportSubmission, payload: { submissionId: '7' }, dedupeKey: 'export:7:audit-1' }]);
  });

  it('from out_of_sync, also puts back the written rows the reconciliation found differing', async () => {
    const kit = newUseCase(RetrySubmission);
    kit.given({ status: 'out_of_sync' });
    kit.mock(SnapshotRepository).resetFailed.mockResolvedValue(0);
    kit.mock(SnapshotRepository).resetToRewrite.mockResolvedValue(3);
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).resolves.toMatchObject({ from: 'out_of_sync', to: 'exporting' });
    expect(kit.recorded()).toEqual([expect.objectContaining({ job: JobName.ExportSubmission })]);
  });

  it('from out_of_sync with nothing to write again, refuses (NothingToRewrite) with what can be done instead', async () => {
    const kit = newUseCase(RetrySubmission);
    kit.given({ status: 'out_of_sync' });
    kit.mock(SnapshotRepository).resetFailed.mockResolvedValue(0);
    kit.mock(SnapshotRepository).resetToRewrite.mockResolvedValue(0);
    kit.mock(ReconciliationGate).nothingToRewrite.mockResolvedValue('Retrying would write nothing: …');
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({
      code: BudgetsExceptionCode.NothingToRewrite,
      message: 'Retrying would write nothing: …',
      details: { status: 'out_of_sync' },
    });
    expect(kit.statusOf()).toBe('out_of_sync');
    expect(kit.recorded()).toEqual([]);
  });

  it.each(statusesBut('failed_to_export', 'out_of_sync'))('refuses a budget that is %s (TransitionRefused), resetting no row', async (status) => {
    const kit = newUseCase(RetrySubmission);
    kit.given({ status });
    await expect(kit.sut.execute({ submissionId: '7', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.mock(SnapshotRepository).resetFailed).not.toHaveBeenCalled();
    expect(kit.recorded()).toEqual([]);
  });

  it('answers SubmissionNotFound for an unknown id', async () => {
    const kit = newUseCase(RetrySubmission);
    await expect(kit.sut.execute({ submissionId: '404', user: approver })).rejects.toMatchObject({ code: BudgetsExceptionCode.SubmissionNotFound });
  });
});
