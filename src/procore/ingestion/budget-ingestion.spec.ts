import { RUNTIME_OPTIONS, RuntimeOptions, runtimeOptions } from '../../config/runtime-options';
import { newTestService } from '../../../test/support/unit';
import { SubmissionRepository } from '../../budgets/submission.repository';
import { Submission } from '../../budgets/submission.entity';
import { EMPTY_MAPPING } from '../mapping/mapping-file';
import { MappingStore } from '../mapping/mapping-store';
import { ProcoreNetworkError, ProcoreRateLimitError } from '../client/procore-errors';
import { ProjectScope } from '../project-scope';
import { BudgetIngestion } from './budget-ingestion.service';
import { BudgetReader } from './budget-reader.service';
import { ProjectLock } from './project-lock';

/** The give-up rule of a send that keeps meeting transient Procore failures (the rest is in test/procore). */
describe('BudgetIngestion: transient failures', () => {
  function ingestionFailingWith(error: Error) {
    const runtime: RuntimeOptions = runtimeOptions();
    const { sut, mock } = newTestService(BudgetIngestion, [
      [MappingStore, MappingStore.fixed(EMPTY_MAPPING)],
      [RUNTIME_OPTIONS, runtime],
      [ProjectScope, new ProjectScope({ procore: { projectIds: [] } } as never)],
    ]);
    mock(SubmissionRepository).findById.mockResolvedValue({ id: '7', status: 'ingesting', procoreProjectId: '1001', sentBy: null } as unknown as Submission);
    mock(SubmissionRepository).ageMs.mockResolvedValue(3 * 60 * 60_000);
    mock(ProjectLock).run.mockImplementation((_projectId, work) => work({ assertHeld: () => undefined }));
    mock(SubmissionRepository).statusOf.mockResolvedValue('ingesting');
    mock(BudgetReader).isLocked.mockRejectedValue(error);
    return { ingestion: sut, runtime };
  }

  it('a spent rate limit with a known reset is waited out, however old the send', async () => {
    const limited = new ProcoreRateLimitError(new Date(Date.now() + 30 * 60_000), 'GET', '/rest/v1.0/projects/1001');
    const { ingestion, runtime } = ingestionFailingWith(limited);
    runtime.timings.ingestGiveUpAfterMs = 0;
    await expect(ingestion.ingest('7', { finalAttempt: true })).rejects.toBe(limited);
  });

  it('other transient failures are retried: before the final attempt, or while the send is younger than the bound', async () => {
    const down = new ProcoreNetworkError('GET', '/rest/v1.0/projects/1001', false, new Error('connect ECONNREFUSED'));
    const { ingestion, runtime } = ingestionFailingWith(down);
    runtime.timings.ingestGiveUpAfterMs = 0;
    await expect(ingestion.ingest('7', { finalAttempt: false })).rejects.toBe(down);
    runtime.timings.ingestGiveUpAfterMs = 4 * 60 * 60_000;
    await expect(ingestion.ingest('7', { finalAttempt: true })).rejects.toBe(down);
  });
});
