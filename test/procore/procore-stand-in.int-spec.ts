import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { parseLinkHeader } from '../../src/procore/client/http-headers';
import { procoreFixture } from '../fixtures/procore';
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

    it('caps v2.0 lists at 100 per page (default 10) and wraps them in {data}', async () => {
      for (let i = 0; i < 150; i += 1) standIn.addHook({ namespace: 'many', destinationUrl: `https://x.example/${i}` });
      const path = `/rest/v2.0/companies/${standIn.companyId}/webhooks/hooks?namespace=many`;
      const fallback = await api(path);
      expect(fallback.headers.get('per-page')).toBe('10');
      expect(((await fallback.json()) as { data: unknown[] }).data).toHaveLength(10);
      const capped = await api(`${path}&per_page=1000`);
      expect(capped.headers.get('per-page')).toBe('100');
      expect(capped.headers.get('total')).toBe('150');
      expect(((await capped.json()) as { data: unknown[] }).data).toHaveLength(100);
    });

    it('can leave out Link and Total (a reader must then stop on a short page)', async () => {
      standIn.setPagingHeaders({ link: false, total: false });
      const response = await api('/rest/v1.0/budget_views/2001/detail_rows?project_id=1001&per_page=10');
      expect(response.headers.get('link')).toBeNull();
      expect(response.headers.get('total')).toBeNull();
      expect(response.headers.get('per-page')).toBe('10');
    });
  });

  describe('published shapes (test/fixtures/procore)', () => {
    const shapeOf = (value: unknown): unknown =>
      value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value === 'object' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)])) : typeof value;

    it('detail rows: the published keys, view columns by display name, amounts as text with two decimals', async () => {
      const [row] = (await (await api('/rest/v1.0/budget_views/2001/detail_rows?project_id=1001&per_page=1')).json()) as Array<Record<string, unknown>>;
      const published = procoreFixture('list-budget-view-detail-rows').response.body[0];
      expect(Object.keys(row)).toEqual(Object.keys(published));
      const nullable = new Set(['cost_code_origin_id']);
      for (const [key, value] of Object.entries(published)) {
        if (!nullable.has(key)) expect({ key, type: shapeOf(row[key]) }).toEqual({ key, type: shapeOf(value) });
      }
      expect(row).toMatchObject({ original_budget_amount: '412500.00', 'Revised Budget': '412500.00', 'Direct Costs': '61250.40', 'Committed Costs': '98000.00' });
      expect(row).not.toHaveProperty('revised_budget');
      expect(row).not.toHaveProperty('created_by');
    });

    it('a budget line item: the published keys, amounts like "45000.0", no creator', async () => {
      const line = standIn.budgetLines(1001).find((l) => l.approved_budget_changes !== '0.00');
      const item = (await (await api(`/rest/v1.0/budget_line_items/${line?.id}?project_id=1001`)).json()) as Record<string, unknown>;
      const published = procoreFixture('show-budget-line-item').response.body;
      expect(shapeOf(item)).toEqual(shapeOf(published));
      expect(item).toMatchObject({ original_budget_amount: '158730.4', approved_budget_changes: '4200.0', revised_budget: '162930.4', budget_modifications: '0.0' });
    });

    it('JSON numbers instead, when asked (the reference schema types amounts as numbers)', async () => {
      standIn.setAmountFormat('number');
      const [row] = (await (await api('/rest/v1.0/budget_views/2001/detail_rows?project_id=1001&per_page=1')).json()) as Array<Record<string, unknown>>;
      expect(row).toMatchObject({ original_budget_amount: 412500, 'Revised Budget': 412500 });
    });

    it('views show the columns they have, by the names they give them', async () => {
      standIn.addBudgetView(1001, { id: 2999, name: 'Renamed', columns: ['Approved COs', { name: 'Revised Estimate', source: 'Revised Budget' }] });
      const [row] = (await (await api('/rest/v1.0/budget_views/2999/detail_rows?project_id=1001&per_page=1')).json()) as Array<Record<string, unknown>>;
      expect(Object.keys(row).slice(-2)).toEqual(['Approved COs', 'Revised Estimate']);
      expect(row).not.toHaveProperty('Revised Budget');
    });

    it('budget changes wrapped in {data}, amounts as numbers, unpaged', async () => {
      const response = await api('/rest/v1.0/projects/1001/budget_changes');
      const body = (await response.json()) as { data: Array<Record<string, unknown>> };
      expect(shapeOf(body.data[0])).toEqual(shapeOf({ ...procoreFixture('list-budget-changes').response.body.data[0], prime_contract_id: null }));
      expect(body.data.map((c) => [c.number, c.status, c.amount])).toEqual([
        [1, 'approved', 21340.5],
        [2, 'draft', 18000],
      ]);
      expect(response.headers.get('total')).toBeNull();
    });

    it('projects: active only, unless filters[by_status] asks for Inactive or All', async () => {
      standIn.addProject({ id: 1009, name: 'Closed Clinic Annex', active: false });
      const ids = async (query: string) => ((await (await api(`/rest/v1.0/projects?company_id=8${query}`)).json()) as Array<{ id: number }>).map((p) => p.id);
      expect(await ids('')).toEqual([1001]);
      expect(await ids('&filters[by_status]=Inactive')).toEqual([1009]);
      expect(await ids('&filters[by_status]=All')).toEqual([1001, 1009]);
      expect((await api('/rest/v1.0/projects?company_id=8&filters[by_status]=Closed')).status).toBe(400);
    });
  });

  describe('budget lock', () => {
    const lockPath = '/rest/v1.0/projects/1001/budget/lock';
    const modifications = () => standIn.budgetLines(1001).filter((l) => l.budget_modifications !== '0.00').map((l) => l.budget_modifications);

    it('an unlock without destroy_all_budget_line_item_transfers=false destroys every budget modification', async () => {
      expect(modifications()).toEqual(['12500.00', '-4800.00', '15600.00', '7250.00']);
      const revisedBefore = standIn.budgetLines(1001).find((l) => l.budget_modifications === '12500.00')?.revised_budget;
      expect((await api(lockPath, { method: 'POST' })).status).toBe(201);
      const unlocked = await api(lockPath, { method: 'DELETE' });
      expect([unlocked.status, await unlocked.json()]).toEqual([200, { locked: false }]);
      expect(modifications()).toEqual([]);
      expect(standIn.budgetLines(1001).find((l) => l.cost_code.startsWith('03-300') && l.category === 'Material')?.revised_budget).not.toBe(revisedBefore);
      expect(standIn.unlockRequests).toEqual([{ projectId: 1001, destroyAllBudgetLineItemTransfers: null, destroyedModifications: true }]);
    });

    it('with destroy_all_budget_line_item_transfers=false the modifications stay', async () => {
      await api(lockPath, { method: 'POST' });
      expect((await api(`${lockPath}?destroy_all_budget_line_item_transfers=false`, { method: 'DELETE' })).status).toBe(200);
      expect(modifications()).toHaveLength(4);
      expect(standIn.unlockRequests).toEqual([{ projectId: 1001, destroyAllBudgetLineItemTransfers: 'false', destroyedModifications: false }]);
      expect((await api(`${lockPath}?destroy_all_budget_line_item_transfers=false`, { method: 'DELETE' })).status).toBe(422);
      expect((await api(`${lockPath}?destroy_all_budget_line_item_transfers=maybe`, { method: 'DELETE' })).status).toBe(400);
    });
  });

  describe('clock', () => {
    it('a skewed server clock shows in Date and X-Rate-Limit-Reset alike', async () => {
      standIn.setRateLimits({ spike: { limit: 25, windowSeconds: 10 } });
      standIn.setClockSkew(3_600_000);
      const response = await api('/rest/v1.0/projects/1001/budget');
      const date = Date.parse(response.headers.get('date') as string);
      const reset = Number(response.headers.get('x-rate-limit-reset')) * 1000;
      expect(date - Date.now()).toBeGreaterThan(3_500_000);
      expect(reset - date).toBeGreaterThan(0);
      expect(reset - date).toBeLessThanOrEqual(11_000);
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

    const hooksPath = (projectId?: number) =>
      `/rest/v2.0/companies/${standIn.companyId}${projectId ? `/projects/${projectId}` : ''}/webhooks/hooks`;
    const post = (path: string, body: unknown) =>
      api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    it('delivers a v2 payload, in the published shape, to the hooks its project reaches with their headers verbatim', async () => {
      const created = await post(hooksPath(1001), {
        payload_version: 'v2',
        namespace: 'erp-connector',
        destination_url: receiverUrl,
        destination_headers: { Authorization: 'Token  exact-value ' },
      });
      expect(created.status).toBe(201);
      const hook = ((await created.json()) as { data: { id: string } }).data;
      const trigger = await post(`${hooksPath(1001)}/${hook.id}/triggers`, { resource_name: 'Budget View Snapshots', event_type: 'create' });
      expect(trigger.status).toBe(201);

      const statuses = await standIn.deliverWebhook({ project_id: 1001, user_id: 7001, resource_id: 555, event_type: 'create' });

      expect(statuses).toEqual([202]);
      expect(received).toHaveLength(1);
      expect(received[0].headers.authorization).toBe('Token  exact-value');
      expect(Object.keys(received[0].body)).toEqual(Object.keys(procoreFixture('webhook-event').current));
      expect(received[0].body).toMatchObject({
        company_id: standIn.companyId,
        project_id: 1001,
        user_id: 7001,
        api_version: 'v2.0',
        event_type: 'create',
        resource_name: 'Budget View Snapshots',
        resource_id: 555,
        metadata: { source_user_id: 7001, source_project_id: 1001, source_company_id: standIn.companyId },
      });
      expect(received[0].body.ulid).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

      // Only hooks with a matching trigger, when asked; another project's event does not reach it.
      expect(await standIn.deliverWebhook({ project_id: 1001, resource_name: 'Projects' }, { matchTriggers: true })).toEqual([]);
      expect(await standIn.deliverWebhook({ project_id: 1002 })).toEqual([]);
    });

    it('lists hooks with the Authorization header masked and triggers upper case and past tense (inferred), v1.0 alike', async () => {
      const hook = standIn.addHook({ namespace: 'erp-connector', destinationUrl: receiverUrl, destinationHeaders: { Authorization: 'Bearer abcdef-12345' } });
      standIn.addTrigger(hook.id, 'Projects', 'create');
      const listed = (await (await api(`${hooksPath()}?namespace=erp-connector`)).json()) as { data: Array<Record<string, unknown>> };
      expect(Object.keys(listed.data[0])).toEqual(Object.keys(procoreFixture('webhooks-v2').hookList.response.body.data[0]));
      expect(listed.data[0]).toMatchObject({ id: hook.id, destination_headers: { Authorization: '*****12345' }, company_id: '8', project_id: null });
      const triggers = (await (await api(`${hooksPath()}/${hook.id}/triggers`)).json()) as { data: Array<Record<string, unknown>> };
      expect(triggers.data.map((t) => t.event_type)).toEqual(['CREATED']);

      const v1 = (await (await api('/rest/v1.0/webhooks/hooks?company_id=8&namespace=erp-connector')).json()) as Array<Record<string, unknown>>;
      expect(Object.keys(v1[0])).toEqual(Object.keys(procoreFixture('webhooks-v1').hookList.response.body[0]));
      expect(v1[0]).toMatchObject({ id: Number(hook.id), destination_headers: { Authorization: '*****12345' } });
      const v1Triggers = (await (await api(`/rest/v1.0/webhooks/hooks/${hook.id}/triggers?company_id=8`)).json()) as Array<Record<string, unknown>>;
      expect(v1Triggers.map((t) => t.event_type)).toEqual(['CREATE']);

      standIn.setWebhookBehaviour({ maskSecrets: false, eventTypeStyle: 'lower' });
      const plain = (await (await api(`${hooksPath()}?namespace=erp-connector`)).json()) as { data: Array<Record<string, unknown>> };
      expect(plain.data[0].destination_headers).toEqual({ Authorization: 'Bearer abcdef-12345' });
    });

    it('offers the budget resources to project-level hooks only, and refuses triggers a scope does not offer', async () => {
      const company = (await (await api(`/rest/v2.0/companies/8/webhooks/resources?payload_version=v2.0`)).json()) as { data: Array<{ name: string }> };
      expect(company.data.map((r) => r.name)).toContain('Projects');
      expect(company.data.map((r) => r.name)).not.toContain('Budget Line Items');
      const project = (await (await api(`/rest/v2.0/companies/8/projects/1001/webhooks/resources?payload_version=v2.0`)).json()) as { data: Array<{ name: string; actions: string[] }> };
      expect(project.data.find((r) => r.name === 'Budget View Snapshots')?.actions).toEqual(['create']);
      const hook = standIn.addHook({ namespace: 'erp-connector', destinationUrl: receiverUrl });
      const refused = await post(`${hooksPath()}/${hook.id}/triggers`, { resource_name: 'Budget Line Items', event_type: 'update' });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ error: { message: 'resource_name is not a webhook resource at company scope' } });
    });

    it('a company without the v2.0 hooks API answers 404 there; the v1.0 API works', async () => {
      standIn.setWebhookBehaviour({ api: 'v1' });
      expect((await api(`${hooksPath()}?namespace=x`)).status).toBe(404);
      const created = await post('/rest/v1.0/webhooks/hooks', {
        project_id: 1001,
        hook: { api_version: 'v2', namespace: 'erp-connector', destination_url: receiverUrl, destination_headers: { Authorization: 'secret-value' } },
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ owned_by_project_id: 1001, destination_headers: { Authorization: '*****value' } });
      expect(standIn.hooks()).toEqual([expect.objectContaining({ project_id: 1001, destination_headers: { Authorization: 'secret-value' } })]);
    });

    it('validates hooks and triggers like Procore (422 with reasons)', async () => {
      const bad = await post(hooksPath(), { namespace: '', destination_url: 'not a url' });
      expect(bad.status).toBe(422);
      expect(await bad.json()).toEqual({
        error: {
          code: '422',
          message: "namespace can't be blank; destination_url must be an http(s) URL; payload_version can't be blank",
          details: { namespace: ["can't be blank"], destination_url: ['must be an http(s) URL'], payload_version: ["can't be blank"] },
        },
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
      expect(lines.some((line) => line.approved_budget_changes !== '0.00')).toBe(true);
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
