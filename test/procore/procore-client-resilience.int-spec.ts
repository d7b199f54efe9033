import { ProcoreClient, ProcoreClientOptions, ProcoreLogger } from '../../src/procore/client/procore-client';
import {
  ProcoreApiError,
  ProcoreAuthError,
  ProcoreDataError,
  ProcoreNetworkError,
  ProcoreRateLimitError,
} from '../../src/procore/client/procore-errors';
import { ProcoreStandIn, generateBudgetLines } from '../stand-ins/procore';

describe('ProcoreClient resilience (real HTTP against the Procore stand-in)', () => {
  const standIn = new ProcoreStandIn();
  const projectId = 1001;
  const viewId = 2001;
  const projectPath = `/rest/v1.0/projects/${projectId}`;

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(() => {
    logs.length = 0;
    standIn.reset();
    standIn.addProject({ id: projectId, name: 'Resilience', project_number: '26-901', budgetViewId: viewId });
  });

  const logs: string[] = [];
  const logger: ProcoreLogger = {
    log: (m) => logs.push(m),
    warn: (m) => logs.push(m),
    error: (m) => logs.push(m),
    debug: (m) => logs.push(m),
  };
  const client = (options: Partial<ProcoreClientOptions> = {}) =>
    new ProcoreClient(
      { ...standIn.clientOptions(), perPage: 100, timeoutMs: 2000, baseDelayMs: 5, maxDelayMs: 40, ...options },
      logger,
    );

  /**
   * The waits the client decided before its retries, in order, as it logs them ("…; retry 1 of 5 in
   * 1003 ms"). Tests assert on these rather than on the time between two requests: a timer may fire
   * a few milliseconds before the wall clock says it should (libuv measures from the start of the
   * event-loop turn), which a loaded machine stretches.
   */
  const retryWaits = () => logs.flatMap((line) => /; retry \d+ of \d+ in (\d+) ms$/.exec(line)?.slice(1).map(Number) ?? []);

  /** Reads every page, running `between(pageNumber)` after each one. */
  async function readPages(procore: ProcoreClient, between: (page: number) => void): Promise<number[]> {
    const ids: number[] = [];
    for await (const page of procore.detailRowPages(viewId, projectId)) {
      ids.push(...page.items.map((row) => row.id));
      between(page.page);
    }
    return ids;
  }

  describe('rate limits', () => {
    it('after a 429 mid-paging, waits for X-Rate-Limit-Reset and carries on', async () => {
      const seeded = standIn.setBudgetLines(projectId, generateBudgetLines(600, 1));
      standIn.setRateLimits({ spike: { limit: 50, windowSeconds: 1 } });
      const procore = client();

      // After page 2 another application spends the whole spike bucket: page 3 meets a 429.
      const ids = await readPages(procore, (page) => page === 2 && standIn.consumeRateLimit());

      expect(ids).toEqual(seeded.map((line) => line.id));
      expect(standIn.rateLimitedResponses).toBe(1);
      expect(procore.stats.rateLimited).toBe(1);
      expect(standIn.detailRowPageRequests()).toBe(6);
      const refused = standIn.requests.find((entry) => entry.status === 429);
      const retried = standIn.requests.find((entry) => entry.status === 200 && entry.query.page === '3');
      expect(refused?.query.page).toBe('3');
      // The retry went out only once the window had reset (Reset is on a whole second).
      expect(Math.floor((retried?.at ?? 0) / 1000)).toBeGreaterThan(Math.floor((refused?.at ?? 0) / 1000));
    });

    it('an injected 429 with a reset two seconds ahead is waited out', async () => {
      standIn.setBudgetLines(projectId, generateBudgetLines(300, 1));
      standIn.failNext(1, 429, { path: 'detail_rows', skip: 1, resetInSeconds: 2 });
      const rows = await client().listDetailRows(viewId, projectId);
      expect(rows).toHaveLength(300);
      expect(standIn.rateLimitedResponses).toBe(1);
      const [wait, ...more] = retryWaits();
      expect(more).toEqual([]);
      expect(wait).toBeGreaterThanOrEqual(1000);
    });

    it.each(['one after another', 'all at once'])(
      'with a spike limit of 5 per second, 12 calls (%s) meet no 429: the client paces itself on the headers',
      async (mode) => {
        standIn.setRateLimits({ spike: { limit: 5, windowSeconds: 1 } });
        const procore = client();
        if (mode === 'one after another') {
          for (let i = 0; i < 12; i += 1) await procore.getProject(projectId);
        } else {
          await Promise.all(Array.from({ length: 12 }, () => procore.getProject(projectId)));
        }
        expect(standIn.rateLimitedResponses).toBe(0);
        expect(procore.stats.rateLimited).toBe(0);
        expect(standIn.countRequests({ path: projectPath, status: 200 })).toBe(12);
        expect(procore.stats.rateLimitWaitMs).toBeGreaterThan(0);
      },
    );

    it('a 429 with Retry-After waits that, not for a far X-Rate-Limit-Reset', async () => {
      standIn.failNext(1, 429, { path: projectPath, resetInSeconds: 600, retryAfterSeconds: 1 });
      // Waiting for the reset (600 s) would exceed maxWaitMs and fail the call.
      const procore = client({ maxWaitMs: 5000 });
      expect((await procore.getProject(projectId)).id).toBe(projectId);
      const [refused, retried] = standIn.requests.filter((entry) => entry.path === projectPath);
      expect([refused.status, retried.status]).toEqual([429, 200]);
      const [wait] = retryWaits();
      expect(wait).toBeGreaterThanOrEqual(1000);
      expect(wait).toBeLessThan(5000);
    });

    it('a server clock an hour ahead: the 429 wait is X-Rate-Limit-Reset measured from Date, not from our clock', async () => {
      standIn.setClockSkew(3_600_000);
      standIn.failNext(1, 429, { path: projectPath, resetInSeconds: 2 });
      // Measured from our clock the reset is an hour away: beyond maxWaitMs, the call would fail.
      const procore = client({ maxWaitMs: 10_000 });
      expect((await procore.getProject(projectId)).id).toBe(projectId);
      expect(standIn.rateLimitedResponses).toBe(1);
    });

    it('a server clock an hour behind: the client still waits for the reset instead of retrying at once', async () => {
      standIn.setClockSkew(-3_600_000);
      standIn.failNext(1, 429, { path: projectPath, resetInSeconds: 2 });
      const procore = client();
      expect((await procore.getProject(projectId)).id).toBe(projectId);
      const [refused, retried] = standIn.requests.filter((entry) => entry.path === projectPath);
      expect([refused.status, retried.status]).toEqual([429, 200]);
      // Reset is 2–3 s after the refusal's Date; measured from our clock it lies an hour in the past.
      expect(retryWaits()).toEqual([expect.any(Number)]);
      expect(retryWaits()[0]).toBeGreaterThanOrEqual(1500);
    });

    it.each([3_600_000, -3_600_000])('with the server clock off by %i ms, a spike limit of 5 per second still meets no 429 and no give-up', async (skew) => {
      standIn.setClockSkew(skew);
      standIn.setRateLimits({ spike: { limit: 5, windowSeconds: 1 } });
      const procore = client({ maxWaitMs: 10_000 });
      for (let i = 0; i < 12; i += 1) await procore.getProject(projectId);
      expect(standIn.rateLimitedResponses).toBe(0);
      expect(procore.stats.rateLimitWaitMs).toBeGreaterThan(0);
    });

    it('fails fast with ProcoreRateLimitError when the reset is further away than maxWaitMs', async () => {
      standIn.setRateLimits({ spike: { limit: 2, windowSeconds: 60 } });
      const procore = client({ maxWaitMs: 500 });
      await procore.getProject(projectId);
      await procore.getProject(projectId);
      const error = await procore.getProject(projectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreRateLimitError);
      expect((error as ProcoreRateLimitError).transient).toBe(true);
      expect((error as ProcoreRateLimitError).retryAt.getTime()).toBeGreaterThan(Date.now() + 30_000);
      // Nothing was sent for the refused call.
      expect(standIn.countRequests({ path: projectPath })).toBe(2);
      expect(standIn.rateLimitedResponses).toBe(0);
    });
  });

  describe('access token', () => {
    it('20 concurrent calls without a token make exactly one token request', async () => {
      const procore = client();
      const projects = await Promise.all(Array.from({ length: 20 }, () => procore.getProject(projectId)));
      expect(projects.every((project) => project.id === projectId)).toBe(true);
      expect(standIn.tokenRequests).toBe(1);
      expect(procore.stats.byKind.token).toBe(1);
    });

    it('a token expiring mid-paging costs one re-authentication and no failure', async () => {
      const seeded = standIn.setBudgetLines(projectId, generateBudgetLines(500, 9));
      const procore = client();

      const ids = await readPages(procore, (page) => page === 2 && standIn.expireAllTokens());

      expect(ids).toEqual(seeded.map((line) => line.id));
      expect(standIn.tokenRequests).toBe(2);
      expect(standIn.countRequests({ status: 401 })).toBe(1);
      expect(procore.stats.reauthentications).toBe(1);
      expect(standIn.detailRowPageRequests()).toBe(5);
    });

    it('many calls meeting a 401 at once still fetch one new token', async () => {
      const procore = client();
      await procore.getProject(projectId);
      standIn.expireAllTokens();
      await Promise.all(Array.from({ length: 10 }, () => procore.getProject(projectId)));
      expect(standIn.tokenRequests).toBe(2);
    });

    it('refreshes a short-lived token before it expires during a long read: no 401 is ever answered', async () => {
      // A 3 s token (refreshed 300 ms before expiry) and a read of 40 pages of 100 ms each.
      const shortLived = new ProcoreStandIn({ tokenTtlSeconds: 3, latencyMs: 100 });
      await shortLived.start();
      try {
        shortLived.addProject({ id: projectId, name: 'Short tokens', budgetViewId: viewId });
        shortLived.setBudgetLines(projectId, generateBudgetLines(2000, 2));
        const procore = new ProcoreClient({ ...shortLived.clientOptions(), perPage: 50, baseDelayMs: 5 });
        const rows = await procore.listDetailRows(viewId, projectId);
        expect(rows).toHaveLength(2000);
        expect(shortLived.tokenRequests).toBeGreaterThanOrEqual(2);
        // Refreshed ahead of time, not after Procore refused an expired token.
        expect(shortLived.countRequests({ status: 401 })).toBe(0);
        expect(procore.stats.reauthentications).toBe(0);
      } finally {
        await shortLived.stop();
      }
    });

    it('a 401 right after a fresh token is an error, not a loop', async () => {
      standIn.respondNext(2, { status: 401, body: { errors: 'Unauthorized' } }, { path: projectPath });
      const error = await client().getProject(projectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreApiError);
      expect((error as ProcoreApiError).status).toBe(401);
      expect(standIn.countRequests({ path: projectPath })).toBe(2);
      expect(standIn.tokenRequests).toBe(2);
    });

    it('refused credentials give ProcoreAuthError at once, without the secret', async () => {
      const procore = client({ clientSecret: 'not-the-secret-s3cr3t' });
      const error = await procore.getProject(projectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreAuthError);
      expect((error as ProcoreAuthError).transient).toBe(false);
      expect(String((error as Error).message)).toContain('invalid_client');
      expect(String((error as Error).message)).not.toContain('s3cr3t');
      expect(standIn.tokenRequests).toBe(1);
      expect(standIn.countRequests({ path: '/rest/' })).toBe(0);
    });
  });

  describe('server faults and network errors', () => {
    it('a burst of 5xx answers is retried until the call succeeds', async () => {
      standIn.failNext(1, 500, { path: projectPath });
      standIn.failNext(1, 502, { path: projectPath });
      standIn.failNext(1, 504, { path: projectPath });
      const procore = client();
      const project = await procore.getProject(projectId);
      expect(project.name).toBe('Resilience');
      expect(standIn.countRequests({ path: projectPath })).toBe(4);
      expect(procore.stats.retries).toBe(3);
    });

    it('gives up after maxAttempts with a transient ProcoreApiError', async () => {
      standIn.failNext(10, 500, { path: projectPath });
      const error = await client({ maxAttempts: 3 })
        .getProject(projectId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreApiError);
      expect(error).toMatchObject({ status: 500, method: 'GET', path: projectPath, transient: true });
      expect(standIn.countRequests({ path: projectPath })).toBe(3);
    });

    it('honours Retry-After on a 503, in seconds or as an HTTP date', async () => {
      const procore = client();
      standIn.failNext(1, 503, { path: projectPath, retryAfterSeconds: 1 });
      await procore.getProject(projectId);
      const [refused, retried] = standIn.requests.filter((entry) => entry.path === projectPath);
      expect([refused.status, retried.status]).toEqual([503, 200]);
      expect(retryWaits()).toEqual([expect.any(Number)]);
      expect(retryWaits()[0]).toBeGreaterThanOrEqual(1000);

      standIn.clearLog();
      logs.length = 0;
      const retryAfter = new Date(Date.now() + 3000).toUTCString();
      standIn.failNext(1, 503, { path: projectPath, retryAfter });
      await procore.getProject(projectId);
      const [refusedAgain, retriedAgain] = standIn.requests.filter((entry) => entry.path === projectPath);
      expect([refusedAgain.status, retriedAgain.status]).toEqual([503, 200]);
      // Until the date it names, measured against the refusal's Date (both whole seconds).
      const untilThen = Date.parse(retryAfter) - Date.parse(refusedAgain.headers!.Date);
      expect(untilThen).toBeGreaterThan(0);
      expect(retryWaits()).toEqual([expect.any(Number)]);
      expect(retryWaits()[0]).toBeGreaterThanOrEqual(untilThen);
    });

    it('retries a timed-out request', async () => {
      standIn.delayNext(1, 1500, { path: projectPath });
      const procore = client({ timeoutMs: 300 });
      const project = await procore.getProject(projectId);
      expect(project.id).toBe(projectId);
      const attempts = standIn.requests.filter((entry) => entry.path === projectPath);
      expect(attempts).toHaveLength(2);
      expect(attempts[0].aborted).toBe(true);
      expect(procore.stats.retries).toBe(1);
    });

    it('reports a timeout that outlasts every attempt as ProcoreNetworkError', async () => {
      standIn.delayNext(2, 1000, { path: projectPath });
      const error = await client({ timeoutMs: 200, maxAttempts: 2 })
        .getProject(projectId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreNetworkError);
      expect(error).toMatchObject({ timedOut: true, transient: true });
    });

    it('retries dropped connections and a server that is briefly down', async () => {
      standIn.dropNext(2, { path: projectPath });
      const procore = client({ baseDelayMs: 50, maxDelayMs: 1000, random: () => 0.999 });
      expect((await procore.getProject(projectId)).id).toBe(projectId);

      await standIn.down();
      setTimeout(() => void standIn.up(), 150);
      expect((await procore.getProject(projectId)).id).toBe(projectId);
      expect(procore.stats.retries).toBeGreaterThanOrEqual(3);
    });

    it('does not resend a POST that may have been processed (500), but does after a 503', async () => {
      const procore = client();
      const hook = { namespace: 'erp-connector', destinationUrl: 'https://connector.example/webhooks/procore', authorizationHeader: 'x' };
      standIn.failNext(1, 500, { method: 'POST', path: '/webhooks/hooks' });
      await expect(procore.createWebhookHook(hook)).rejects.toMatchObject({ status: 500 });
      expect(standIn.countRequests({ method: 'POST', path: '/webhooks/hooks' })).toBe(1);
      expect(standIn.hooks()).toHaveLength(0);

      standIn.failNext(1, 503, { method: 'POST', path: '/webhooks/hooks', retryAfterSeconds: 0 });
      await procore.createWebhookHook(hook);
      expect(standIn.hooks()).toHaveLength(1);
    });
  });

  describe('client errors and bad data', () => {
    it('a 404 is not retried and says what failed', async () => {
      const procore = client();
      const error = await procore.getProject(999).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreApiError);
      expect(error).toMatchObject({
        status: 404,
        method: 'GET',
        path: '/rest/v1.0/projects/999',
        procoreMessage: 'Project not found',
        transient: false,
      });
      expect((error as Error).message).toBe('Procore GET /rest/v1.0/projects/999 failed with 404 Not Found: Project not found');
      expect(standIn.countRequests({ path: '/rest/v1.0/projects/999' })).toBe(1);
      expect(procore.stats.retries).toBe(0);
    });

    it('a body that is not JSON is a ProcoreDataError', async () => {
      standIn.respondNext(1, { body: '<html><body>Maintenance</body></html>' }, { path: projectPath });
      const error = await client().getProject(projectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcoreDataError);
      expect((error as Error).message).toMatch(/GET \/rest\/v1.0\/projects\/1001 returned unexpected data: the body is not JSON/);
      expect(standIn.countRequests({ path: projectPath })).toBe(1);
    });

    it('a line whose amount is neither text nor a number is a ProcoreDataError naming the field', async () => {
      standIn.setBudgetLines(projectId, generateBudgetLines(3, 1));
      standIn.respondNext(
        1,
        { body: [{ id: 1, cost_code_id: 2, category_id: 3, original_budget_amount: { value: 12 } }] },
        { path: 'detail_rows' },
      );
      await expect(client().listDetailRows(viewId, projectId)).rejects.toThrow(
        new ProcoreDataError(
          'GET',
          `/rest/v1.0/budget_views/${viewId}/detail_rows`,
          '[0].original_budget_amount: expected an amount (number or decimal text), got an object',
        ),
      );
    });

    it('a list that is not a list is a ProcoreDataError', async () => {
      standIn.respondNext(1, { body: { rows: [] } }, { path: '/cost_codes' });
      await expect(client().listCostCodes(projectId)).rejects.toThrow('body: expected a list, got an object');
    });
  });

  it('never writes a token or the client secret to its log', async () => {
    logs.length = 0;
    standIn.setBudgetLines(projectId, generateBudgetLines(250, 3));
    standIn.failNext(1, 502, { path: 'detail_rows' });
    const procore = client();
    await readPages(procore, (page) => page === 1 && standIn.expireAllTokens());
    expect(logs.length).toBeGreaterThan(0);
    const secrets = [standIn.clientOptions().clientSecret, ...standIn.issuedTokens()];
    for (const line of logs) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
