import { EMPTY_MAPPING } from '../mapping/mapping-file';
import { MappingStore } from '../mapping/mapping-store';
import { ProcoreNetworkError, ProcoreRateLimitError } from '../client/procore-errors';
import { ProjectScope } from '../project-scope';
import { BudgetIngestion } from './budget-ingestion.service';

/** The give-up rule of a send that keeps meeting transient Procore failures (the rest is in test/procore). */
describe('BudgetIngestion: transient failures', () => {
  function ingestionFailingWith(error: Error) {
    const facts = { id: '7', status: 'ingesting', procore_project_id: '1001', sent_by_id: null, age_ms: 3 * 60 * 60_000 };
    const em = { fork: () => ({ execute: async () => [facts] }) };
    const reader = { isLocked: async () => Promise.reject(error) };
    const none = {} as never;
    const projectLock = { run: (_projectId: number, work: (held: { assertHeld(): void }) => Promise<unknown>) => work({ assertHeld: () => undefined }) };
    return new BudgetIngestion(em as never, none, reader as never, none, none, none, none, none, MappingStore.fixed(EMPTY_MAPPING), none, projectLock as never, new ProjectScope({ procore: { projectIds: [] } } as never));
  }

  it('a spent rate limit with a known reset is waited out, however old the send', async () => {
    const limited = new ProcoreRateLimitError(new Date(Date.now() + 30 * 60_000), 'GET', '/rest/v1.0/projects/1001');
    const ingestion = ingestionFailingWith(limited);
    ingestion.giveUpAfterMs = 0;
    await expect(ingestion.ingest('7', { finalAttempt: true })).rejects.toBe(limited);
  });

  it('other transient failures are retried: before the final attempt, or while the send is younger than the bound', async () => {
    const down = new ProcoreNetworkError('GET', '/rest/v1.0/projects/1001', false, new Error('connect ECONNREFUSED'));
    const ingestion = ingestionFailingWith(down);
    ingestion.giveUpAfterMs = 0;
    await expect(ingestion.ingest('7', { finalAttempt: false })).rejects.toBe(down);
    ingestion.giveUpAfterMs = 4 * 60 * 60_000;
    await expect(ingestion.ingest('7', { finalAttempt: true })).rejects.toBe(down);
  });
});
