import { newUseCase, statusesBut } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { FailIngestion } from './fail-ingestion';

describe('FailIngestion', () => {
  const PROCORE = { label: 'procore' };

  it('ends an ingesting submission ingest_failed with the reason on it and on the record', async () => {
    const kit = newUseCase(FailIngestion);
    const submission = kit.given({ status: 'ingesting', lockedByConnector: false });
    await expect(kit.sut.execute({ submissionId: '7', reason: 'Budget view not found', actor: PROCORE })).resolves.toEqual({
      from: 'ingesting',
      to: 'ingest_failed',
      auditEventId: 'audit-1',
    });
    expect(submission).toMatchObject({ status: 'ingest_failed', ingestError: 'Budget view not found' });
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'ingestFailed', from: 'ingesting', to: 'ingest_failed', note: 'Budget view not found', actor: PROCORE })]);
    // The sender locked it in Procore, not the connector: it is not the connector's to unlock.
    expect(kit.recorded()).toEqual([]);
  });

  it('unlocks a budget the connector locked itself', async () => {
    const kit = newUseCase(FailIngestion);
    kit.given({ status: 'ingesting', lockedByConnector: true });
    await kit.sut.execute({ submissionId: '7', reason: 'unreadable', actor: PROCORE });
    expect(kit.recorded()).toEqual([{ job: JobName.UnlockBudget, payload: { submissionId: '7' }, dedupeKey: 'unlock:7' }]);
  });

  it.each(statusesBut('ingesting'))('refuses a submission that is %s (TransitionRefused)', async (status) => {
    const kit = newUseCase(FailIngestion);
    kit.given({ status, lockedByConnector: true });
    await expect(kit.sut.execute({ submissionId: '7', reason: 'r', actor: PROCORE })).rejects.toMatchObject({ code: BudgetsExceptionCode.TransitionRefused, details: { status } });
    expect(kit.recorded()).toEqual([]);
  });
});
