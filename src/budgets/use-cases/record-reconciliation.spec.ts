import { newUseCase } from '../../../test/support/use-cases';
import { JobName } from '../../queue/queue.contract';
import { Notifier } from '../notifier';
import { ReconciliationRepository } from '../reconciliation.repository';
import { SubmissionStatus } from '../submission-status';
import { ReconciliationFacts, RecordReconciliation, RecordReconciliationCommand } from './record-reconciliation';

const SYSTEM = { label: 'system' };

function compared(outcome: 'synced' | 'out_of_sync', varianceCount = outcome === 'synced' ? 0 : 2): ReconciliationFacts {
  return { kind: 'compared', outcome, procoreRevisedTotal: 1050n, spectrumEstimatedTotal: 1000n, varianceCount, explanation: `${varianceCount} variance(s)`, rows: [] };
}

function command(status: SubmissionStatus, facts: ReconciliationFacts, version = `v-${status}`): RecordReconciliationCommand {
  return { submissionId: '7', version, companyCode: 'C1', job: 'J-100', tolerance: 0n, facts };
}

describe('RecordReconciliation', () => {
  function judged(status: SubmissionStatus) {
    const kit = newUseCase(RecordReconciliation);
    kit.given({ status, revisedEstimate: 1050n });
    kit.mock(ReconciliationRepository).insert.mockResolvedValue('r-1');
    return kit;
  }

  it.each<SubmissionStatus>(['exported', 'out_of_sync'])('Spectrum matching moves a %s budget to synced, with the report', async (status) => {
    const kit = judged(status);
    await expect(kit.sut.execute(command(status, compared('synced')))).resolves.toEqual({ reportId: 'r-1', status: 'synced', outcome: 'synced', varianceCount: 0 });
    expect(kit.mock(ReconciliationRepository).insert).toHaveBeenCalledWith(expect.objectContaining({ submissionId: '7', outcome: 'synced', companyCode: 'C1', job: 'J-100', tolerance: 0n }));
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'reconciledSynced', from: status, to: 'synced', actor: SYSTEM, data: { reconciliationId: 'r-1', varianceCount: 0 } })]);
    expect(kit.recorded()).toEqual([]);
  });

  it('a variance moves an exported budget to out_of_sync, and approvers and the sender are emailed', async () => {
    const kit = judged('exported');
    await expect(kit.sut.execute(command('exported', compared('out_of_sync')))).resolves.toEqual({ reportId: 'r-1', status: 'out_of_sync', outcome: 'out_of_sync', varianceCount: 2 });
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'reconciledOutOfSync', from: 'exported', to: 'out_of_sync', note: '2 variance(s)' })]);
    expect(kit.mock(Notifier).outOfSync).toHaveBeenCalledWith('7', 'audit-1');
  });

  it('a variance found again on an out_of_sync budget is reported, never out_of_sync twice (no second email)', async () => {
    const kit = judged('out_of_sync');
    await expect(kit.sut.execute(command('out_of_sync', compared('out_of_sync')))).resolves.toEqual({ reportId: 'r-1', status: 'out_of_sync', outcome: 'out_of_sync', varianceCount: 2 });
    expect(kit.mock(ReconciliationRepository).insert).toHaveBeenCalled();
    expect(kit.audited()).toEqual([]);
    expect(kit.mock(Notifier).outOfSync).not.toHaveBeenCalled();
  });

  it('Spectrum unreadable moves an exported budget to out_of_sync with the reason, in a report without rows', async () => {
    const kit = judged('exported');
    const facts: ReconciliationFacts = { kind: 'unreadable', explanation: 'Spectrum could not be read: timeout' };
    await expect(kit.sut.execute(command('exported', facts))).resolves.toEqual({ reportId: 'r-1', status: 'out_of_sync', outcome: 'out_of_sync', varianceCount: 0 });
    expect(kit.mock(ReconciliationRepository).insert).toHaveBeenCalledWith(
      expect.objectContaining({ outcome: 'out_of_sync', procoreRevisedTotal: 1050n, spectrumEstimatedTotal: 0n, varianceCount: 0, rows: [], explanation: facts.explanation }),
    );
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'reconciledOutOfSync', to: 'out_of_sync', data: { reconciliationId: 'r-1', unreadable: true } })]);
    expect(kit.mock(Notifier).outOfSync).toHaveBeenCalledWith('7', 'audit-1');
  });

  describe('concludes nothing from a read the submission moved away from', () => {
    it.each<[string, SubmissionStatus, ReconciliationFacts, string]>([
      ['its status version changed while Spectrum was read', 'exported', compared('synced'), 'v-earlier'],
      ['it is no longer exported or out_of_sync', 'exporting', compared('synced'), 'v-exporting'],
      ['Spectrum was unreadable and it is already out_of_sync', 'out_of_sync', { kind: 'unreadable', explanation: 'Spectrum could not be read: x' }, 'v-out_of_sync'],
    ])('%s', async (_why, status, facts, version) => {
      const kit = judged(status);
      const answer = await kit.sut.execute(command(status, facts, version));
      expect(answer).toEqual({ skipped: expect.stringContaining(`now ${status}`) });
      expect(kit.mock(ReconciliationRepository).insert).not.toHaveBeenCalled();
      expect(kit.statusOf()).toBe(status);
      expect(kit.audited()).toEqual([]);
    });

    it('the submission was deleted', async () => {
      const kit = newUseCase(RecordReconciliation);
      await expect(kit.sut.execute(command('exported', compared('synced')))).resolves.toEqual({ skipped: 'the submission was deleted while Spectrum was read' });
    });
  });

  it('records no job of its own: a synced budget is unlocked only on request', async () => {
    const kit = judged('exported');
    await kit.sut.execute(command('exported', compared('synced')));
    expect(kit.recorded().map((work) => work.job)).not.toContain(JobName.UnlockBudget);
  });
});
