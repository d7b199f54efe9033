import { AuditEventRepository } from '../../audit/audit-event.repository';
import { newTestService } from '../../../test/support/unit';
import { ProcoreUnlockOutcome, RecordProcoreUnlock } from './record-procore-unlock';

describe('RecordProcoreUnlock', () => {
  it.each<[ProcoreUnlockOutcome, string]>([
    ['unlocked', 'procore.unlock'],
    ['already_unlocked', 'procore.unlock'],
    ['kept_locked', 'procore.unlock_skipped'],
    ['failed', 'procore.unlock_failed'],
  ])('records the outcome %s as %s, with what happened', async (outcome, action) => {
    const { sut, mock } = newTestService(RecordProcoreUnlock);
    await sut.execute({ submissionId: '7', outcome, note: 'what happened' });
    expect(mock(AuditEventRepository).record).toHaveBeenCalledTimes(1);
    expect(mock(AuditEventRepository).record).toHaveBeenCalledWith({ submissionId: '7', actor: { label: 'system' }, action, note: 'what happened' });
  });
});
