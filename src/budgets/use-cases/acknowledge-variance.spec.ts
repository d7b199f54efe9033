import { newUseCase, statusesBut, user } from '../../../test/support/use-cases';
import { BudgetsExceptionCode } from '../budgets.exception';
import { Notifier } from '../notifier';
import { AcknowledgeVariance } from './acknowledge-variance';

/** Who may acknowledge (admins) is the route's rule (ACTION_PERMISSIONS), not the use case's. */
describe('AcknowledgeVariance', () => {
  const admin = user('1', { admin: true });

  it('an out_of_sync budget becomes synced with the reason on the record, and causes no work', async () => {
    const kit = newUseCase(AcknowledgeVariance);
    kit.given({ status: 'out_of_sync' });
    await expect(kit.sut.execute({ submissionId: '7', user: admin, reason: 'rounding in Spectrum' })).resolves.toEqual({ from: 'out_of_sync', to: 'synced', auditEventId: 'audit-1' });
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'acknowledge', from: 'out_of_sync', to: 'synced', note: 'rounding in Spectrum', actor: { user: admin } })]);
    expect(kit.recorded()).toEqual([]);
    expect(Object.values(kit.mock(Notifier)).every((fn) => (fn as jest.Mock).mock.calls.length === 0)).toBe(true);
  });

  it.each(statusesBut('out_of_sync'))('refuses a budget that is %s (TransitionRefused)', async (status) => {
    const kit = newUseCase(AcknowledgeVariance);
    kit.given({ status });
    await expect(kit.sut.execute({ submissionId: '7', user: admin, reason: 'r' })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.statusOf()).toBe(status);
    expect(kit.audited()).toEqual([]);
  });

  it('answers SubmissionNotFound for an unknown id', async () => {
    const kit = newUseCase(AcknowledgeVariance);
    await expect(kit.sut.execute({ submissionId: '404', user: admin, reason: 'r' })).rejects.toMatchObject({ code: BudgetsExceptionCode.SubmissionNotFound });
  });
});
