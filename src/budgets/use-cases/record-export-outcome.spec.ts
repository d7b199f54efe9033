import { newUseCase, statusesBut } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { Notifier } from '../notifier';
import { SnapshotRepository } from '../snapshot.repository';
import { RecordExportOutcome } from './record-export-outcome';

describe('RecordExportOutcome', () => {
  function exporting(counts: { written: number; failed: number; pending: number }) {
    const kit = newUseCase(RecordExportOutcome);
    const submission = kit.given({ status: 'exporting' });
    const snapshots = kit.mock(SnapshotRepository);
    snapshots.rowCounts.mockResolvedValue(counts as never);
    return { kit, submission, snapshots };
  }

  it('every row written: exported, with its reconciliation recorded under this export', async () => {
    const { kit, submission } = exporting({ written: 5, failed: 0, pending: 0 });
    await expect(kit.sut.execute({ submissionId: '7', notes: ['transfer file BUDGET_7.csv'] })).resolves.toEqual({ status: 'exported', written: 5, failed: 0 });
    expect(submission).toMatchObject({ status: 'exported', exportedAt: expect.any(Date) });
    expect(kit.audited()).toEqual([
      expect.objectContaining({ action: 'exported', from: 'exporting', to: 'exported', actor: { label: 'system' }, note: '5 row(s) written to Spectrum; transfer file BUDGET_7.csv', data: { written: 5 } }),
    ]);
    expect(kit.recorded()).toEqual([{ job: JobName.ReconcileSubmission, payload: { submissionId: '7' }, dedupeKey: 'reconcile:7:audit-1' }]);
  });

  it('any row failed: failed_to_export, with examples of the errors, and approvers and the sender emailed', async () => {
    const { kit, snapshots } = exporting({ written: 1, failed: 4, pending: 0 });
    snapshots.failedRows.mockResolvedValue([
      { phase: '01', costType: 'L', exportError: { code: 'E1', message: 'Phase closed', column: 'Phase' } },
      { phase: '', costType: 'M', exportError: null },
    ] as never);
    await expect(kit.sut.execute({ submissionId: '7', notes: [] })).resolves.toEqual({ status: 'failed_to_export', written: 1, failed: 4 });
    expect(snapshots.failedRows).toHaveBeenCalledWith('7', 3);
    expect(kit.audited()[0]).toMatchObject({
      action: 'exportFailed',
      to: 'failed_to_export',
      note: '4 of 5 row(s) not written to Spectrum: 01/L: E1 Phase closed [Phase]; ?/M:  no detail; …',
      data: { written: 1, failed: 4 },
    });
    expect(kit.mock(Notifier).exportFailed).toHaveBeenCalledWith('7', 'audit-1');
    expect(kit.recorded()).toEqual([]);
  });

  it('rows still pending: nothing concluded, the status unchanged', async () => {
    const { kit } = exporting({ written: 2, failed: 0, pending: 3 });
    await expect(kit.sut.execute({ submissionId: '7', notes: [] })).resolves.toEqual({ pending: 3 });
    expect(kit.statusOf()).toBe('exporting');
    expect(kit.audited()).toEqual([]);
  });

  it("the queue's last attempt fails the pending rows first, so the run concludes", async () => {
    const { kit, snapshots } = exporting({ written: 2, failed: 3, pending: 0 });
    snapshots.failedRows.mockResolvedValue([]);
    const giveUp = { code: 'gave_up', message: 'Spectrum did not answer' };
    await kit.sut.execute({ submissionId: '7', notes: [], giveUp });
    expect(snapshots.failPending).toHaveBeenCalledWith('7', giveUp);
    expect(snapshots.failPending.mock.invocationCallOrder[0]).toBeLessThan(snapshots.rowCounts.mock.invocationCallOrder[0]);
    expect(kit.statusOf()).toBe('failed_to_export');
  });

  it.each(statusesBut('exporting'))('a run concluding on a submission that is %s is refused (TransitionRefused)', async (status) => {
    const kit = newUseCase(RecordExportOutcome);
    kit.given({ status });
    kit.mock(SnapshotRepository).rowCounts.mockResolvedValue({ written: 1, failed: 0, pending: 0 } as never);
    await expect(kit.sut.execute({ submissionId: '7', notes: [] })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.recorded()).toEqual([]);
  });
});
