import { newUseCase, statusesBut } from '../../../test/support/use-cases';
import { BudgetSnapshot, SnapshotLine } from '../budget-snapshot';
import { BudgetsExceptionCode } from '../budgets.exception';
import { Notifier } from '../notifier';
import { SnapshotRepository } from '../snapshot.repository';
import { Submission } from '../submission.entity';
import { SubmissionRepository } from '../submission.repository';
import { NewSpectrumRow } from '../submission-row.entity';
import { RecordSnapshot } from './record-snapshot';

const PROCORE = { label: 'procore' };

function budget(overrides: Partial<BudgetSnapshot> = {}): BudgetSnapshot {
  return {
    projectName: 'Main Street',
    projectOriginId: 'ORIGIN-1',
    projectNumber: 'P-1',
    job: 'J-100',
    lines: [{ categoryCode: 'L' }, { categoryCode: 'M' }, { categoryCode: 'L' }] as SnapshotLine[],
    rows: [{ position: 0 }, { position: 1 }] as NewSpectrumRow[],
    totals: { originalBudget: 1000n, budgetChanges: 50n, revisedEstimate: 1050n },
    problemCount: 0,
    fingerprint: 'fp-1',
    ...overrides,
  };
}

describe('RecordSnapshot', () => {
  function ingesting() {
    const kit = newUseCase(RecordSnapshot);
    const submission = kit.given({ status: 'ingesting', ingestError: 'earlier try timed out' });
    kit.mock(SnapshotRepository).replace.mockResolvedValue(0);
    return { kit, submission };
  }

  it('stores the budget and moves the submission to ready_to_export with its totals, counts and fingerprint', async () => {
    const { kit, submission } = ingesting();
    const read = budget();
    await expect(kit.sut.execute({ submissionId: '7', budget: read, viewId: 3, creatorId: '12', actor: PROCORE })).resolves.toEqual({
      from: 'ingesting',
      to: 'ready_to_export',
      auditEventId: 'audit-1',
    });
    expect(kit.mock(SnapshotRepository).replace).toHaveBeenCalledWith('7', read);
    expect(submission).toMatchObject({
      status: 'ready_to_export',
      projectName: 'Main Street',
      job: 'J-100',
      budgetViewId: '3',
      originalBudget: 1000n,
      budgetChanges: 50n,
      revisedEstimate: 1050n,
      lineCount: 3,
      rowCount: 2,
      problemCount: 0,
      fingerprint: 'fp-1',
      createdBy: '12',
      ingestError: null,
      remappable: true,
    });
    expect(kit.audited()).toEqual([expect.objectContaining({ action: 'ingested', from: 'ingesting', to: 'ready_to_export', actor: PROCORE, note: '3 line(s) in 2 Spectrum row(s)' })]);
    expect(kit.recorded()).toEqual([]);
  });

  it('counts the removed rows an earlier export wrote, and says so, with the problems to fix', async () => {
    const { kit, submission } = ingesting();
    kit.mock(SnapshotRepository).replace.mockResolvedValue(4);
    await kit.sut.execute({ submissionId: '7', budget: budget({ problemCount: 2 }), viewId: 3, creatorId: null, actor: PROCORE });
    expect(submission.rowCount).toBe(6);
    expect(kit.audited()[0].note).toBe(
      '3 line(s) in 2 Spectrum row(s); 4 row(s) an earlier export wrote are not in this version and will be set to 0.00; 2 problem(s) to fix in Procore before it can be accepted',
    );
  });

  it.each([
    ['without the project origin id', { projectOriginId: undefined }],
    ['with a line lacking its category code', { lines: [{ categoryCode: 'L' }, {}] as SnapshotLine[] }],
  ])('a budget stored %s cannot be remapped', async (_what, overrides) => {
    const { kit, submission } = ingesting();
    await kit.sut.execute({ submissionId: '7', budget: budget(overrides), viewId: 3, creatorId: null, actor: PROCORE });
    expect(submission.remappable).toBe(false);
  });

  it('tells approvers when the project was sent again after a rejected or retrieved one', async () => {
    const { kit } = ingesting();
    kit.mock(SubmissionRepository).previousEnded.mockResolvedValue({ id: '6', status: 'rejected' } as Submission);
    await kit.sut.execute({ submissionId: '7', budget: budget(), viewId: 3, creatorId: null, actor: PROCORE });
    expect(kit.mock(SubmissionRepository).previousEnded).toHaveBeenCalledWith('7');
    expect(kit.mock(Notifier).resent).toHaveBeenCalledWith('7', 'audit-1');
  });

  it('tells nobody on a first send', async () => {
    const { kit } = ingesting();
    await kit.sut.execute({ submissionId: '7', budget: budget(), viewId: 3, creatorId: null, actor: PROCORE });
    expect(kit.mock(Notifier).resent).not.toHaveBeenCalled();
  });

  it.each(statusesBut('ingesting'))('refuses a submission that is %s (TransitionRefused): a late ingestion changes nothing', async (status) => {
    const kit = newUseCase(RecordSnapshot);
    kit.given({ status });
    await expect(kit.sut.execute({ submissionId: '7', budget: budget(), viewId: 3, creatorId: null, actor: PROCORE })).rejects.toMatchObject({
      code: BudgetsExceptionCode.TransitionRefused,
      details: { status },
    });
    expect(kit.statusOf()).toBe(status);
    expect(kit.audited()).toEqual([]);
    expect(kit.mock(Notifier).resent).not.toHaveBeenCalled();
  });
});
