import { Client } from 'pg';
import { resetDatabase, resetRedis } from '../support/database';
import { createSubmission, createUser, LineSpec, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { databaseUrl } from '../support/test-env';

/**
 * 2,500 lines on 1,250 rows (two lines per row: phase 10000 + ⌊i/4⌋, cost type L then M), with
 * problems beyond the first page: rows 1,200 and 1,201 (one problem, shown once) and line 2,400,
 * which maps to nothing.
 */
function bigBudget(): LineSpec[] {
  return Array.from({ length: 2500 }, (_, index) => {
    const phase = String(10000 + Math.floor(index / 4));
    const costType = Math.floor(index / 2) % 2 ? 'M' : 'L';
    if (index === 2399) {
      return { costCode: '24-000', category: 'Labor', phase: null, costType: null, original: BigInt(100 + index), problems: ['Line 2400 (24-000 Labor): cost code maps to no Spectrum phase'] };
    }
    const problems = index === 2400 || index === 2402 ? ['Phase 10600 is Complete in Spectrum'] : [];
    return { costCode: phase, category: costType === 'L' ? 'Labor' : 'Material', phase, costType, original: BigInt(100 + index), problems };
  });
}

const PROBLEMS = ['Phase 10600 is Complete in Spectrum', 'Line 2400 (24-000 Labor): cost code maps to no Spectrum phase'];

describe('budget details: lines and rows a page at a time', () => {
  let t: TestApp;
  let viewer: UserWithToken;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await resetDatabase();
    viewer = await createUser(t.em(), { erpPermission: 'read_only' });
  });

  it('a 2,500-line budget: 1,000 lines and rows per page; totals and problems cover the whole budget', async () => {
    const submission = await createSubmission(t.em(), { lines: bigBudget() });
    const first = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ linesTotal: 2500, linesPage: 1, linesPerPage: 1000, rowsTotal: 1250, rowsPage: 1, rowsPerPage: 1000 });
    expect(first.body.lines).toHaveLength(1000);
    expect(first.body.rows).toHaveLength(1000);
    expect(first.body.lines[0]).toMatchObject({ costCode: '10000', originalBudget: '1.00' });
    const expectedTotal = Array.from({ length: 2500 }, (_, i) => 100 + i).reduce((a, b) => a + b, 0);
    expect(first.body.totals.originalBudget).toBe((expectedTotal / 100).toFixed(2));
    // Problems from beyond the first page, each once, in line order.
    expect(first.body.problems).toEqual(PROBLEMS);

    const third = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}?linesPage=3&rowsPage=2&rowsPerPage=200`);
    expect(third.body.lines).toHaveLength(500);
    expect(third.body.lines[0].costCode).toBe(String(10000 + 500));
    expect(third.body.rows).toHaveLength(200);
    expect(third.body.rows[0].phase).toBe(String(10000 + 100));
    expect(third.body).toMatchObject({ linesPage: 3, rowsPage: 2, rowsPerPage: 200, totals: first.body.totals, problems: first.body.problems });
    const beyond = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}?linesPage=4`);
    expect(beyond.body).toMatchObject({ lines: [], linesTotal: 2500 });
  });

  it('/lines and /rows page the same data on their own', async () => {
    const submission = await createSubmission(t.em(), { lines: bigBudget() });
    const details = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}?linesPage=2&rowsPage=2`);
    const lines = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}/lines?page=2`);
    expect(lines.status).toBe(200);
    expect(lines.body).toEqual({ data: details.body.lines, page: 2, perPage: 1000, total: 2500 });
    const rows = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}/rows?page=2`);
    expect(rows.body).toEqual({ data: details.body.rows, page: 2, perPage: 1000, total: 1250 });
    const few = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}/lines?page=7&perPage=3`);
    expect(few.body.data.map((line: { originalBudget: string }) => line.originalBudget)).toEqual(['1.18', '1.19', '1.20']);
  });

  it('a budget under 1,000 lines looks as before: every line and row, with their totals', async () => {
    const submission = await createSubmission(t.em());
    const res = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}`);
    expect(res.body.lines).toHaveLength(2);
    expect(res.body.rows).toHaveLength(2);
    expect(res.body).toMatchObject({ linesTotal: 2, rowsTotal: 2, problems: [], history: [] });
    expect(Object.keys(res.body)).toEqual(
      expect.arrayContaining(['id', 'status', 'procoreProjectId', 'projectName', 'job', 'sentBy', 'createdBy', 'sentAt', 'decidedBy', 'decidedAt', 'rejectionReason', 'totals', 'lines', 'rows', 'history', 'problems']),
    );
  });

  it('bad paging → 400; an unknown budget → 404', async () => {
    const submission = await createSubmission(t.em());
    for (const query of ['linesPage=0', 'linesPerPage=1001', 'rowsPerPage=0', 'rowsPage=abc', 'linesPerPage=1.5', 'page=2']) {
      const res = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
    for (const path of ['lines?perPage=1001', 'rows?page=0', 'lines?linesPage=2']) {
      const res = await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}/${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
    expect((await api(t.url, viewer.token).get('/api/v1/budgets/999999/lines')).status).toBe(404);
    expect((await api(t.url, viewer.token).get('/api/v1/budgets/999999/rows')).status).toBe(404);
    const none = await createUser(t.em(), { erpPermission: 'none' });
    expect((await api(t.url, none.token).get(`/api/v1/budgets/${submission.id}/lines`)).status).toBe(403);
  });

  it('accept is refused for a problem beyond the first page', async () => {
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const submission = await createSubmission(t.em(), { lines: bigBudget() });
    const res = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/accept`);
    expect(res.status).toBe(409);
    expect(res.body.problems).toEqual(PROBLEMS);
  });

  describe('the hot queries are served by indexes, without sorting', () => {
    it.each([
      ['the list', `select * from submission order by created_at desc, id desc limit 50 offset 0`, 'submission_created_at_id_index'],
      ['the list of one project', `select * from submission where procore_project_id = 1001 order by created_at desc, id desc limit 50`, 'submission_procore_project_id_created_at_id_index'],
      ['the list by status', `select * from submission where status = 'ready_to_export' order by created_at desc, id desc limit 50`, 'submission_status_created_at_id_index'],
      ['a page of lines', `select * from submission_line where submission_id = 1 order by position asc limit 1000 offset 1000`, 'submission_line_submission_id_position_index'],
      ['a page of rows', `select * from submission_row where submission_id = 1 order by position asc limit 1000 offset 1000`, 'submission_row_submission_id_position_index'],
      ['flagged rows', `select problems from submission_row where submission_id = 1 and jsonb_array_length(problems) > 0`, 'submission_row_flagged'],
      ['flagged lines', `select problems from submission_line where submission_id = 1 and jsonb_array_length(problems) > 0 and row_id is null`, 'submission_line_flagged'],
    ])('%s', async (_name, query, index) => {
      const text = await explainWithoutSeqScan(query);
      expect(text).toContain(index);
      expect(text).not.toMatch(/^\s*(->\s*)?Sort\b/m);
    });

    it('flagged lines and rows are known to be rare (expression statistics), so the problems query is planned for a few rows', async () => {
      const submission = await createSubmission(t.em(), { lines: bigBudget() });
      const client = new Client({ connectionString: databaseUrl() });
      await client.connect();
      try {
        await client.query('analyze submission_row, submission_line');
        for (const table of ['submission_row', 'submission_line']) {
          const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
            `explain (format json) select 1 from ${table} where submission_id = $1 and jsonb_array_length(problems) > 0`,
            [submission.id],
          );
          // 3 flagged lines, 2 flagged rows: PostgreSQL's guess without the statistics is a third of the table.
          expect({ table, estimate: rows[0]['QUERY PLAN'][0].Plan['Plan Rows'] < 50 }).toEqual({ table, estimate: true });
        }
      } finally {
        await client.end();
      }
    });

    it('the history (a handful of events, sorted after the index scan)', async () => {
      const text = await explainWithoutSeqScan(`select * from audit_event where submission_id = 1 order by created_at asc, id asc`);
      expect(text).toContain('audit_event_submission_id_created_at_index');
    });
  });
});

/** EXPLAIN with sequential scans off: shows whether an index can serve the query, whatever the table's size. */
async function explainWithoutSeqScan(query: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query('set enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain ${query}`);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.end();
  }
}
