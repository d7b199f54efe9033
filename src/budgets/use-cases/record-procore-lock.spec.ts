import { newUseCase } from '../../../test/support/use-cases';
import { SubmissionRepository } from '../submission.repository';
import { RecordProcoreLock } from './record-procore-lock';

describe('RecordProcoreLock', () => {
  it('the intent is noted on the submission before the lock, so a crash still knows to unlock', async () => {
    const kit = newUseCase(RecordProcoreLock);
    await kit.sut.execute({ submissionId: '7', procoreProjectId: 1001, step: 'intent' });
    expect(kit.mock(SubmissionRepository).markLockedByConnector).toHaveBeenCalledWith('7');
    expect(kit.audited()).toEqual([]);
  });

  it('the lock Procore confirmed goes on the record', async () => {
    const kit = newUseCase(RecordProcoreLock);
    await kit.sut.execute({ submissionId: '7', procoreProjectId: 1001, step: 'locked' });
    expect(kit.mock(SubmissionRepository).markLockedByConnector).not.toHaveBeenCalled();
    expect(kit.audited()).toEqual([{ submissionId: '7', actor: { label: 'system' }, action: 'procore.lock', note: 'Locked the budget in Procore (project 1001)' }]);
    expect(kit.mock(SubmissionRepository).changeStatus).not.toHaveBeenCalled();
  });
});
