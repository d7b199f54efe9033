import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api, request } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

describe('approval gate over HTTP', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await resetDatabase();
  });

  describe('permission matrix', () => {
    const deciding = ['accept', 'reject', 'retry', 'unlock'] as const;
    const body = (action: string) => (action === 'reject' ? { reason: 'Wrong totals' } : undefined);

    it.each([
      ['read_only', true],
      ['read_only', false],
      ['standard', false],
      ['admin', false],
    ] as const)('%s with canPushToAccounting=%s gets 403 on accept/reject/retry/unlock', async (erpPermission, canPush) => {
      const { token } = await createUser(t.em(), { erpPermission, canPushToAccounting: canPush });
      for (const action of deciding) {
        const submission = await createSubmission(t.em());
        const res = await api(t.url, token).post(`/api/v1/budgets/${submission.id}/${action}`, body(action));
        expect({ action, status: res.status }).toEqual({ action, status: 403 });
        expect(res.body.message).toMatch(/Can Push to Accounting/);
      }
      const [{ count }] = await sql<{ count: string }>(`select count(*) from submission where status <> 'ready_to_export'`);
      expect(count).toBe('0');
    });

    it.each([['standard'], ['admin']] as const)('%s with canPushToAccounting is allowed (never 401/403)', async (erpPermission) => {
      const { token } = await createUser(t.em(), { erpPermission, canPushToAccounting: true });
      for (const action of deciding) {
        const submission = await createSubmission(t.em());
        const res = await api(t.url, token).post(`/api/v1/budgets/${submission.id}/${action}`, body(action));
        expect([401, 403]).not.toContain(res.status);
        // accept and reject are valid from ready_to_export; retry and unlock are a wrong state.
        const expected = { accept: 202, reject: 200, retry: 409, unlock: 409 }[action];
        expect({ action, status: res.status }).toEqual({ action, status: expected });
      }
    });

    it.each([['standard'], ['admin']] as const)(
      'a deactivated %s approver with canPushToAccounting gets 401 on accept/reject/retry/unlock; nothing changes',
      async (erpPermission) => {
        const { token: adminToken } = await createUser(t.em(), { erpPermission: 'admin' });
        const { user, token } = await createUser(t.em(), { erpPermission, canPushToAccounting: true });
        expect((await api(t.url, adminToken).patch(`/api/v1/users/${user.id}`, { active: false })).status).toBe(200);
        for (const action of deciding) {
          const submission = await createSubmission(t.em(), { status: action === 'retry' ? 'failed_to_export' : action === 'unlock' ? 'synced' : 'ready_to_export' });
          const res = await api(t.url, token).post(`/api/v1/budgets/${submission.id}/${action}`, body(action));
          expect({ action, status: res.status }).toEqual({ action, status: 401 });
        }
        expect(await sql(`select status, decided_by_id, unlocked_at from submission order by id`)).toEqual([
          { status: 'ready_to_export', decided_by_id: null, unlocked_at: null },
          { status: 'ready_to_export', decided_by_id: null, unlocked_at: null },
          { status: 'failed_to_export', decided_by_id: null, unlocked_at: null },
          { status: 'synced', decided_by_id: null, unlocked_at: null },
        ]);
        expect(await sql(`select * from pending_work`)).toEqual([]);
        expect(await sql(`select action from audit_event where submission_id is not null`)).toEqual([]);
      },
    );

    it('read_only can view the list and the details', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
      const submission = await createSubmission(t.em());
      expect((await api(t.url, token).get('/api/v1/budgets')).status).toBe(200);
      expect((await api(t.url, token).get(`/api/v1/budgets/${submission.id}`)).status).toBe(200);
    });

    it('a user with permission none cannot view', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'none' });
      expect((await api(t.url, token).get('/api/v1/budgets')).status).toBe(403);
    });

    it('no token or a bad token → 401', async () => {
      const submission = await createSubmission(t.em());
      for (const token of [undefined, 'psc_not-a-real-token']) {
        for (const path of ['/api/v1/budgets', `/api/v1/budgets/${submission.id}`]) {
          expect((await api(t.url, token).get(path)).status).toBe(401);
        }
        expect((await api(t.url, token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(401);
      }
      const malformed = await request(t.url, 'GET', '/api/v1/budgets', { headers: { authorization: 'Basic abc' } });
      expect(malformed.status).toBe(401);
      expect(malformed.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/Bearer/) });
    });

    it('only admins manage users and tokens', async () => {
      const { token: standard } = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
      const { token: admin } = await createUser(t.em(), { erpPermission: 'admin' });
      const newUser = { email: 'new.approver@example.com', name: 'New Approver', erpPermission: 'standard', canPushToAccounting: true };
      expect((await api(t.url, standard).post('/api/v1/users', newUser)).status).toBe(403);
      expect((await api(t.url, standard).get('/api/v1/users')).status).toBe(403);
      const created = await api(t.url, admin).post('/api/v1/users', newUser);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), email: 'new.approver@example.com', subscribedToDigest: true });
      expect((await api(t.url, standard).post(`/api/v1/users/${created.body.id}/tokens`, {})).status).toBe(403);
      const tokenRes = await api(t.url, admin).post(`/api/v1/users/${created.body.id}/tokens`, {});
      expect(tokenRes.status).toBe(201);
      const me = await api(t.url, tokenRes.body.token).get('/api/v1/users/me');
      expect(me.body.email).toBe('new.approver@example.com');
      expect((await api(t.url, admin).post('/api/v1/users', newUser)).status).toBe(409);
    });

    it('a user can turn off their own daily summary but change nothing else', async () => {
      const { user, token } = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
      const ok = await api(t.url, token).patch(`/api/v1/users/${user.id}`, { subscribedToDigest: false });
      expect(ok.status).toBe(200);
      expect(ok.body.subscribedToDigest).toBe(false);
      expect((await api(t.url, token).patch(`/api/v1/users/${user.id}`, { erpPermission: 'admin' })).status).toBe(403);
      const other = await createUser(t.em(), { erpPermission: 'read_only' });
      expect((await api(t.url, token).patch(`/api/v1/users/${other.user.id}`, { subscribedToDigest: false })).status).toBe(403);
    });
  });

  describe('accept', () => {
    it('20 concurrent accepts → one 202, nineteen 409, one pending export, one audit event', async () => {
      const approvers: UserWithToken[] = [];
      for (let i = 0; i < 4; i++) approvers.push(await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true }));
      const submission = await createSubmission(t.em());
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => api(t.url, approvers[i % 4].token).post(`/api/v1/budgets/${submission.id}/accept`)),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      expect(results.find((r) => r.status === 202)!.body).toEqual({ id: submission.id, status: 'exporting' });
      for (const refused of results.filter((r) => r.status === 409)) {
        expect(refused.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringMatching(/exporting/) });
      }
      const work = await sql(`select job_name, payload, state from pending_work`);
      expect(work).toEqual([{ job_name: 'export-submission', payload: { submissionId: submission.id }, state: 'pending' }]);
      const events = await sql(`select action, from_status, to_status, actor_id from audit_event where submission_id = $1`, [submission.id]);
      expect(events).toEqual([{ action: 'accept', from_status: 'ready_to_export', to_status: 'exporting', actor_id: expect.any(String) }]);
      const [row] = await sql(`select status, decided_by_id, decided_at from submission where id = $1`, [submission.id]);
      expect(row).toMatchObject({ status: 'exporting', decided_by_id: events[0].actor_id, decided_at: expect.any(Date) });
    });

    it('a submission with flagged rows cannot be accepted: 409 with the reasons', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true });
      const submission = await createSubmission(t.em(), {
        lines: [
          { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1000n },
          { costCode: '02-200', category: 'Widgets', phase: '02200', costType: null, original: 500n, problems: ['Line 2 (02-200 Widgets): category "Widgets" maps to no Spectrum cost type'] },
        ],
      });
      const res = await api(t.url, token).post(`/api/v1/budgets/${submission.id}/accept`);
      expect(res.status).toBe(409);
      expect(res.body.message).toMatch(/category "Widgets" maps to no Spectrum cost type/);
      expect(res.body.problems).toEqual(['Line 2 (02-200 Widgets): category "Widgets" maps to no Spectrum cost type']);
      expect(await sql(`select status from submission`)).toEqual([{ status: 'ready_to_export' }]);
      expect(await sql(`select * from pending_work`)).toEqual([]);
    });
  });

  describe('reject', () => {
    let approver: UserWithToken;
    beforeEach(async () => {
      approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    });

    it.each([
      ['missing', {}],
      ['blank', { reason: '' }],
      ['whitespace', { reason: '   \n\t ' }],
      ['not text', { reason: 42 }],
      ['too long', { reason: 'x'.repeat(2001) }],
    ])('%s reason → 400 and nothing changes', async (_label, payload) => {
      const submission = await createSubmission(t.em());
      const res = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/reject`, payload);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/reason/) });
      expect(await sql(`select status, rejection_reason from submission`)).toEqual([{ status: 'ready_to_export', rejection_reason: null }]);
      expect(await sql(`select * from audit_event where submission_id is not null`)).toEqual([]);
      expect(await sql(`select * from pending_work`)).toEqual([]);
    });

    it('a valid reason → rejected with the reason and the actor recorded; the unlock is recorded', async () => {
      const submission = await createSubmission(t.em());
      const reason = '  Phase 03-300 is double counted; please fix and resend.  ';
      const res = await api(t.url, approver.token).post(`/api/v1/budgets/${submission.id}/reject`, { reason });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: submission.id, status: 'rejected', rejectionReason: reason.trim() });
      const [row] = await sql(`select status, rejection_reason, decided_by_id from submission where id = $1`, [submission.id]);
      expect(row).toEqual({ status: 'rejected', rejection_reason: reason.trim(), decided_by_id: approver.user.id });
      const [event] = await sql(`select action, actor_id, from_status, to_status, note from audit_event where submission_id = $1`, [submission.id]);
      expect(event).toEqual({ action: 'reject', actor_id: approver.user.id, from_status: 'ready_to_export', to_status: 'rejected', note: reason.trim() });
      expect(await sql(`select job_name, state from pending_work`)).toEqual([{ job_name: 'unlock-budget', state: 'pending' }]);
      const details = await api(t.url, approver.token).get(`/api/v1/budgets/${submission.id}`);
      expect(details.body).toMatchObject({
        status: 'rejected',
        rejectionReason: reason.trim(),
        decidedBy: { id: approver.user.id, name: approver.user.name, email: approver.user.email },
      });
      expect(details.body.history).toEqual([expect.objectContaining({ action: 'reject', from: 'ready_to_export', to: 'rejected' })]);
    });
  });

  describe('bad input never causes a 5xx', () => {
    let token: string;
    let id: string;
    beforeEach(async () => {
      token = (await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true })).token;
      id = (await createSubmission(t.em())).id;
    });

    it('unknown id → 404, malformed id → 400', async () => {
      const unknown = await api(t.url, token).get('/api/v1/budgets/999999');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Budget submission 999999 does not exist' });
      expect((await api(t.url, token).post('/api/v1/budgets/999999/accept')).status).toBe(404);
      expect((await api(t.url, token).post('/api/v1/budgets/999999/reject', { reason: 'x' })).status).toBe(404);
      for (const bad of ['abc', '-1', '0', '1.5', '99999999999999999999999', "1'%20or%201=1"]) {
        const res = await api(t.url, token).get(`/api/v1/budgets/${bad}`);
        expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
      }
    });

    it('unknown body field → 400 naming it; nothing changes', async () => {
      const res = await api(t.url, token).post(`/api/v1/budgets/${id}/reject`, { reason: 'ok', approve: true });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/approve is not a known field/);
      expect(await sql(`select status from submission`)).toEqual([{ status: 'ready_to_export' }]);
    });

    it('malformed JSON → 400', async () => {
      const res = await request(t.url, 'POST', `/api/v1/budgets/${id}/reject`, { token, rawBody: '{"reason": "unterminated' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'The request body is not valid JSON' });
    });

    it('a 1 MB body → 413', async () => {
      const res = await request(t.url, 'POST', `/api/v1/budgets/${id}/reject`, { token, body: { reason: 'x'.repeat(1024 * 1024) } });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(await sql(`select status from submission`)).toEqual([{ status: 'ready_to_export' }]);
    });

    it('a JSON array, a string or null as body → 400', async () => {
      for (const rawBody of ['[]', '"reason"', 'null', '[{"reason":"x"}]']) {
        const res = await request(t.url, 'POST', `/api/v1/budgets/${id}/reject`, { token, rawBody });
        expect({ rawBody, status: res.status }).toEqual({ rawBody, status: 400 });
      }
    });

    it('text with a NUL character or JSON nested too deeply → 400; nothing changes', async () => {
      const nul = await api(t.url, token).post(`/api/v1/budgets/${id}/reject`, { reason: 'wrong\u0000totals' });
      expect(nul.status).toBe(400);
      expect(nul.body.message).toMatch(/NUL character/);
      const deep = `{"reason":"ok","deep":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
      const nested = await request(t.url, 'POST', `/api/v1/budgets/${id}/reject`, { token, rawBody: deep });
      expect(nested.status).toBe(400);
      expect(nested.body.message).toMatch(/nested deeper than 32 levels/);
      const arrays = await request(t.url, 'POST', `/api/v1/budgets/${id}/reject`, { token, rawBody: '['.repeat(40000) + ']'.repeat(40000) });
      expect(arrays.status).toBe(400);
      const user = await api(t.url, token).post('/api/v1/users', { email: 'n@example.com', name: 'Nul\u0000Name', erpPermission: 'read_only', canPushToAccounting: false });
      expect(user.status).toBe(400);
      expect(await sql(`select status from submission`)).toEqual([{ status: 'ready_to_export' }]);
    });

    it('null for a user field → 400, never stored', async () => {
      const { user } = await createUser(t.em(), { erpPermission: 'read_only', email: 'keep.me@example.com' });
      for (const body of [{ email: null }, { name: null }, { erpPermission: null }, { subscribedToDigest: null }, { active: null }]) {
        const res = await api(t.url, token).patch(`/api/v1/users/${user.id}`, body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      const self = await api(t.url, token).patch('/api/v1/users/me', { subscribedToDigest: null });
      expect(self.status).toBe(400);
      expect(await sql(`select email, name, erp_permission from app_user where id = $1`, [user.id])).toEqual([
        { email: 'keep.me@example.com', name: user.name, erp_permission: 'read_only' },
      ]);
    });

    it('bad list filters → 400', async () => {
      for (const query of ['status=nope', 'page=0', 'page=abc', 'perPage=501', 'perPage=1.5', 'procoreProjectId=x', 'extra=1']) {
        const res = await api(t.url, token).get(`/api/v1/budgets?${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
      }
    });
  });

  describe('work is never lost between a decision and its queue job', () => {
    it('a retry while the previous export job is still finishing records new export work', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
      const submission = await createSubmission(t.em());
      expect((await api(t.url, token).post(`/api/v1/budgets/${submission.id}/accept`)).status).toBe(202);
      // The exporter has committed failed_to_export but not yet marked its own work done.
      await sql(`update submission set status = 'failed_to_export' where id = $1`, [submission.id]);
      expect((await api(t.url, token).post(`/api/v1/budgets/${submission.id}/retry`)).status).toBe(202);
      const work = await sql(`select job_name, state from pending_work where job_name = 'export-submission' order by id`);
      expect(work).toEqual([
        { job_name: 'export-submission', state: 'pending' },
        { job_name: 'export-submission', state: 'pending' },
      ]);
    });

    it('with Redis unreachable a decision still answers at once; its work waits in PostgreSQL', async () => {
      const offline = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1/0' } });
      try {
        const { token } = await createUser(offline.em(), { erpPermission: 'standard', canPushToAccounting: true });
        const submission = await createSubmission(offline.em());
        const started = Date.now();
        const res = await api(offline.url, token).post(`/api/v1/budgets/${submission.id}/reject`, { reason: 'Wrong totals' });
        expect(res.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(await sql(`select job_name, state, enqueued_at from pending_work`)).toEqual([
          { job_name: 'unlock-budget', state: 'pending', enqueued_at: null },
        ]);
        const health = await request(offline.url, 'GET', '/health');
        expect(health.status).toBe(503);
        expect(health.body.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'down' } });
      } finally {
        await offline.close();
      }
    });
  });

  describe('list and details', () => {
    it('filters by status, pages newest first, and shows money as two-decimal strings', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await createSubmission(t.em(), { status: i % 2 ? 'synced' : 'ready_to_export' }));
      const page1 = await api(t.url, token).get('/api/v1/budgets?status=ready_to_export&perPage=2');
      expect(page1.body).toMatchObject({ page: 1, perPage: 2, total: 3 });
      expect(page1.body.data.map((s: { id: string }) => s.id)).toEqual([created[4].id, created[2].id]);
      const page2 = await api(t.url, token).get('/api/v1/budgets?status=ready_to_export&perPage=2&page=2');
      expect(page2.body.data.map((s: { id: string }) => s.id)).toEqual([created[0].id]);
      const details = await api(t.url, token).get(`/api/v1/budgets/${created[0].id}`);
      expect(details.body.totals).toEqual({ originalBudget: '100015.43', budgetChanges: '25.50', revisedEstimate: '100040.93' });
      expect(details.body.lines[0]).toMatchObject({
        costCode: '01-100',
        category: 'Labor',
        originalBudget: '1250.00',
        budgetChanges: '25.50',
        revisedEstimate: '1275.50',
        phase: '01100',
        costType: 'L',
        problems: [],
      });
      expect(details.body.rows).toHaveLength(2);
      expect(details.body.rows[1]).toMatchObject({ job: '26-101', phase: '03300', costType: 'M', revisedEstimate: '98765.43', exportState: 'pending', error: null });
    });
  });

  describe('tokens', () => {
    it('are stored only as hashes', async () => {
      const { user, token } = await createUser(t.em(), { erpPermission: 'admin' });
      const rows = await sql<{ token_hash: string; token_prefix: string }>(`select * from api_token where user_id = $1`, [user.id]);
      expect(rows).toHaveLength(1);
      const everything = JSON.stringify(await sql(`select * from api_token`));
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.slice(12));
      expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(token.startsWith(rows[0].token_prefix)).toBe(true);
      expect(rows[0].token_prefix.length).toBeLessThan(12);
    });
  });

  it('serves the OpenAPI document and the health check without a token', async () => {
    const docs = await request(t.url, 'GET', '/api/docs/openapi.json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/budgets', '/api/v1/budgets/{id}/accept', '/api/v1/users']));
    const ui = await fetch(`${t.url}/api/docs`);
    expect(ui.status).toBe(200);
    const health = await request(t.url, 'GET', '/health');
    expect(health.body).toMatchObject({ status: 'ok', error: {}, details: { database: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' } } });
  });
});
