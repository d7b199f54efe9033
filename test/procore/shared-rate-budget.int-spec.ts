import Redis from 'ioredis';
import { ProcoreClient, ProcoreLogger } from '../../src/procore/client/procore-client';
import { RedisRateBudget } from '../../src/procore/client/shared-rate-budget';
import { ProcoreStandIn } from '../stand-ins/procore';
import { redisUrl, runId } from '../support/test-env';

/**
 * Procore's rate budget shared through Redis: separate clients (each with its own transport,
 * limiter and Redis connection, as separate worker processes have) spend one bucket together.
 */
describe('Procore rate budget shared through Redis', () => {
  const standIn = new ProcoreStandIn();
  const projectId = 1001;
  const projectPath = `/rest/v1.0/projects/${projectId}`;
  let test = 0;
  let prefix: string;
  const budgets: RedisRateBudget[] = [];
  const logs: string[] = [];
  const logger: ProcoreLogger = { log: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(() => {
    standIn.reset();
    standIn.addProject({ id: projectId, name: 'Shared budget', project_number: '26-902', budgetViewId: 2001 });
    prefix = `test-${runId()}:rate-${(test += 1)}`;
    logs.length = 0;
  });
  afterEach(async () => {
    await Promise.all(budgets.splice(0).map((budget) => budget.close()));
  });

  function client(shared: boolean, url = redisUrl()): ProcoreClient {
    const options = { ...standIn.clientOptions(), timeoutMs: 5000, baseDelayMs: 5, maxDelayMs: 40 };
    if (!shared) return new ProcoreClient(options, logger);
    const budget = new RedisRateBudget({ redisUrl: url, prefix, apiUrl: options.apiUrl, clientId: options.clientId, companyId: options.companyId, logger });
    budgets.push(budget);
    return new ProcoreClient({ ...options, sharedRateBudget: budget }, logger);
  }

  /** Each client makes `calls` calls, `concurrency` at a time, all clients at once. */
  async function spend(clients: ProcoreClient[], calls: number, concurrency = 4): Promise<void> {
    await Promise.all(
      clients.map(async (procore) => {
        let left = calls;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (left > 0) {
              left -= 1;
              expect((await procore.getProject(projectId)).id).toBe(projectId);
            }
          }),
        );
      }),
    );
  }

  it('three clients ingesting at once under a spike limit of 6 per second meet no 429', async () => {
    standIn.setRateLimits({ spike: { limit: 6, windowSeconds: 1 } });
    const clients = [client(true), client(true), client(true)];
    await spend(clients, 10);
    expect(standIn.rateLimitedResponses).toBe(0);
    expect(standIn.countRequests({ path: projectPath, status: 200 })).toBe(30);
    expect(clients.reduce((sum, procore) => sum + procore.stats.rateLimited, 0)).toBe(0);
    // They waited for resets the others' answers announced.
    expect(clients.reduce((sum, procore) => sum + procore.stats.rateLimitWaitMs, 0)).toBeGreaterThan(0);
    expect(logs.filter((line) => /Redis does not answer/.test(line))).toEqual([]);
  });

  it('without the shared budget the same load meets 429s (each client sees only its own answers)', async () => {
    standIn.setRateLimits({ spike: { limit: 6, windowSeconds: 1 } });
    await spend([client(false), client(false), client(false)], 10);
    expect(standIn.rateLimitedResponses).toBeGreaterThan(0);
  });

  it("one client's spent budget holds the others back until the reset", async () => {
    standIn.setRateLimits({ spike: { limit: 4, windowSeconds: 2 } });
    const [first, second] = [client(true), client(true)];
    // The first client spends the window; the second has never called Procore.
    for (let i = 0; i < 4; i += 1) await first.getProject(projectId);
    await second.getProject(projectId);
    expect(standIn.rateLimitedResponses).toBe(0);
    expect(second.stats.rateLimitWaitMs).toBeGreaterThan(0);
  });

  it('the shared state is one Redis hash per Procore app and company, with what the headers said', async () => {
    standIn.setRateLimits({ spike: { limit: 6, windowSeconds: 1 } });
    await client(true).getProject(projectId);
    const redis = new Redis(redisUrl());
    try {
      const keys = await redis.keys(`${prefix}:procore-rate-budget:*`);
      expect(keys).toHaveLength(1);
      expect(keys[0]).not.toContain(standIn.clientOptions().clientId);
      const state = await redis.hgetall(keys[0]);
      expect(Number(state.limit)).toBe(6);
      expect(Number(state.remaining)).toBeLessThanOrEqual(5);
      expect(Number(state.reset)).toBeGreaterThan(0);
      expect(await redis.pttl(keys[0])).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('with Redis unreachable, calls carry on paced by each client alone, and it is logged once', async () => {
    const procore = client(true, 'redis://:secret-password@127.0.0.1:1/0');
    for (let i = 0; i < 3; i += 1) expect((await procore.getProject(projectId)).id).toBe(projectId);
    const warnings = logs.filter((line) => /Procore rate budget: Redis does not answer/.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('secret-password');
  });
});
