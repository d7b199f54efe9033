/**
 * Contract test: the real ProcoreClient (and the mapping that reads its rows) against Procore's
 * published response shapes in test/fixtures/procore, served verbatim by the stand-in. Each fixture
 * is also checked for the facts an earlier spec got wrong, so changing a fixture back to an old
 * assumption (snake_case view columns, a bare budget_changes array, numeric amounts only,
 * created_by on line items, an unlock that keeps modifications without the parameter, unmasked
 * hook secrets, lower-case trigger event types, unlimited v2.0 pages, inactive projects listed
 * by default) fails here.
 */
import { parseMoney } from '../../src/common/money';
import { parseLinkHeader, parseRateLimitHeaders } from '../../src/procore/client/http-headers';
import { mapBudget } from '../../src/procore/mapping/budget-mapping';
import { EMPTY_MAPPING } from '../../src/procore/mapping/mapping-file';
import { ProcoreClient } from '../../src/procore/client/procore-client';
import { canonicalEventType, sameSecret } from '../../src/procore/webhooks/webhook-registration';
import { procoreFixture } from '../fixtures/procore';
import { ProcoreStandIn } from '../stand-ins/procore';

const SNAKE_CASE_COLUMNS = ['approved_cos', 'revised_budget', 'pending_budget_changes', 'projected_budget', 'committed_costs', 'direct_costs'];

