import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api, request } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { databaseUrl } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The real CLI (src/cli.ts) in a child process, against this worker's database. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'cli.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), DATABASE_URL: databaseUrl() },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const lastLine = (text: string) => text.trim().split('\n').pop()!;

describe('access: token lifecycle, audit trail, the last admin', () => {
  let t: TestApp;
  let admin: UserWithToken;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await resetDatabase();
    admin = await createUser(t.em(), { erpPermission: 'admin', email: 'admin@example.com' });
  });

  describe('tokens', () => {
    it('are listed with prefix, creation, last use and expiry — never the token or its hash', async () => {
      const { user, token } = await createUser(t.em(), { erpPermission: 'read_only' });
      const issued = await api(t.url, admin.token).post(`/api/v1/users/${user.id}/tokens`, { label: 'reporting', expiresInDays: 30 });
      expect(issued.status).toBe(201);
      expect(issued.body).toMatchObject({ token: expect.stringMatching(/^psc_/), id: expect.any(String), label: 'reporting', state: 'active' });
      const days = (Date.parse(issued.body.expiresAt) - Date.parse(issued.body.createdAt)) / 86_400_000;
      expect(days).toBe(30);
      expect((await api(t.url, token).get('/api/v1/budgets')).status).toBe(200); // sets lastUsedAt

      const listed = await api(t.url, token).get(`/api/v1/users/${user.id}/tokens`); // a user sees their own
      expect(listed.status).toBe(200);
      expect(listed.body.data).toHaveLength(2);
      const [newest, first] = listed.body.data;
      expect(newest).toEqual({
        id: issued.body.id,
        prefix: issued.body.token.slice(0, 10),
        label: 'reporting',
        state: 'active',
        createdAt: issued.body.createdAt,
        lastUsedAt: null,
        expiresAt: issued.body.expiresAt,
        revokedAt: null,
      });
      expect(first).toMatchObject({ state: 'active', expiresAt: null, lastUsedAt: expect.any(String) });
      const text = JSON.stringify(listed.body);
      expect(text).not.toContain(token);
      expect(text).not.toContain(issued.body.token);
      expect(text).not.toMatch(/[0-9a-f]{64}/);
      // Someone else's tokens: only admins.
      const other = await createUser(t.em(), { erpPermission: 'standard' });
      expect((await api(t.url, other.token).get(`/api/v1/users/${user.id}/tokens`)).status).toBe(403);
      expect((await api(t.url, admin.token).get(`/api/v1/users/${user.id}/tokens`)).status).toBe(200);
    });

    it('a revoked token answers 401 at once; a user may revoke their own, not another\'s', async () => {
      const { user, token } = await createUser(t.em(), { erpPermission: 'standard' });
      const second = (await api(t.url, admin.token).post(`/api/v1/users/${user.id}/tokens`, {})).body;
      const [own] = (await api(t.url, token).get(`/api/v1/users/${user.id}/tokens`)).body.data.filter((x: { id: string }) => x.id !== second.id);
      const other = await createUser(t.em(), { erpPermission: 'standard' });

      expect((await request(t.url, 'DELETE', `/api/v1/users/${user.id}/tokens/${second.id}`, { token: other.token })).status).toBe(403);
      expect((await request(t.url, 'DELETE', `/api/v1/users/${other.user.id}/tokens/${second.id}`, { token: admin.token })).status).toBe(404);
      expect((await request(t.url, 'DELETE', `/api/v1/users/${user.id}/tokens/abc`, { token: admin.token })).status).toBe(400);
      expect((await api(t.url, second.token).get('/api/v1/users/me')).status).toBe(200);

      const byAdmin = await request(t.url, 'DELETE', `/api/v1/users/${user.id}/tokens/${second.id}`, { token: admin.token });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body).toMatchObject({ id: second.id, state: 'revoked', revokedAt: expect.any(String) });
      expect((await api(t.url, second.token).get('/api/v1/users/me')).status).toBe(401);

      const bySelf = await request(t.url, 'DELETE', `/api/v1/users/${user.id}/tokens/${own.id}`, { token });
      expect(bySelf.status).toBe(200);
      expect((await api(t.url, token).get('/api/v1/users/me')).status).toBe(401);
      // Revoking again changes nothing.
      const again = await request(t.url, 'DELETE', `/api/v1/users/${user.id}/tokens/${second.id}`, { token: admin.token });
      expect(again.body.revokedAt).toBe(byAdmin.body.revokedAt);
      expect(await sql(`select count(*)::int as count from audit_event where action = 'token.revoke'`)).toEqual([{ count: 2 }]);
    });

    it('an expired token answers 401 at once; expiresInDays is checked', async () => {
      const { user } = await createUser(t.em(), { erpPermission: 'read_only' });
      for (const expiresInDays of [0, -1, 1.5, 3651, '7']) {
        const res = await api(t.url, admin.token).post(`/api/v1/users/${user.id}/tokens`, { expiresInDays });
        expect({ expiresInDays, status: res.status }).toEqual({ expiresInDays, status: 400 });
      }
      const issued = (await api(t.url, admin.token).post(`/api/v1/users/${user.id}/tokens`, { expiresInDays: 1 })).body;
      expect((await api(t.url, issued.token).get('/api/v1/budgets')).status).toBe(200);
      await sql(`update api_token set expires_at = now() - interval '1 second' where id = $1`, [issued.id]);
      const refused = await api(t.url, issued.token).get('/api/v1/budgets');
      expect(refused.status).toBe(401);
      expect(refused.body.message).toMatch(/expired/);
      const [listed] = (await api(t.url, admin.token).get(`/api/v1/users/${user.id}/tokens`)).body.data;
      expect(listed).toMatchObject({ id: issued.id, state: 'expired' });
    });

    it('is not issued for a deactivated user', async () => {
      const { user } = await createUser(t.em(), { erpPermission: 'read_only' });
      expect((await api(t.url, admin.token).patch(`/api/v1/users/${user.id}`, { active: false })).status).toBe(200);
      const res = await api(t.url, admin.token).post(`/api/v1/users/${user.id}/tokens`, {});
      expect(res.status).toBe(409);
      expect(res.body.message).toMatch(/deactivated/);
    });
  });

  describe('the CLI', () => {
    it('issues a token for an existing user (alone on the last line) and revokes it', async () => {
      const { user } = await createUser(t.em(), { erpPermission: 'standard', email: 'cli.user@example.com' });
      const issued = await cli('tokens:create', '--user', 'CLI.User@example.com', '--label', 'build server', '--expires-in-days', '7');
      expect(issued.code).toBe(0);
      const token = lastLine(issued.stdout);
      expect(token).toMatch(/^psc_[A-Za-z0-9_-]{43}$/);
      expect((await api(t.url, token).get('/api/v1/users/me')).body).toMatchObject({ id: user.id });

      const [row] = await sql<{ id: string; expires_at: Date; label: string }>(`select id, expires_at, label from api_token where label = 'build server'`);
      expect(Math.round((row.expires_at.getTime() - Date.now()) / 86_400_000)).toBe(7);
      const listed = await cli('tokens:list', '--user', user.id);
      expect(listed.stdout).toContain(`${row.id}\t${token.slice(0, 10)}…\tactive`);
      expect(listed.stdout).not.toContain(token);

      const revoked = await cli('tokens:revoke', '--user', user.id, '--id', row.id);
      expect(revoked.code).toBe(0);
      expect((await api(t.url, token).get('/api/v1/users/me')).status).toBe(401);
      const events = await sql(`select actor_label, action, subject from audit_event where action like 'token.%' and data->>'tokenId' = $1 order by id`, [row.id]);
      expect(events).toEqual([
        { actor_label: 'cli', action: 'token.create', subject: `user:${user.id}` },
        { actor_label: 'cli', action: 'token.revoke', subject: `user:${user.id}` },
      ]);
    });

    it('refuses bad arguments and unknown users, changing nothing', async () => {
      const results = await Promise.all([
        cli('tokens:create', '--user', 'nobody@example.com'),
        cli('tokens:create', '--user', admin.user.id, '--expires-in-days', '0'),
        cli('tokens:revoke', '--user', admin.user.id, '--id', '999999'),
      ]);
      expect(results.map((result) => result.code)).toEqual([1, 2, 1]);
      expect(results[0].stderr).toContain('User nobody@example.com does not exist');
      expect(results[1].stderr).toContain('--expires-in-days must be a whole number of days from 1 to 3650');
      expect(results[2].stderr).toContain(`User ${admin.user.id} has no token 999999`);
      expect(await sql(`select count(*)::int as count from api_token`)).toEqual([{ count: 1 }]);
    });
  });

  describe('the audit trail', () => {
    it('records every user and token change, readable by admins by subject, newest first and paged', async () => {
      const created = await api(t.url, admin.token).post('/api/v1/users', { email: 'ana@example.com', name: 'Ana', erpPermission: 'read_only', canPushToAccounting: false });
      const id = created.body.id;
      await api(t.url, admin.token).patch(`/api/v1/users/${id}`, { erpPermission: 'standard', canPushToAccounting: true });
      const token = (await api(t.url, admin.token).post(`/api/v1/users/${id}/tokens`, { label: 'laptop' })).body;
      await request(t.url, 'DELETE', `/api/v1/users/${id}/tokens/${token.id}`, { token: admin.token });
      await api(t.url, admin.token).patch(`/api/v1/users/${id}`, { active: false });

      const res = await api(t.url, admin.token).get(`/api/v1/audit-events?subject=user:${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ page: 1, perPage: 50, total: 5 });
      expect(res.body.data.map((event: { action: string }) => event.action)).toEqual(['user.deactivate', 'token.revoke', 'token.create', 'user.update', 'user.create']);
      expect(res.body.data[3]).toMatchObject({
        subject: `user:${id}`,
        actor: { id: admin.user.id, name: admin.user.name, email: admin.user.email },
        data: { userId: id, changes: { erpPermission: { from: 'read_only', to: 'standard' }, canPushToAccounting: { from: false, to: true } } },
      });
      expect(JSON.stringify(res.body)).not.toContain(token.token);

      const page2 = await api(t.url, admin.token).get(`/api/v1/audit-events?subject=user:${id}&perPage=2&page=2`);
      expect(page2.body.data.map((event: { action: string }) => event.action)).toEqual(['token.create', 'user.update']);
      const byToken = await api(t.url, admin.token).get(`/api/v1/audit-events?subject=token:${token.id}`);
      expect(byToken.body.data.map((event: { action: string }) => event.action)).toEqual(['token.revoke', 'token.create']);
    });

    it('is for admins only; a bad subject is a 400', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
      expect((await api(t.url, token).get('/api/v1/audit-events')).status).toBe(403);
      for (const subject of ['user', 'user:0', 'user:abc', 'group:1', "user:1' or 1=1"]) {
        const res = await api(t.url, admin.token).get(`/api/v1/audit-events?subject=${encodeURIComponent(subject)}`);
        expect({ subject, status: res.status }).toEqual({ subject, status: 400 });
      }
    });
  });

  describe('the last active admin', () => {
    it('cannot be demoted or deactivated: 409 with the reason', async () => {
      for (const change of [{ erpPermission: 'standard' }, { active: false }, { erpPermission: 'none', active: false }]) {
        const res = await api(t.url, admin.token).patch(`/api/v1/users/${admin.user.id}`, change);
        expect(res.status).toBe(409);
        expect(res.body.message).toMatch(/last active admin/);
      }
      expect(await sql(`select erp_permission, active from app_user where id = $1`, [admin.user.id])).toEqual([{ erp_permission: 'admin', active: true }]);
      // With a second active admin, either may go.
      const second = await createUser(t.em(), { erpPermission: 'admin' });
      expect((await api(t.url, second.token).patch(`/api/v1/users/${admin.user.id}`, { erpPermission: 'standard' })).status).toBe(200);
      expect((await api(t.url, second.token).patch(`/api/v1/users/${second.user.id}`, { active: false })).status).toBe(409);
    });

    it('two admins demoting each other at once: exactly one succeeds', async () => {
      const second = await createUser(t.em(), { erpPermission: 'admin' });
      const results = await Promise.all([
        api(t.url, admin.token).patch(`/api/v1/users/${second.user.id}`, { erpPermission: 'read_only' }),
        api(t.url, second.token).patch(`/api/v1/users/${admin.user.id}`, { erpPermission: 'read_only' }),
      ]);
      expect(results.map((res) => res.status).sort()).toEqual([200, 409]);
      expect(await sql(`select count(*)::int as count from app_user where erp_permission = 'admin' and active`)).toEqual([{ count: 1 }]);
    });
  });
});
