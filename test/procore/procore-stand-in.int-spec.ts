import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { parseLinkHeader } from '../../src/procore/http-headers';
import {
  ProcoreStandIn,
  SAMPLE_BUDGET_LINES,
  generateBudgetLines,
  seedSampleProject,
} from '../stand-ins/procore';

/** The stand-in's protocol, checked with plain fetch (no connector code involved). */
describe('Procore stand-in protocol', () => {
  const standIn = new ProcoreStandIn();
  let base: string;
  let token: string;

  const api = (path: string, init: RequestInit & { company?: string | null } = {}) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (init.company !== null) headers['Procore-Company-Id'] = init.company ?? String(standIn.companyId);
    return fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
  };
  const getToken = async (form: Record<string, string> = standInCredentials()) =>
    fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const standInCredentials = () => ({
    grant_type: 'client_credentials',
    client_id: standIn.clientOptions().clientId,
    client_secret: standIn.clientOptions().clientSecret,
  });

  beforeAll(async () => {
    base = await standIn.start();
  });
  afterAll(() => standIn.stop());
  beforeEach(async () => {
    standIn.reset();
    seedSampleProject(standIn);
    token = ((await (await getToken()).json()) as { access_token: string }).access_token;
  });

  describe('OAuth client credentials', () => {
    it('issues a bearer token with Procore’s lifetime', async () => {
      const response = await getToken();
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ token_type: 'bearer', expires_in: 5400 });
      expect(typeof body.access_token).toBe('string');
      expect(typeof body.created_at).toBe('number');
    });

    it('refuses unknown clients and other grants', async () => {
      const wrong = await getToken({ ...standInCredentials(), client_secret: 'nope' });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
      const grant = await getToken({ ...standInCredentials(), grant_type: 'password' });
      expect(grant.status).toBe(400);
    });

    it('answers 401 without, with an unknown, or with an expired token', async () => {
      expect((await fetch(`${base}/rest/v1.0/projects/1001?company_id=8`)).status).toBe(401);
      token = 'forged';
      expect((await api('/rest/v1.0/projects/1001?company_id=8')).status).toBe(401);
      token = ((await (await getToken()).json()) as { access_token: string }).access_token;
      expect((await api('/rest/v1.0/projects/1001?company_id=8')).status).toBe(200);
      standIn.expireAllTokens();
      expect((await api('/rest/v1.0/projects/1001?company_id=8')).status).toBe(401);
    });

    it('expires tokens after tokenTtlSeconds', async () => {
      const quick = new ProcoreStandIn({ tokenTtlSeconds: 1 });
      const quickBase = await quick.start();
      try {
        quick.addProject({ id: 5, name: 'Quick' });
        const { clientId, clientSecret } = quick.clientOptions();
        const issued = await fetch(`${quickBase}/oauth/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
        });
        const quickToken = ((await issued.json()) as { access_token: string }).access_token;
        const call = () =>
          fetch(`${quickBase}/rest/v1.0/projects/5/budget`, {
            headers: { Authorization: `Bearer ${quickToken}`, 'Procore-Company-Id': '8' },
          });
        expect((await call()).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect((await call()).status).toBe(401);
      } finally {
        await quick.stop();
      }
    });
  });

  it('requires the Procore-Company-Id header of its company', async () => {
    const missing = await api('/rest/v1.0/projects/1001?company_id=8', { company: null });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ errors: 'The Procore-Company-Id header is required' });
    expect((await api('/rest/v1.0/projects/1001?company_id=8', { company: '999' })).status).toBe(403);
  });

  describe('paging', () => {
    it('defaults to 100 per page and sends Total, Per-Page and absolute Link URLs', async () => {
      standIn.addProject({ id: 1500, name: 'Big', budgetViewId: 2500 });
      standIn.setBudgetLines(1500, generateBudgetLines(250, 1));

      const first = await api('/rest/v1.0/budget_views/2500/detail_rows?project_id=1500');
      expect(first.headers.get('total')).toBe('250');
      expect(first.headers.get('per-page')).toBe('100');
      expect(((await first.json()) as unknown[]).length).toBe(100);
      const firstLinks = parseLinkHeader(first.headers.get('link'));
      expect(Object.keys(firstLinks).sort()).toEqual(['first', 'last', 'next']);
      expect(firstLinks.next).toBe(`${base}/rest/v1.0/budget_views/2500/detail_rows?project_id=1500&page=2&per_page=100`);

      const middle = await api('/rest/v1.0/budget_views/2500/detail_rows?project_id=1500&page=2');
      expect(Object.keys(parseLinkHeader(middle.headers.get('link'))).sort()).toEqual(['first', 'last', 'next', 'prev']);

      const last = await api('/rest/v1.0/budget_views/2500/detail_rows?project_id=1500&page=3');
      const lastLinks = parseLinkHeader(last.headers.get('link'));
      expect(lastLinks.next).toBeUndefined();
      expect(new URL(lastLinks.last).searchParams.get('page')).toBe('3');
      expect(((await last.json()) as unknown[]).length).toBe(50);

      const beyond = await api('/rest/v1.0/budget_views/2500/detail_rows?project_id=1500&page=9');
      expect(await beyond.json()).toEqual([]);
    });

    it('cuts per_page to its maximum and sends no Link for a single page', async () => {
      const response = await api('/rest/v1.0/budget_views/2001/detail_rows?project_id=1001&per_page=50000');
      expect(response.headers.get('per-page')).toBe('10000');
      expect(response.headers.get('link')).toBeNull();
      expect(((await response.json()) as unknown[]).length).toBe(SAMPLE_BUDGET_LINES.length);
    });

    it('sends detail-row amounts as numbers and line-item amounts as text', async () => {
      const rows = (await (await api('/rest/v1.0/budget_views/2001/detail_rows?project_id=1001')).json()) as Array<
        Record<string, unknown>
      >;
      expect(typeof rows[0].original_budget_amount).toBe('number');
      const item = (await (await api(`/rest/v1.0/budget_line_items/${rows[0].id}?project_id=1001`)).json()) as Record<
        string,
        unknown
      >;
      expect(item.original_budget_amount).toBe('412500.00');
    });

    it('shows only the columns the view has', async () => {
      standIn.addBudgetView(1001, { id: 2999, name: 'Original only', columns: [] });
      const rows = (await (await api('/rest/v1.0/budget_views/2999/detail_rows?project_id=1001')).json()) as Array<
        Record<string, unknown>
      >;
      expect(rows[0]).not.toHaveProperty('revised_budget');
      expect(rows[0]).toHaveProperty('budget_modifications');
    });
  });

  describe('rate limits', () => {
    it('reports the tighter bucket and answers 429 when it is spent, refusals counting too', async () => {
      standIn.setRateLimits({ spike: { limit: 3, windowSeconds: 1 }, hourly: { limit: 3600, windowSeconds: 3600 } });
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i += 1) {
        last = await api('/rest/v1.0/projects/1001/budget');
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(last?.headers.get('x-rate-limit-limit')).toBe('3');
      expect(last?.headers.get('x-rate-limit-remaining')).toBe('0');
      const reset = Number(last?.headers.get('x-rate-limit-reset')) * 1000;
      expect(reset).toBeGreaterThan(Date.now());
      expect(standIn.rateLimitedResponses).toBe(2);

      await new Promise((resolve) => setTimeout(resolve, reset - Date.now() + 20));
      const after = await api('/rest/v1.0/projects/1001/budget');
      expect(after.status).toBe(200);
      expect(after.headers.get('x-rate-limit-remaining')).toBe('2');
    });

    it('injected answers and 401s count against the buckets like every other request, and carry their headers', async () => {
      standIn.setRateLimits({ spike: { limit: 4, windowSeconds: 10 } });
      standIn.failNext(1, 500, { path: '/budget' });
      standIn.respondNext(1, { status: 200, body: 'not json' }, { path: '/budget' });
      const injected = [await api('/rest/v1.0/projects/1001/budget'), await api('/rest/v1.0/projects/1001/budget')];
      expect(injected.map((r) => [r.status, r.headers.get('x-rate-limit-remaining')])).toEqual([
        [500, '3'],
        [200, '2'],
      ]);
      const refused = await fetch(`${base}/rest/v1.0/projects/1001/budget`, { headers: { Authorization: 'Bearer expired', 'Procore-Company-Id': String(standIn.companyId) } });
      expect([refused.status, refused.headers.get('x-rate-limit-remaining')]).toEqual([401, '1']);
      expect((await api('/rest/v1.0/projects/1001/budget')).headers.get('x-rate-limit-remaining')).toBe('0');
      // Spent: the limit answers before any injected answer would.
      standIn.failNext(1, 503, { path: '/budget' });
      expect((await api('/rest/v1.0/projects/1001/budget')).status).toBe(429);
    });

    it('reports the hourly bucket once it is the closer one', async () => {
      standIn.setRateLimits({ spike: { limit: 25, windowSeconds: 10 }, hourly: { limit: 4, windowSeconds: 3600 } });
      const response = await api('/rest/v1.0/projects/1001/budget');
      expect(response.headers.get('x-rate-limit-limit')).toBe('4');
      expect(response.headers.get('x-rate-limit-remaining')).toBe('3');
    });
  });

  describe('faults', () => {
    it('fails the next matching requests with the given status and headers', async () => {
      standIn.failNext(1, 503, { path: '/budget', retryAfterSeconds: 7 });
      standIn.failNext(1, 502, { path: '/budget' });
      const unavailable = await api('/rest/v1.0/projects/1001/budget');
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('retry-after')).toBe('7');
      const gateway = await api('/rest/v1.0/projects/1001/budget');
      expect(gateway.status).toBe(502);
      expect(await gateway.text()).toContain('<html>');
      expect((await api('/rest/v1.0/projects/1001/budget')).status).toBe(200);
    });

    it('goes down and comes back on the same URL', async () => {
      await standIn.down();
      await expect(api('/rest/v1.0/projects/1001/budget')).rejects.toThrow();
      await standIn.up();
      expect(standIn.url).toBe(base);
      expect((await api('/rest/v1.0/projects/1001/budget')).status).toBe(200);
    });

    it('logs every request with method, path, query, status and time', async () => {
      standIn.clearLog();
      await api('/rest/v1.0/cost_codes?project_id=1001&page=1');
      expect(standIn.requests).toEqual([
        expect.objectContaining({
          method: 'GET',
          path: '/rest/v1.0/cost_codes',
          query: { project_id: '1001', page: '1' },
          status: 200,
          aborted: false,
        }),
      ]);
      expect(standIn.countRequests({ path: 'cost_codes', status: 200 })).toBe(1);
    });
  });

  describe('webhooks', () => {
    let receiver: Server;
    let receiverUrl: string;
    const received: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        let data = '';
        req.on('data', (chunk) => (data += chunk));
        req.on('end', () => {
          received.push({ headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
          res.writeHead(202).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/procore`;
    });
    afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    beforeEach(() => {
      received.length = 0;
    });

    it('delivers a v2 payload to every hook with its destination headers verbatim', async () => {
      const created = await api(`/rest/v2.0/companies/${standIn.companyId}/webhooks/hooks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          payload_version: 'v2',
          namespace: 'erp-connector',
          destination_url: receiverUrl,
          destination_headers: { Authorization: 'Token  exact-value ' },
        }),
      });
      expect(created.status).toBe(201);
      const hook = ((await created.json()) as { data: { id: string } }).data;
      const trigger = await api(`/rest/v2.0/companies/${standIn.companyId}/webhooks/hooks/${hook.id}/triggers`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ resource_name: 'Budget View Snapshots', event_type: 'create' }),
      });
      expect(trigger.status).toBe(201);

      const statuses = await standIn.deliverWebhook({ project_id: 1001, user_id: 7001, resource_id: 555, event_type: 'create' });

      expect(statuses).toEqual([202]);
      expect(received).toHaveLength(1);
      expect(received[0].headers.authorization).toBe('Token  exact-value');
      expect(received[0].body).toMatchObject({
        company_id: standIn.companyId,
        project_id: 1001,
        user_id: 7001,
        api_version: 'v2',
        event_type: 'create',
        resource_name: 'Budget View Snapshots',
        resource_id: 555,
        metadata: {},
      });
      expect(received[0].body.ulid).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

      // Only hooks with a matching trigger, when asked.
      expect(await standIn.deliverWebhook({ resource_name: 'Projects' }, { matchTriggers: true })).toEqual([]);
    });

    it('validates hooks and triggers like Procore (422 with reasons)', async () => {
      const bad = await api(`/rest/v2.0/companies/${standIn.companyId}/webhooks/hooks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ namespace: '', destination_url: 'not a url' }),
      });
      expect(bad.status).toBe(422);
      expect(await bad.json()).toEqual({
        errors: { namespace: ["can't be blank"], destination_url: ['must be an http(s) URL'] },
      });
    });

    it('deliverTo posts any body and reports 0 when nothing answers', async () => {
      expect(await standIn.deliverTo(receiverUrl, { id: 1 }, { Authorization: 'x' })).toBe(202);
      expect(await standIn.deliverTo('http://127.0.0.1:9/none', { id: 1 })).toBe(0);
    });
  });

  describe('sample data', () => {
    it('seeds the sample project over several divisions and categories', () => {
      const lines = standIn.budgetLines(1001);
      expect(lines).toHaveLength(SAMPLE_BUDGET_LINES.length);
      expect(lines.length).toBeGreaterThanOrEqual(24);
      const divisions = new Set(lines.map((line) => line.cost_code.slice(0, 2)));
      expect([...divisions]).toEqual(expect.arrayContaining(['01', '03', '05', '09', '22', '23', '26']));
      expect(new Set(lines.map((line) => line.category))).toEqual(
        new Set(['Labor', 'Material', 'Subcontract', 'Equipment', 'Other']),
      );
      expect(lines.some((line) => line.budget_modifications !== '0.00')).toBe(true);
      expect(lines.some((line) => line.approved_cos !== '0.00')).toBe(true);
      expect(standIn.usersList().filter((user) => user.erp_integrated_accountant)).toHaveLength(1);
    });

    it('generates large budgets deterministically with distinct cost code × category lines', () => {
      const big = generateBudgetLines(20_000, 42);
      expect(big).toHaveLength(20_000);
      expect(generateBudgetLines(20_000, 42)).toEqual(big);
      expect(generateBudgetLines(50, 43)).not.toEqual(big.slice(0, 50));
      expect(new Set(big.map((line) => `${line.costCode}/${line.category}`)).size).toBe(20_000);
      expect(Math.max(...big.map((line) => line.costCode.replace(/-/g, '').length))).toBeLessThanOrEqual(20);
    });
  });
});
