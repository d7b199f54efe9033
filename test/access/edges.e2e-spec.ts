import { API_CSP, DOCS_CSP, HTML_REPORT_CSP } from '../../src/security/security-headers';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser } from '../support/factories';
import { api, request } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { ConsoleClient } from '../console/console-kit';

const expectHardened = (headers: Headers, csp: string, what: string) => {
  expect({ what, nosniff: headers.get('x-content-type-options'), frame: headers.get('x-frame-options'), csp: headers.get('content-security-policy') }).toEqual({
    what,
    nosniff: 'nosniff',
    frame: 'DENY',
    csp,
  });
  expect(headers.get('x-powered-by')).toBeNull();
  expect(headers.get('referrer-policy')).toBe('no-referrer');
};

describe('hardened edges', () => {
  describe('security headers on every response', () => {
    let t: TestApp;
    beforeAll(async () => {
      await resetDatabase();
      await resetRedis();
      t = await startTestApp();
    });
    afterAll(() => t?.close());

    it('the API — answers, errors, a refused body, an unknown route, the webhook, health — carries them with a strict CSP', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true });
      const submission = await createSubmission(t.em());
      const responses = {
        ok: await api(t.url, token).get('/api/v1/budgets'),
        unauthorized: await api(t.url).get('/api/v1/budgets'),
        notFound: await api(t.url, token).get('/api/v1/nowhere'),
        badId: await api(t.url, token).get('/api/v1/budgets/abc'),
        tooLarge: await request(t.url, 'POST', `/api/v1/budgets/${submission.id}/reject`, { token, body: { reason: 'x'.repeat(200_000) } }),
        badJson: await request(t.url, 'POST', `/api/v1/budgets/${submission.id}/reject`, { token, rawBody: '{' }),
        webhook: await request(t.url, 'POST', '/webhooks/procore', { body: {}, headers: { authorization: 'wrong' } }),
        health: await request(t.url, 'GET', '/health'),
      };
      expect(Object.fromEntries(Object.entries(responses).map(([name, res]) => [name, res.status]))).toEqual({
        ok: 200,
        unauthorized: 401,
        notFound: 404,
        badId: 400,
        tooLarge: 413,
        badJson: 400,
        webhook: 401,
        health: 200,
      });
      for (const [name, res] of Object.entries(responses)) expectHardened(res.headers, API_CSP, name);
    });

    it('the docs UI gets a CSP that lets it load its own scripts and styles; nothing else', async () => {
      const page = await fetch(`${t.url}/api/docs`);
      expect(page.status).toBe(200);
      expectHardened(page.headers, DOCS_CSP, 'docs');
      const html = await page.text();
      // Everything it loads is its own (the CSP allows 'self' scripts only).
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/src="\.\//);
        expect(body.trim()).toBe('');
      }
      const script = await fetch(`${t.url}/api/docs/swagger-ui-init.js`);
      expect(script.status).toBe(200);
      expectHardened(script.headers, DOCS_CSP, 'docs script');
      expect(DOCS_CSP).toMatch(/script-src 'self';/);
      expect(DOCS_CSP).toMatch(/frame-ancestors 'none'/);
    });

    it('the printable reconciliation report gets a CSP without scripts', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
      const submission = await createSubmission(t.em(), { status: 'synced' });
      await sql(
        `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, explanation, rows)
         values ($1, now(), 'synced', 'ABC', '26-101', 'Spectrum matches the exported budget', '[]')`,
        [submission.id],
      );
      const res = await fetch(`${t.url}/api/v1/budgets/${submission.id}/reconciliation?format=html`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expectHardened(res.headers, HTML_REPORT_CSP, 'report');
      expect(HTML_REPORT_CSP).not.toMatch(/script-src/);
      expect(HTML_REPORT_CSP).toMatch(/^default-src 'none'/);
    });
  });

  describe('rate limits', () => {
    let t: TestApp;
    beforeAll(async () => {
      await resetDatabase();
      t = await startTestApp({ env: { RATE_LIMIT_AUTH_FAILURES: '3', RATE_LIMIT_FAN_OUT: '2', TRUST_PROXY: 'loopback' } });
    });
    afterAll(() => t?.close());
    const from = (address: string) => ({ 'x-forwarded-for': address });

    it('failed authentication: after the limit the client waits (429 with Retry-After), even with a good token; others are not affected', async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
      const attacker = from('203.0.113.5');
      for (const bad of ['psc_guess-1', 'psc_guess-2', 'psc_guess-3']) {
        expect((await request(t.url, 'GET', '/api/v1/budgets', { token: bad, headers: attacker })).status).toBe(401);
      }
      const tipped = await request(t.url, 'GET', '/api/v1/budgets', { token: 'psc_guess-4', headers: attacker });
      expect(tipped.status).toBe(429);
      expect(tipped.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/Too many failed authentications.*at most 3 a minute/) });
      expect(Number(tipped.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(tipped.headers.get('x-content-type-options')).toBe('nosniff');
      const meanwhile = await request(t.url, 'GET', '/api/v1/budgets', { token, headers: attacker });
      expect(meanwhile.status).toBe(429);
      expect((await request(t.url, 'GET', '/api/v1/budgets', { token, headers: from('198.51.100.7') })).status).toBe(200);
      // Successful requests do not count.
      for (let i = 0; i < 5; i++) expect((await request(t.url, 'GET', '/api/v1/budgets', { token, headers: from('198.51.100.8') })).status).toBe(200);
    });

    it('never on the Procore webhook: a wrong secret is a 401 however often', async () => {
      const statuses = [];
      for (let i = 0; i < 8; i++) {
        statuses.push((await request(t.url, 'POST', '/webhooks/procore', { body: {}, headers: { authorization: 'wrong', ...from('203.0.113.9') } })).status);
      }
      expect(statuses).toEqual(Array(8).fill(401));
    });

    it('previews and sends: at most RATE_LIMIT_FAN_OUT a minute per user, each', async () => {
      const first = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
      const second = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
      const submission = await createSubmission(t.em());
      const preview = (token: string) => api(t.url, token).get(`/api/v1/budgets/${submission.id}/preview`);
      // Spectrum is not reachable in this test: the first two get whatever the preview answers, never 429.
      for (let i = 0; i < 2; i++) expect((await preview(first.token)).status).not.toBe(429);
      const limited = await preview(first.token);
      expect(limited.status).toBe(429);
      expect(limited.body.message).toMatch(/Too many previews or sends: at most 2 a minute per user/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await preview(second.token)).status).not.toBe(429);

      const send = (token: string) => api(t.url, token).post('/api/v1/budgets', { procoreProjectId: 900001 });
      for (let i = 0; i < 2; i++) expect((await send(second.token)).status).not.toBe(429);
      expect((await send(second.token)).status).toBe(429);
      expect((await send(first.token)).status).not.toBe(429); // sends and previews are counted apart
    });
  });

  describe('failed console sign-ins', () => {
    let t: TestApp;
    beforeAll(async () => {
      await resetDatabase();
      t = await startTestApp({ env: { RATE_LIMIT_AUTH_FAILURES: '3' } });
    });
    afterAll(() => t?.close());

    it("the console's token sign-in counts as authentication too", async () => {
      const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
      const browser = new ConsoleClient(t.url);
      const statuses = [];
      for (const guess of ['psc_a', 'psc_b', 'psc_c', 'psc_d']) statuses.push((await browser.signInWithToken(guess)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const refused = await browser.signInWithToken(token);
      expect(refused.status).toBe(429);
      expect(refused.text).toMatch(/Too many failed authentications/);
      // The console's address is the same client as the API's: the API refuses it too now.
      expect((await request(t.url, 'GET', '/api/v1/budgets', { token })).status).toBe(429);
    });

  });

  describe('without TRUST_PROXY a client cannot pick its own address', () => {
    let t: TestApp;
    beforeAll(async () => {
      await resetDatabase();
      t = await startTestApp({ env: { RATE_LIMIT_AUTH_FAILURES: '2' } });
    });
    afterAll(() => t?.close());

    it('X-Forwarded-For is ignored', async () => {
      for (let i = 0; i < 2; i++) {
        expect((await request(t.url, 'GET', '/api/v1/budgets', { token: 'psc_guess', headers: { 'x-forwarded-for': `192.0.2.${i}` } })).status).toBe(401);
      }
      expect((await request(t.url, 'GET', '/api/v1/budgets', { token: 'psc_guess', headers: { 'x-forwarded-for': '192.0.2.99' } })).status).toBe(429);
    });
  });
});
