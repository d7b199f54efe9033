import { newUseCase } from '../../../test/support/use-cases';
import { AuditEventRepository } from '../../audit/audit-event.repository';
import { LockRepository } from '../../database/lock.repository';
import { JobName } from '../../queue/queue.contract';
import { BudgetsExceptionCode } from '../budgets.exception';
import { Submission } from '../submission.entity';
import { OpenSubmissionExistsError, SubmissionRepository } from '../submission.repository';
import { SubmissionStatus } from '../submission-status';
import { FailIngestion } from './fail-ingestion';
import { OpenSubmission, OpenSubmissionCommand } from './open-submission';
import { RecordSnapshot } from './record-snapshot';

const API = { user: { id: '12' } };
const SENT_AT = new Date('2026-11-20T10:00:00Z');
const alice = { id: '12', name: 'Alice', email: 'alice@example.com' };
const bob = { id: '13', name: 'Bob', email: 'bob@example.com' };

function send(overrides: Partial<OpenSubmissionCommand> = {}): OpenSubmissionCommand {
  return { procoreProjectId: '1001', source: 'api', senderId: '12', actor: API, note: 'Sent through the API', then: { ingest: true }, ...overrides };
}

describe('OpenSubmission', () => {
  function project(open?: { id: string; status: SubmissionStatus; fingerprint?: string; sentBy?: typeof alice | null }) {
    const kit = newUseCase(OpenSubmission);
    const submissions = kit.mock(SubmissionRepository);
    if (open) {
      kit.given({ id: open.id, status: open.status });
      submissions.openOf.mockResolvedValue({ id: open.id, status: open.status, fingerprint: open.fingerprint ?? 'fp-old', sentAt: SENT_AT, sentBy: open.sentBy ?? null });
    }
    submissions.create.mockResolvedValue({ id: '8' } as Submission);
    return { kit, submissions };
  }

  it('an explicit send serializes on the project, opens an ingesting submission and records its ingestion', async () => {
    const { kit, submissions } = project();
    await expect(kit.sut.execute(send())).resolves.toEqual({ id: '8', supersededId: null, unchanged: false, superseded: undefined });
    expect(kit.mock(LockRepository).projectIntake).toHaveBeenCalledWith('1001');
    expect(kit.mock(LockRepository).projectIntake.mock.invocationCallOrder[0]).toBeLessThan(submissions.openOf.mock.invocationCallOrder[0]);
    expect(submissions.create).toHaveBeenCalledWith({ procoreProjectId: '1001', source: 'api', senderId: '12' });
    expect(kit.audited()).toEqual([{ submissionId: '8', actor: API, action: 'send', from: null, to: 'ingesting', note: 'Sent through the API' }]);
    expect(kit.recorded()).toEqual([{ job: JobName.IngestSubmission, payload: { submissionId: '8' }, dedupeKey: 'ingest:8' }]);
  });

  it('a webhook that read the budget stores it at once; an unreadable one ends the submission ingest_failed', async () => {
    const snapshot = { budget: {} as never, viewId: 3, creatorId: null, actor: { label: 'procore' } };
    const read = project();
    await read.kit.sut.execute(send({ source: 'webhook', then: { snapshot } }));
    expect(read.kit.mock(RecordSnapshot).execute).toHaveBeenCalledWith({ ...snapshot, submissionId: '8' });
    expect(read.kit.recorded()).toEqual([]);
    const unreadable = project();
    await unreadable.kit.sut.execute(send({ source: 'webhook', then: { fail: 'no budget view' } }));
    expect(unreadable.kit.mock(FailIngestion).execute).toHaveBeenCalledWith({ submissionId: '8', reason: 'no budget view', actor: API });
  });

  it('supersedes a ready_to_export submission of the same sender, without a notice', async () => {
    const { kit } = project({ id: '5', status: 'ready_to_export', sentBy: alice });
    await expect(kit.sut.execute(send())).resolves.toMatchObject({ id: '8', supersededId: '5', unchanged: false, superseded: { byAnotherPerson: false } });
    expect(kit.statusOf('5')).toBe('superseded');
    expect(kit.audited().map((entry) => [entry.submissionId, entry.action, entry.from, entry.to])).toEqual([
      ['5', 'supersede', 'ready_to_export', 'superseded'],
      ['8', 'send', null, 'ingesting'],
    ]);
    expect(kit.audited()[0]).toMatchObject({ note: 'A newer version of the budget was sent (Sent through the API)', data: null });
  });

  it("superseding someone else's submission is said in the answer and in both audit events", async () => {
    const { kit } = project({ id: '5', status: 'ready_to_export', sentBy: bob });
    const opened = await kit.sut.execute(send());
    const notice = `This replaces budget submission 5, which Bob <bob@example.com> sent at ${SENT_AT.toISOString()} and which was awaiting acceptance`;
    expect(opened.superseded).toEqual({ sentBy: bob, byAnotherPerson: true, notice });
    expect(kit.audited()[0]).toMatchObject({ action: 'supersede', note: `A newer version of the budget was sent (Sent through the API). ${notice}`, data: { supersededSentBy: bob, newSenderId: '12' } });
    expect(kit.audited()[1]).toMatchObject({ action: 'send', note: `Sent through the API. ${notice}` });
  });

  it('one nobody sent (found by polling) is never replaced silently', async () => {
    const { kit } = project({ id: '5', status: 'ready_to_export', sentBy: null });
    const opened = await kit.sut.execute(send());
    expect(opened.superseded).toMatchObject({ byAnotherPerson: true, notice: expect.stringContaining('which the connector found in Procore at') });
  });

  it.each<SubmissionStatus>(['ingesting', 'exporting', 'exported', 'failed_to_export', 'out_of_sync'])('refuses while the open submission is %s (ProjectBusy), creating nothing', async (status) => {
    const { kit, submissions } = project({ id: '5', status });
    await expect(kit.sut.execute(send())).rejects.toMatchObject({ code: BudgetsExceptionCode.ProjectBusy, details: { submissionId: '5', status } });
    expect(submissions.create).not.toHaveBeenCalled();
    expect(kit.statusOf('5')).toBe(status);
    expect(kit.recorded()).toEqual([]);
  });

  it('a send that lost the race for the one open submission gets ProjectBusy; other errors pass through', async () => {
    const raced = project();
    raced.submissions.create.mockRejectedValue(new OpenSubmissionExistsError());
    await expect(raced.kit.sut.execute(send())).rejects.toMatchObject({ code: BudgetsExceptionCode.ProjectBusy, details: { procoreProjectId: '1001' } });
    const broken = project();
    const down = new Error('connection lost');
    broken.submissions.create.mockRejectedValue(down);
    await expect(broken.kit.sut.execute(send())).rejects.toBe(down);
    expect(broken.kit.recorded()).toEqual([]);
  });

  it('a webhook or poll finding the budget the last submission holds creates nothing (BudgetUnchanged)', async () => {
    const { kit, submissions } = project();
    submissions.lastSent.mockResolvedValue({ id: '5', status: 'synced', fingerprint: 'fp-1' });
    await expect(kit.sut.execute(send({ unlessFingerprint: 'fp-1' }))).rejects.toMatchObject({ code: BudgetsExceptionCode.BudgetUnchanged, details: { submissionId: '5', status: 'synced' } });
    expect(submissions.create).not.toHaveBeenCalled();
    submissions.lastSent.mockResolvedValue({ id: '5', status: 'synced', fingerprint: 'fp-0' });
    await expect(kit.sut.execute(send({ unlessFingerprint: 'fp-1' }))).resolves.toMatchObject({ id: '8' });
  });

  it('an explicit send of the very budget the open submission holds leaves it standing, on the record', async () => {
    const { kit, submissions } = project({ id: '5', status: 'ready_to_export', fingerprint: 'fp-1', sentBy: alice });
    await expect(kit.sut.execute(send({ unlessOpenHolds: 'fp-1' }))).resolves.toEqual({ id: '5', supersededId: null, unchanged: true });
    expect(submissions.create).not.toHaveBeenCalled();
    expect(kit.statusOf('5')).toBe('ready_to_export');
    expect(kit.mock(AuditEventRepository).record).toHaveBeenCalledWith(expect.objectContaining({ submissionId: '5', action: 'send_unchanged' }));
    expect(kit.recorded()).toEqual([]);
  });
});
