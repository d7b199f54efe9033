import { formatMoney, parseMoney } from '../../src/common/money';
import { ProcoreClient } from '../../src/procore/client/procore-client';
import { ProcoreApiError } from '../../src/procore/client/procore-errors';
import {
  ProcoreStandIn,
  SAMPLE_BUDGET_LINES,
  SAMPLE_BUDGET_VIEW_ID,
  SAMPLE_PROJECT_ID,
  SAMPLE_USERS,
  seedSampleProject,
} from '../stand-ins/procore';

describe('ProcoreClient endpoints against the sample project', () => {
  const standIn = new ProcoreStandIn();
  let procore: ProcoreClient;

  beforeAll(async () => {
    await standIn.start();
    procore = new ProcoreClient({ ...standIn.clientOptions(), perPage: 1000 });
  });
  afterAll(() => standIn.stop());
  beforeEach(() => {
    standIn.reset();
    seedSampleProject(standIn);
  });

  it('sends the bearer token and Procore-Company-Id on every API call', async () => {
    // The stand-in answers 401 without a valid token and 400/403 without the company's header.
    await procore.getBudgetLock(SAMPLE_PROJECT_ID);
    expect(standIn.requests.at(-1)).toMatchObject({ path: `/rest/v1.0/projects/${SAMPLE_PROJECT_ID}/budget`, status: 200 });
    const otherCompany = new ProcoreClient({ ...standIn.clientOptions(), companyId: standIn.companyId + 1 });
    await expect(otherCompany.getBudgetLock(SAMPLE_PROJECT_ID)).rejects.toMatchObject({
      status: 403,
      procoreMessage: 'You do not have access to this company',
    });
  });

  it('reads the project', async () => {
    const project = await procore.getProject(SAMPLE_PROJECT_ID);
    expect(project).toMatchObject({
      id: SAMPLE_PROJECT_ID,
      name: 'Riverside Medical Office Building',
      project_number: '26-101',
      active: true,
      origin_id: null,
      company: { id: standIn.companyId, name: standIn.company.name },
    });
    expect(standIn.requests.at(-1)?.query).toEqual({ company_id: String(standIn.companyId) });
  });

  it('reads the budget view and every line: view columns by display name, amounts as text', async () => {
    const views = await procore.listBudgetViews(SAMPLE_PROJECT_ID);
    expect(views).toEqual([expect.objectContaining({ id: SAMPLE_BUDGET_VIEW_ID, name: 'Procore Standard Budget' })]);

    const rows = await procore.listDetailRows(SAMPLE_BUDGET_VIEW_ID, SAMPLE_PROJECT_ID);
    expect(rows).toHaveLength(SAMPLE_BUDGET_LINES.length);
    expect(rows[0]).toMatchObject({
      cost_code: '01-100 - General Conditions',
      category: 'Labor',
      original_budget_amount: '412500.00',
      budget_modifications: '0.00',
      'Approved COs': '0.00',
      'Revised Budget': '412500.00',
    });
    expect(rows[0]).not.toHaveProperty('revised_budget');
    const original = rows.reduce((total, row) => total + parseMoney(row.original_budget_amount as string).cents, 0n);
    const expected = SAMPLE_BUDGET_LINES.reduce((total, line) => total + parseMoney(line.originalBudget).cents, 0n);
    expect(formatMoney(original)).toBe(formatMoney(expected));
    // The lighting line carries three decimals; parseMoney reports the rounding.
    const lighting = rows.find((row) => row.cost_code === '26-500 - Lighting' && row.category === 'Material');
    expect(parseMoney(lighting?.original_budget_amount as string)).toEqual({ cents: 22648013n, rounded: true });
  });

  it('reads one budget line item: amounts as text with one decimal, no creator', async () => {
    const [line] = standIn.budgetLines(SAMPLE_PROJECT_ID).filter((l) => l.approved_budget_changes !== '0.00');
    const item = await procore.getBudgetLineItem(line.id, SAMPLE_PROJECT_ID);
    expect(item).toMatchObject({
      id: line.id,
      original_budget_amount: '158730.4',
      approved_budget_changes: '4200.0',
      revised_budget: '162930.4',
      cost_code: { id: line.cost_code_id, full_code: line.cost_code.split(' - ')[0] },
      line_item_type: { id: line.category_id, name: line.category },
    });
    expect(item).not.toHaveProperty('created_by');
    expect(item).not.toHaveProperty('created_at');
  });

  it('reads cost codes, line item types, budget changes and users', async () => {
    const costCodes = await procore.listCostCodes(SAMPLE_PROJECT_ID);
    expect(costCodes.map((code) => code.full_code)).toContain('23-300');
    expect(costCodes.find((code) => code.full_code === '01-100')).toMatchObject({ code: '100', name: 'General Conditions' });

    const types = await procore.listLineItemTypes();
    expect(types.map((type) => type.code)).toEqual(['L', 'M', 'S', 'E', 'O']);

    const changes = await procore.listBudgetChanges(SAMPLE_PROJECT_ID);
    expect(changes.map((change) => [change.status, change.erp_status])).toEqual([
      ['approved', 'not_in_erp'],
      ['draft', 'not_in_erp'],
    ]);

    const users = await procore.listCompanyUsers();
    expect(users.map((user) => [user.email_address, user.is_active, user.erp_integrated_accountant])).toEqual([
      [SAMPLE_USERS.projectManager.email, true, false],
      [SAMPLE_USERS.accountant.email, true, true],
      [SAMPLE_USERS.formerSuperintendent.email, false, false],
    ]);
  });

  it('locks and unlocks; repeating either is not an error', async () => {
    expect(await procore.getBudgetLock(SAMPLE_PROJECT_ID)).toEqual({ locked: false });
    expect(await procore.lockBudget(SAMPLE_PROJECT_ID)).toEqual({ locked: true, changed: true });
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(true);
    expect(await procore.lockBudget(SAMPLE_PROJECT_ID)).toEqual({ locked: true, changed: false });
    expect(await procore.unlockBudget(SAMPLE_PROJECT_ID)).toEqual({ locked: false, changed: true });
    expect(await procore.unlockBudget(SAMPLE_PROJECT_ID)).toEqual({ locked: false, changed: false });
    expect(standIn.isLocked(SAMPLE_PROJECT_ID)).toBe(false);
    expect(standIn.countRequests({ method: 'DELETE', status: 422 })).toBe(1);
    // Every unlock keeps the budget's modifications.
    expect(standIn.unlockRequests.map((u) => u.destroyAllBudgetLineItemTransfers)).toEqual(['false', 'false']);
  });

  it('unlocking an unknown project is still an error', async () => {
    await expect(procore.unlockBudget(4242)).rejects.toMatchObject({ status: 404 });
    await expect(procore.unlockBudget(4242)).rejects.toBeInstanceOf(ProcoreApiError);
  });

  it('registers a webhook hook and its triggers (v2.0, ids as text)', async () => {
    const hook = await procore.createWebhookHook({
      namespace: 'erp-connector',
      destinationUrl: 'https://connector.example/webhooks/procore',
      authorizationHeader: 'Bearer hook-secret',
    });
    expect(hook).toMatchObject({ namespace: 'erp-connector', payload_version: 'v2' });
    expect(typeof hook.id).toBe('string');
    expect(standIn.hooks()[0].destination_headers).toEqual({ Authorization: 'Bearer hook-secret' });

    // A company-level hook: the sandbox offers Projects there, not the budget resources.
    const trigger = await procore.createWebhookTrigger(hook.id, { resourceName: 'Projects', eventType: 'create' });
    expect(trigger).toMatchObject({ resource_name: 'Projects', event_type: 'CREATED' });
    await procore.createWebhookTrigger(hook.id, { resourceName: 'Projects', eventType: 'update' });

    expect(await procore.listWebhookHooks('erp-connector')).toEqual([expect.objectContaining({ id: hook.id })]);
    expect(await procore.listWebhookHooks('someone-else')).toEqual([]);
    expect((await procore.listWebhookTriggers(hook.id)).map((t) => [t.resource_name, t.event_type])).toEqual([
      ['Projects', 'CREATED'],
      ['Projects', 'UPDATED'],
    ]);
    // A duplicate trigger is refused by Procore with its reason.
    await expect(procore.createWebhookTrigger(hook.id, { resourceName: 'Projects', eventType: 'update' })).rejects.toThrow(
      /422 Unprocessable Entity: resource_name has already been taken/,
    );
  });

  it('counts requests by kind', async () => {
    const counted = new ProcoreClient({ ...standIn.clientOptions(), perPage: 10 });
    await counted.listDetailRows(SAMPLE_BUDGET_VIEW_ID, SAMPLE_PROJECT_ID);
    await counted.getProject(SAMPLE_PROJECT_ID);
    expect(counted.stats).toEqual({
      requests: 1 + 4 + 1,
      byKind: { token: 1, detailRowPages: 4, other: 1 },
      rateLimited: 0,
      retries: 0,
      reauthentications: 0,
      rateLimitWaitMs: 0,
    });
    counted.resetStats();
    expect(counted.stats.requests).toBe(0);
  });
});
