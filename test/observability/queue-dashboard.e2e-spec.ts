import { resetDatabase } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { request } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { ConsoleClient } from '../console/console-kit';

/** Bull Board at /admin/queues: admins only (API token or console session), read-only, its assets allowed by the CSP. */
describe('queue dashboard', () => {
  let t: TestApp;
  let admin: UserWithToken;
  let standard: UserWithToken;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
    admin = await createUser(t.em(), { erpPermission: 'admin' });
    standard = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 401 to anyone anonymous and 403 to a user who is not an admin', async () => {
    expect((await request(t.url, 'GET', '/admin/queues')).status).toBe(401);
    expect((await request(t.url, 'GET', '/admin/queues/api/queues')).status).toBe(401);
    expect((await request(t.url, 'GET', '/admin/queues', { token: `${admin.token}x` })).status).toBe(401);
    const refused = await request(t.url, 'GET', '/admin/queues', { token: standard.token });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'The queue dashboard needs ERP permission admin' });
    const console = new ConsoleClient(t.url);
    expect((await console.signInWithToken(standard.token)).status).toBe(303);
    expect((await console.get('/admin/queues')).status).toBe(403);
  });

  it('shows every queue to an admin API token, with a CSP that lets its own scripts and styles load', async () => {
    const page = await request(t.url, 'GET', '/admin/queues', { token: admin.token });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)![1];
    const asset = await request(t.url, 'GET', `/admin/queues/${script}`, { token: admin.token });
    expect(asset.status).toBe(200);
    const api = await request(t.url, 'GET', '/admin/queues/api/queues', { token: admin.token });
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['export', 'ingestion', 'maintenance', 'notifications', 'procore', 'reconciliation']);
    expect(api.body.queues.every((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toBe(true);
  });

  it('shows them to an admin signed in to the console, and refuses every change', async () => {
    const console = new ConsoleClient(t.url);
    expect((await console.signInWithToken(admin.token)).status).toBe(303);
    expect((await console.get('/admin/queues')).status).toBe(200);
    expect((await console.get('/admin/queues/api/queues')).status).toBe(200);
    const change = await request(t.url, 'PUT', '/admin/queues/api/queues/export/retry/failed', { token: admin.token });
    expect(change.status).toBe(405);
  });
});