describe('Procore contract: the real client against the published shapes', () => {
  const standIn = new ProcoreStandIn();
  let client: ProcoreClient;

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(() => {
    standIn.reset();
    standIn.addProject({ id: 1001, name: 'Contract', project_number: '26-101', budgetViewId: 2001 });
    client = new ProcoreClient({ ...standIn.clientOptions(), baseDelayMs: 5, maxAttempts: 2 });
  });

  /** The fixture's response, verbatim, for the next request to `path`. */
  const serve = (response: { status: number; body: unknown; headers?: Record<string, string> }, path: string | RegExp, method = 'GET') =>
    standIn.respondNext(1, { status: response.status, body: response.body as object, headers: response.headers }, { path, method });

  describe('budget view detail rows (published screenshot)', () => {
    const fixture = procoreFixture('list-budget-view-detail-rows');
    const row = fixture.response.body[0] as Record<string, unknown>;

    it('keys view columns by display name, with amounts as text of two decimals', () => {
      expect(fixture.viewColumns).toEqual(expect.arrayContaining(['Approved COs', 'Revised Budget', 'Pending Budget Changes']));
      for (const column of fixture.viewColumns as string[]) expect({ column, value: row[column] }).toEqual({ column, value: expect.stringMatching(/^-?\d+\.\d{2}$/) });
      for (const key of ['original_budget_amount', 'budget_modifications']) expect(row[key]).toMatch(/^-?\d+\.\d{2}$/);
      for (const key of SNAKE_CASE_COLUMNS) expect(row).not.toHaveProperty(key);
      for (const key of ['created_by', 'created_at', 'description']) expect(row).not.toHaveProperty(key);
    });

    it('the client reads the rows and the mapping takes the revised estimate from "Revised Budget", exactly', async () => {
      serve(fixture.response, '/detail_rows');
      const rows = await client.listDetailRows(2001, 1001);
      expect(rows).toEqual(fixture.response.body);
      const mapped = mapBudget({ project: { id: 1001, name: 'Contract', project_number: '26-101', origin_id: null }, lines: rows, lineItemTypes: [] }, EMPTY_MAPPING);
      expect(mapped.lines[0]).toMatchObject({ costCode: '01-010', category: 'Labor', originalBudget: 4500000n, revisedEstimate: 4500000n, budgetChanges: 0n });
    });

    it('approved change orders and budget changes count because they are in "Revised Budget" (never summed from other columns)', async () => {
      // The published row with other values in the same shape: 45,000.00 original, 5,000.00 in approved COs.
      const changed = { ...row, 'Approved COs': '5000.00', 'Revised Budget': '50000.00', 'Projected Budget': '50000.00' };
      serve({ status: 200, body: [changed] }, '/detail_rows');
      const rows = await client.listDetailRows(2001, 1001);
      const mapped = mapBudget({ project: { id: 1001, name: 'Contract', project_number: '26-101', origin_id: null }, lines: rows, lineItemTypes: [] }, EMPTY_MAPPING);
      expect(mapped.lines[0]).toMatchObject({ originalBudget: 4500000n, budgetChanges: 500000n, revisedEstimate: 5000000n });
    });
  });

  describe('a budget line item (published screenshot)', () => {
    const fixture = procoreFixture('show-budget-line-item');
    const item = fixture.response.body as Record<string, unknown>;

    it('has no creator, creation time or description, and amounts as text such as "45000.0"', () => {
      for (const key of ['created_by', 'created_at', 'description']) expect(item).not.toHaveProperty(key);
      expect(item.original_budget_amount).toBe('45000.0');
      for (const key of ['approved_budget_changes', 'budget_modifications', 'revised_budget', 'direct_costs']) {
        expect(item[key]).toMatch(/^-?\d+\.\d{1,2}$/);
      }
    });

    it('the client reads it and its amounts exactly', async () => {
      serve(fixture.response, '/budget_line_items/');
      const read = await client.getBudgetLineItem(2241760, 1001);
      expect(read).toMatchObject({ id: 2241760, cost_code: { full_code: '01-010' }, line_item_type: { name: 'Labor' } });
      expect(parseMoney(read.original_budget_amount)).toEqual({ cents: 4500000n, rounded: false });
      expect(parseMoney(read.direct_costs as string).cents).toBe(1293336n);
    });
  });

  it('budget views: a bare list (views do carry created_by)', async () => {
    const fixture = procoreFixture('list-budget-views');
    expect(Array.isArray(fixture.response.body)).toBe(true);
    serve(fixture.response, '/budget_views');
    expect(await client.listBudgetViews(1001)).toEqual([expect.objectContaining({ id: 10223, name: 'Legacy View' })]);
  });

  describe('budget changes (reference)', () => {
    const fixture = procoreFixture('list-budget-changes');

    it('are wrapped in {"data": [...]}, amounts as JSON numbers', () => {
      expect(Array.isArray(fixture.response.body)).toBe(false);
      expect(Array.isArray(fixture.response.body.data)).toBe(true);
      expect(typeof fixture.response.body.data[0].amount).toBe('number');
    });

    it('the client reads the wrapped body in one call, and refuses a bare array', async () => {
      serve(fixture.response, '/budget_changes');
      expect(await client.listBudgetChanges(1001)).toEqual([expect.objectContaining({ id: 9001, status: 'approved', erp_status: 'not_in_erp' })]);
      expect(standIn.requests.at(-1)?.query).toEqual({});
      serve({ status: 200, body: fixture.response.body.data }, '/budget_changes');
      await expect(client.listBudgetChanges(1001)).rejects.toThrow('expected an object with "data"');
    });
  });

  describe('budget lock (reference)', () => {
    const fixture = procoreFixture('budget-lock');

    it('an unlock without the parameter destroys the budget modifications (the parameter defaults to true)', async () => {
      expect(fixture.unlock.parameterDefault).toBe('true');
      expect(fixture.unlock.request.query).toEqual({ destroy_all_budget_line_item_transfers: 'false' });
      // The stand-in follows the fixture: an unlock that omits the parameter loses the modifications.
      standIn.setBudgetLines(1001, [{ costCode: '01-100', category: 'L', originalBudget: '100.00', budgetModifications: '25.00' }]);
      standIn.setLocked(1001, true);
      const token = ((await (await fetch(`${standIn.url}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: standIn.clientOptions().clientId, client_secret: standIn.clientOptions().clientSecret }) })).json()) as { access_token: string }).access_token;
      const bare = await fetch(`${standIn.url}${fixture.unlock.request.path}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}`, 'Procore-Company-Id': String(standIn.companyId) } });
      expect(await bare.json()).toEqual(fixture.unlock.response.body);
      expect(standIn.budgetLines(1001)[0].budget_modifications).toBe('0.00');
    });

    it('the client always sends destroy_all_budget_line_item_transfers=false, and the modifications stay', async () => {
      standIn.setBudgetLines(1001, [{ costCode: '01-100', category: 'L', originalBudget: '100.00', budgetModifications: '25.00' }]);
      serve(fixture.show.response, '/budget');
      expect(await client.getBudgetLock(1001)).toEqual(fixture.show.response.body);
      expect(await client.lockBudget(1001)).toEqual({ locked: true, changed: true });
      expect(await client.unlockBudget(1001)).toEqual({ locked: false, changed: true });
      expect(standIn.requests.at(-1)).toMatchObject({ method: 'DELETE', query: fixture.unlock.request.query, status: fixture.unlock.response.status });
      expect(standIn.budgetLines(1001)[0].budget_modifications).toBe('25.00');
    });
  });

  it('projects: active only unless filters[by_status]=All; the client asks for All when it needs inactive ones', async () => {
    const fixture = procoreFixture('list-projects');
    expect(fixture.request.query['filters[by_status]']).toBe('All');
    expect(fixture.response.body.some((p: { active: boolean }) => !p.active)).toBe(true);
    serve(fixture.response, '/rest/v1.0/projects');
    expect((await client.listProjects({ includeInactive: true })).map((p) => [p.id, p.active])).toEqual([
      [1001, true],
      [1009, false],
    ]);
    expect(standIn.requests.at(-1)?.query).toMatchObject({ 'filters[by_status]': 'All' });
    serve(fixture.response, '/rest/v1.0/projects');
    expect((await client.listProjects()).map((p) => p.id)).toEqual([1001]);
    expect(standIn.requests.at(-1)?.query).not.toHaveProperty('filters[by_status]');
  });

  it('cost codes, line item types and company users: bare lists the client reads', async () => {
    serve(procoreFixture('list-cost-codes').response, '/cost_codes');
    expect(await client.listCostCodes(1001)).toEqual([expect.objectContaining({ id: 124663325, full_code: '01-010', origin_id: null })]);
    serve(procoreFixture('list-line-item-types').response, '/line_item_types');
    expect(await client.listLineItemTypes()).toEqual([expect.objectContaining({ id: 72051, name: 'Labor', code: 'L' })]);
    serve(procoreFixture('list-company-users').response, '/users');
    expect(await client.listCompanyUsers()).toEqual([expect.objectContaining({ id: 7002, is_active: true, erp_integrated_accountant: true })]);
  });

  it('the OAuth token response (published example)', async () => {
    const fixture = procoreFixture('oauth-token');
    expect(fixture.response.body).toMatchObject({ token_type: 'bearer', expires_in: 5400 });
    standIn.respondNext(1, { body: fixture.response.body }, { path: '/oauth/token' });
    // The client takes the published token; the stand-in never issued it, so the API refuses it
    // once and the client fetches a fresh one.
    expect(await client.getBudgetLock(1001)).toEqual({ locked: false });
    expect(standIn.tokenRequests).toBe(2);
    expect(standIn.countRequests({ path: '/budget', status: 401 })).toBe(1);
    expect(client.stats.reauthentications).toBe(1);
  });

  describe('webhooks v2.0 (reference; masking and case inferred)', () => {
    const fixture = procoreFixture('webhooks-v2');

    it('lists are wrapped in {data}, ids are text, Authorization masked to its last 5 characters, event types like CREATED', () => {
      const hook = fixture.hookList.response.body.data[0];
      expect(typeof hook.id).toBe('string');
      expect(hook.destination_headers.Authorization).toMatch(/^\*{5}.{5}$/);
      expect(fixture.triggerList.response.body.data[0].event_type).toBe('CREATED');
      expect(procoreFixture('pagination').v2.maxPerPage).toBe(100);
    });

    it('the client reads hooks, triggers and resources, at most 100 per page, and the registration compares them as the same', async () => {
      serve(fixture.hookList.response, '/webhooks/hooks');
      const [hook] = await client.listWebhookHooks('your-company-name');
      expect(hook).toMatchObject({ id: '43593499', namespace: 'your-company-name', payload_version: 'v2' });
      expect(sameSecret(hook, 'example-token')).toBe(true);
      expect(sameSecret(hook, 'example-other')).toBe(false);
      expect(Number(standIn.requests.at(-1)?.query.per_page)).toBeLessThanOrEqual(100);

      serve(fixture.triggerList.response, '/triggers');
      const [trigger] = await client.listWebhookTriggers('43593499');
      expect(canonicalEventType(trigger.event_type)).toBe('create');

      serve(fixture.resourceList.response, '/webhooks/resources');
      expect(await client.listWebhookResources()).toEqual([{ name: 'Bids', actions: ['update'] }]);
      expect(standIn.requests.at(-1)?.query).toMatchObject({ payload_version: 'v2.0' });
    });
  });

  describe('webhooks v1.0 (the developer guide’s; the fallback)', () => {
    const fixture = procoreFixture('webhooks-v1');

    it('creates with {company_id, hook: {api_version: "v2", …}}, lists bare arrays with masked secrets and CREATE', () => {
      expect(fixture.hookCreate.request.body).toMatchObject({ company_id: expect.any(Number), hook: { api_version: 'v2' } });
      expect(fixture.hookList.response.body[0].destination_headers.Authorization).toMatch(/^\*{5}.{5}$/);
      expect(fixture.triggerList.response.body[0].event_type).toBe('DELETE');
    });

    it('the client falls back to it on a v2.0 404 and reads its shapes', async () => {
      standIn.setWebhookBehaviour({ api: 'v1' });
      serve(fixture.hookList.response, '/rest/v1.0/webhooks/hooks');
      const [hook] = await client.listWebhookHooks('your-company-name');
      expect(client.webhooksApi).toBe('v1');
      expect(hook).toMatchObject({ id: '43593499', payload_version: 'v2' });
      expect(standIn.requests.at(-1)?.query).toMatchObject({ company_id: String(standIn.companyId), namespace: 'your-company-name' });
      serve(fixture.triggerList.response, '/rest/v1.0/webhooks/hooks/43593499/triggers');
      expect((await client.listWebhookTriggers('43593499')).map((t) => canonicalEventType(t.event_type))).toEqual(['delete']);
      serve(fixture.resourceList.response, '/rest/v1.0/webhooks/resources');
      expect(await client.listWebhookResources({ projectId: 1001 })).toEqual([{ name: 'Budget Line Items', actions: ['create', 'update', 'delete'] }]);
    });
  });

  it('paging and rate-limit headers (published guides) are read as published', () => {
    const paging = procoreFixture('pagination').v1.headers;
    expect(parseLinkHeader(paging.Link)).toMatchObject({ next: expect.stringContaining('page=4'), last: expect.stringContaining('page=30') });
    const limits = procoreFixture('rate-limits');
    for (const headers of [limits.hourlyHeaders, limits.spikeHeaders]) {
      const read = parseRateLimitHeaders(new Headers(headers));
      expect(read).toMatchObject({ limit: Number(headers['X-Rate-Limit-Limit']), remaining: Number(headers['X-Rate-Limit-Remaining']) });
    }
  });

  it('every fixture names its source, and says what is inferred', () => {
    for (const name of ['budget-lock', 'list-budget-changes', 'list-budget-view-detail-rows', 'show-budget-line-item', 'webhooks-v1', 'webhooks-v2'] as const) {
      const fixture = procoreFixture(name);
      expect(fixture.$source.where.length).toBeGreaterThan(0);
      expect(Array.isArray(fixture.$inferred)).toBe(true);
    }
    expect(procoreFixture('webhooks-v2').$inferred.join(' ')).toMatch(/masked/);
  });
});
