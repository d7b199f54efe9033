import { parseMoney } from '../../src/common/money';
import { ProcoreClient, ProcoreClientOptions } from '../../src/procore/client/procore-client';
import { ProcoreDataError } from '../../src/procore/client/procore-errors';
import { ProcoreStandIn, generateBudgetLines } from '../stand-ins/procore';

describe('ProcoreClient paging (real HTTP against the Procore stand-in)', () => {
  const standIn = new ProcoreStandIn();
  const projectId = 1001;
  const viewId = 2001;

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(() => {
    standIn.reset();
    standIn.addProject({ id: projectId, name: 'Paging', project_number: '26-900', budgetViewId: viewId });
  });

  const client = (options: Partial<ProcoreClientOptions> = {}) =>
    new ProcoreClient({ ...standIn.clientOptions(), baseDelayMs: 5, maxDelayMs: 40, ...options });

  it.each([
    { lines: 2345, perPage: 500, pages: 5 },
    { lines: 1000, perPage: 250, pages: 4 },
    { lines: 7, perPage: 1000, pages: 1 },
    { lines: 0, perPage: 100, pages: 1 },
  ])('collects $lines lines exactly once with $pages page request(s) of $perPage', async ({ lines, perPage, pages }) => {
    const seeded = standIn.setBudgetLines(projectId, generateBudgetLines(lines, 7));
    const procore = client({ perPage });

    const rows = await procore.listDetailRows(viewId, projectId);

    expect(rows.map((row) => row.id)).toEqual(seeded.map((line) => line.id));
    expect(new Set(rows.map((row) => row.id)).size).toBe(lines);
    expect(standIn.detailRowPageRequests(viewId)).toBe(pages);
    expect(standIn.countRequests({ path: 'detail_rows' })).toBe(pages);
    expect(procore.stats.byKind).toEqual({ token: 1, detailRowPages: pages, other: 0 });
    // Every amount arrives intact (detail rows carry decimal text, the view's columns by display name).
    for (const [index, row] of rows.entries()) {
      expect(typeof row.original_budget_amount).toBe('string');
      expect(parseMoney(row.original_budget_amount as string).cents).toBe(parseMoney(seeded[index].original_budget_amount).cents);
      expect(parseMoney(row['Revised Budget'] as string).cents).toBe(parseMoney(seeded[index].revised_budget).cents);
    }
  });

  it.each([
    { lines: 250, headers: { link: false, total: false }, requests: 3, why: 'no Link, no Total: a short page ends it' },
    { lines: 200, headers: { link: false, total: false }, requests: 3, why: 'no Link, no Total: an empty page ends it' },
    { lines: 250, headers: { link: false, total: false, perPage: false }, requests: 3, why: 'no Per-Page either: the requested size counts' },
    { lines: 200, headers: { link: false }, requests: 2, why: 'no Link: Total ends it' },
  ])('without paging headers ($why) every line is read once, in $requests requests', async ({ lines, headers, requests }) => {
    const seeded = standIn.setBudgetLines(projectId, generateBudgetLines(lines, 13));
    standIn.setPagingHeaders(headers);
    const rows = await client({ perPage: 100 }).listDetailRows(viewId, projectId);
    expect(rows.map((row) => row.id)).toEqual(seeded.map((line) => line.id));
    expect(standIn.detailRowPageRequests(viewId)).toBe(requests);
  });

  it('yields pages with their number, size and Total', async () => {
    standIn.setBudgetLines(projectId, generateBudgetLines(25, 3));
    const pages = [];
    for await (const page of client({ perPage: 10 }).detailRowPages(viewId, projectId)) {
      pages.push({ page: page.page, count: page.items.length, perPage: page.perPage, total: page.total });
    }
    expect(pages).toEqual([
      { page: 1, count: 10, perPage: 10, total: 25 },
      { page: 2, count: 10, perPage: 10, total: 25 },
      { page: 3, count: 5, perPage: 10, total: 25 },
    ]);
  });

  it('honours the page size Procore applies when it caps per_page', async () => {
    const capped = new ProcoreStandIn({ maxPerPage: 100 });
    await capped.start();
    try {
      capped.addProject({ id: projectId, name: 'Capped', budgetViewId: viewId });
      capped.setBudgetLines(projectId, generateBudgetLines(250, 5));
      const procore = new ProcoreClient({ ...capped.clientOptions(), perPage: 1000 });
      const rows = await procore.listDetailRows(viewId, projectId);
      expect(rows).toHaveLength(250);
      expect(capped.detailRowPageRequests()).toBe(3);
    } finally {
      await capped.stop();
    }
  });

  it('passes cost code and category filters', async () => {
    const seeded = standIn.setBudgetLines(projectId, generateBudgetLines(60, 11));
    const costCodeId = seeded[0].cost_code_id;
    const rows = await client().listDetailRows(viewId, projectId, { costCodeIds: [costCodeId] });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.cost_code_id === costCodeId)).toBe(true);
    expect(standIn.requests.at(-1)?.query['cost_code_id[]']).toEqual([String(costCodeId)]);
  });

  it('refuses a read during which the budget changed (a line vanished between pages)', async () => {
    const seeded = standIn.setBudgetLines(projectId, generateBudgetLines(30, 2));
    const procore = client({ perPage: 10 });
    // Page 2 is held; meanwhile a line of page 1 is deleted, shifting page 2's first line onto page 1.
    standIn.delayNext(1, 150, { path: 'detail_rows', skip: 1 });
    const reading = procore.listDetailRows(viewId, projectId);
    setTimeout(() => standIn.removeBudgetLine(seeded[0].id), 50);
    await expect(reading).rejects.toThrow(ProcoreDataError);
    await expect(reading).rejects.toThrow(/changed while it was read/);
  });

  it('pages every other list too (cost codes, users, projects)', async () => {
    standIn.setBudgetLines(projectId, generateBudgetLines(120, 4));
    for (let i = 0; i < 23; i += 1) standIn.addUser({ name: `User ${i}`, email: `user${i}@x.example` });
    for (let i = 0; i < 12; i += 1) standIn.addProject({ name: `Project ${i}`, active: i % 3 !== 0 });
    const procore = client({ perPage: 5 });

    const costCodes = await procore.listCostCodes(projectId);
    expect(costCodes).toHaveLength(standIn.costCodesOf(projectId).length);
    expect(await procore.listCompanyUsers()).toHaveLength(23);
    const active = await procore.listProjects();
    expect(active).toHaveLength(1 + 8);
    expect(active.every((project) => project.active)).toBe(true);
    expect(await procore.listProjects({ includeInactive: true })).toHaveLength(13);
    expect(standIn.countRequests({ path: '/rest/v1.3/companies/8/users' })).toBe(5);
  });
});
