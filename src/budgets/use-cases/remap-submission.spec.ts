import { newUseCase, statusesBut, user } from '../../../test/support/use-cases';
import { BudgetSnapshot, StoredSnapshot } from '../budget-snapshot';
import { BudgetsExceptionCode } from '../budgets.exception';
import { SnapshotRepository } from '../snapshot.repository';
import { SubmissionRepository } from '../submission.repository';
import { SubmissionStatus } from '../submission-status';
import { RemapSubmission } from './remap-submission';

describe('RemapSubmission', () => {
  const approver = user('11');
  const stored = { procoreProjectId: '1001', lines: [] } as unknown as StoredSnapshot;
  const remapped = { job: 'J-200', rows: [{}, {}, {}], problemCount: 1 } as unknown as BudgetSnapshot;
  const written = [{ job: 'J-100', phase: '01', costType: 'L' }];

  function remappable(status: SubmissionStatus, remappableFlag = true) {
    const kit = newUseCase(RemapSubmission);
    kit.given({ status, remappable: remappableFlag, rowCount: 2, problemCount: 3 });
    const snapshots = kit.mock(SnapshotRepository);
    snapshots.stored.mockResolvedValue(stored);
    snapshots.writtenRows.mockResolvedValue(written as never);
    snapshots.replace.mockResolvedValue(1);
    const map = jest.fn().mockReturnValue({ budget: remapped, version: 'mapping-v2' });
    return { kit, snapshots, map };
  }

  it.each<SubmissionStatus>(['ready_to_export', 'failed_to_export'])('maps a %s budget again from its stored snapshot: rows replaced, status kept, on the record', async (status) => {
    const { kit, snapshots, map } = remappable(status);
    await expect(kit.sut.execute({ submissionId: '7', user: approver, map })).resolves.toEqual({
      id: '7',
      status,
      job: 'J-200',
      rowCount: 4,
      problemCount: 1,
      removedRows: 1,
      mappingVersion: 'mapping-v2',
    });
    expect(kit.mock(SubmissionRepository).statusVersion).toHaveBeenCalledWith('7', { forUpdate: true });
    expect(map).toHaveBeenCalledWith(stored);
    expect(snapshots.replace).toHaveBeenCalledWith('7', remapped, { alsoWritten: written });
    expect(kit.mock(SubmissionRepository).update).toHaveBeenCalledWith('7', { job: 'J-200', rowCount: 4, problemCount: 1 });
    expect(kit.mock(SubmissionRepository).changeStatus).not.toHaveBeenCalled();
    expect(kit.audited()).toEqual([
      {
        submissionId: '7',
        actor: { user: approver },
        action: 'remap',
        note: 'Mapped again with the mapping in force (mapping-v2): 3 Spectrum row(s) (were 2), 1 problem(s) (were 3); 1 row(s) written to Spectrum before and not in this mapping will be set to 0.00 by the next export',
        data: { mappingVersion: 'mapping-v2', rows: 3, problems: 1, removedRows: 1 },
      },
    ]);
    expect(kit.recorded()).toEqual([]);
  });

  it.each(statusesBut('ready_to_export', 'failed_to_export'))('refuses a budget that is %s (NotRemappable), touching no row', async (status) => {
    const { kit, snapshots, map } = remappable(status);
    await expect(kit.sut.execute({ submissionId: '7', user: approver, map })).rejects.toMatchObject({ code: BudgetsExceptionCode.NotRemappable, details: { status } });
    expect(map).not.toHaveBeenCalled();
    expect(snapshots.replace).not.toHaveBeenCalled();
    expect(kit.audited()).toEqual([]);
  });

  it('refuses a budget stored without every mapping input (NotRemappable: send it again)', async () => {
    const { kit, snapshots, map } = remappable('ready_to_export', false);
    await expect(kit.sut.execute({ submissionId: '7', user: approver, map })).rejects.toMatchObject({
      code: BudgetsExceptionCode.NotRemappable,
      message: expect.stringContaining('send it again from Procore'),
    });
    expect(snapshots.replace).not.toHaveBeenCalled();
  });

  it('answers SubmissionNotFound for an unknown id', async () => {
    const { kit, map } = remappable('ready_to_export');
    await expect(kit.sut.execute({ submissionId: '404', user: approver, map })).rejects.toMatchObject({ code: BudgetsExceptionCode.SubmissionNotFound });
  });
});
