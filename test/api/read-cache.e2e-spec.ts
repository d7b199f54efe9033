import { Client } from 'pg';
import { MetricsService } from '../../src/observability/metrics.service';
import { ReadChanges } from '../../src/database/read-changes';
import { resetDatabase, resetRedis } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { databaseUrl } from '../support/test-env';
import { waitFor } from '../support/wait';

/**
 * The API's read cache (src/budgets/api/read-cache.ts) answers the list and the details from
 * memory, and never stale: every change below is committed by another connection (as a worker
 * would) and the very next request must show it — no waiting, many times over.
 */
describe('API read cache: list and details from memory, never stale', () => {
  let t: TestApp;
  let viewer: UserWithToken;
  let db: Client;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
    db = new Client({ connectionString: databaseUrl() });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });
  beforeEach(async () => {
    await resetDatabase();
    viewer = await createUser(t.em(), { erpPermission: 'read_only', name: 'Vera Viewer' });
  });

  const cacheCount = async (result: 'hit' | 'miss' | 'bypass') => {
    const metric = await t.get(MetricsService).readCacheRequests.get();
    return metric.values.find((value) => value.labels.result === result)?.value ?? 0;
  };
  const cacheOn = () => waitFor(async () => (await api(t.url, viewer.token).get('/api/v1/budgets')).status === 200 && t.get(ReadChanges).live, 'the read cache listening');

  it('a row written by another process shows in the next details answer, every time; unchanged answers come from memory', async () => {
    const submission = await createSubmission(t.em());
    await cacheOn();
    const path = `/api/v1/budgets/${submission.id}`;
    const hitsBefore = await cacheCount('hit');
    for (let round = 0; round < 25; round++) {
      const state = round % 2 ? 'pending' : 'written';
      await db.query(`update submission_row set export_state = $1 where submission_id = $2`, [state, submission.id]);
      const first = await api(t.url, viewer.token).get(path);
      expect(first.status).toBe(200);
      expect(first.body.rows.map((row: { exportState: string }) => row.exportState)).toEqual([state, state]);
      const again = await api(t.url, viewer.token).get(path);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(first.headers.get('etag')).toMatch(/^W\/"/);
    }
    // The second read of each round is answered from memory.
    expect((await cacheCount('hit')) - hitsBefore).toBeGreaterThanOrEqual(25);
  });

  it('an update of what rows show drops only the rows pages holding them; a problem, a new row or a move drops every page', async () => {
    const submission = await createSubmission(t.em());
    await cacheOn();
    const page = (n: number) => api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}?rowsPerPage=1&rowsPage=${n}`);
    const positions = (await db.query(`select id, position from submission_row where submission_id = $1 order by position`, [submission.id])).rows;
    expect(positions).toHaveLength(2);
    const [first, second] = positions as Array<{ id: string; position: number }>;
    const both = async () => {
      const [one, two] = [await page(1), await page(2)];
      return { one: one.body, two: two.body };
    };
    await both();
    for (let round = 0; round < 10; round++) {
      const state = round % 2 ? 'pending' : 'written';
      // As the export's ledger does: a few rows' outcomes, by id.
      await db.query(`update submission_row set export_state = $1 where id = $2`, [state, second.id]);
      const hits = await cacheCount('hit');
      const { one, two } = await both();
      expect(two.rows[0].exportState).toBe(state);
      expect(one.rows[0].exportState).toBe('pending');
      expect((await cacheCount('hit')) - hits).toBe(1); // page 1 from memory, page 2 read again
    }

    await db.query(`update submission_row set problems = '["Spectrum has no such phase"]'::jsonb where id = $1`, [second.id]);
    expect((await page(1)).body.problems).toContain('Spectrum has no such phase');
    await db.query(`update submission_row set position = $1 where id = $2`, [first.position, second.id]);
    await db.query(`update submission_row set position = $1 where id = $2`, [second.position, first.id]);
    expect((await page(1)).body.rows[0].problems).toEqual(['Spectrum has no such phase']);
    await db.query(
      `insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget, revised_estimate, line_count, problems, export_state, export_attempts)
       values ($1, -1, 'J', 'P', 'L', 'Inserted first', 0, 0, 0, '[]', 'pending', 0)`,
      [submission.id],
    );
    const afterInsert = (await page(1)).body;
    expect(afterInsert.rows[0].description).toBe('Inserted first');
    expect(afterInsert.rowsTotal).toBe(3);
  });

  it('the list follows submissions (status, name) and users (names); a change to rows leaves it cached', async () => {
    const submission = await createSubmission(t.em(), { sentBy: viewer.user });
    await cacheOn();
    const list = () => api(t.url, viewer.token).get('/api/v1/budgets');
    for (let round = 0; round < 10; round++) {
      await db.query(`update submission set project_name = $1 where id = $2`, [`Renamed ${round}`, submission.id]);
      expect((await list()).body.data[0].projectName).toBe(`Renamed ${round}`);
    }
    await db.query(`update app_user set name = 'Vera Renamed' where id = $1`, [viewer.user.id]);
    expect((await list()).body.data[0].sentBy.name).toBe('Vera Renamed');
    expect((await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}`)).body.sentBy.name).toBe('Vera Renamed');

    await list();
    const hits = await cacheCount('hit');
    await db.query(`update submission_row set export_state = 'written' where submission_id = $1`, [submission.id]);
    await list();
    expect(await cacheCount('hit')).toBe(hits + 1);
  });

  it('history, a deleted budget and a truncate are followed too', async () => {
    const submission = await createSubmission(t.em());
    await cacheOn();
    const path = `/api/v1/budgets/${submission.id}`;
    const before = (await api(t.url, viewer.token).get(path)).body.history.length;
    await db.query(`insert into audit_event (submission_id, actor_label, action, note, created_at) values ($1, 'system', 'noted', 'from a worker', now())`, [submission.id]);
    expect((await api(t.url, viewer.token).get(path)).body.history).toHaveLength(before + 1);
    await db.query(`truncate submission, submission_line, submission_row, audit_event cascade`);
    expect((await api(t.url, viewer.token).get(path)).status).toBe(404);
    expect((await api(t.url, viewer.token).get('/api/v1/budgets')).body.total).toBe(0);
  });

  it('while changes cannot be heard it reads PostgreSQL; once they can again, it caches again', async () => {
    const submission = await createSubmission(t.em());
    await cacheOn();
    const path = `/api/v1/budgets/${submission.id}`;
    await api(t.url, viewer.token).get(path);
    await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'connector-read-changes' and datname = current_database()`);
    await waitFor(() => !t.get(ReadChanges).live, 'the listener to notice');
    const bypassed = await cacheCount('bypass');
    await db.query(`update submission_row set export_state = 'failed' where submission_id = $1`, [submission.id]);
    const meanwhile = await api(t.url, viewer.token).get(path);
    expect(meanwhile.body.rows[0].exportState).toBe('failed');
    expect(await cacheCount('bypass')).toBeGreaterThan(bypassed);

    await waitFor(() => t.get(ReadChanges).live, 'the listener back');
    await api(t.url, viewer.token).get(path);
    const hits = await cacheCount('hit');
    expect((await api(t.url, viewer.token).get(path)).body.rows[0].exportState).toBe('failed');
    expect(await cacheCount('hit')).toBe(hits + 1);
  });

  // Bearer tokens are kept in memory too: a change applies at the very next request.
  it('revoked, expired, deactivated, demoted: each refused at once, many times over', async () => {
    for (let round = 0; round < 5; round++) {
      const someone = await createUser(t.em(), { erpPermission: 'read_only' });
      const list = () => api(t.url, someone.token).get('/api/v1/budgets');
      await waitFor(async () => (await list()).status === 200 && t.get(ReadChanges).live, 'the token accepted and changes heard');
      expect((await list()).status).toBe(200);
      const [change, expected] = [
        [`update api_token set revoked_at = now() where user_id = $1`, 401],
        [`update api_token set expires_at = now() where user_id = $1`, 401],
        [`update app_user set active = false where id = $1`, 401],
        [`update app_user set erp_permission = 'none' where id = $1`, 403],
        [`delete from api_token where user_id = $1`, 401],
      ][round] as [string, number];
      await db.query(change, [someone.user.id]);
      expect({ change, status: (await list()).status }).toEqual({ change, status: expected });
    }
  });
});

describe('API read cache off (READ_CACHE_MB=0)', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp({ env: { READ_CACHE_MB: '0' } });
  });
  afterAll(() => t?.close());

  it('reads PostgreSQL every time and never opens the listening connection', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const submission = await createSubmission(t.em());
    for (let i = 0; i < 3; i++) expect((await api(t.url, viewer.token).get(`/api/v1/budgets/${submission.id}`)).status).toBe(200);
    const values = (await t.get(MetricsService).readCacheRequests.get()).values;
    expect(values.find((value) => value.labels.result === 'hit')?.value ?? 0).toBe(0);
    expect(t.get(ReadChanges).live).toBe(false);
  });
});
