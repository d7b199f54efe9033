import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { HTML_REPORT_CSP } from '../../src/security/security-headers';
import { SYSTEM } from '../../src/audit/actor';
import { RecordSnapshot } from '../../src/budgets/use-cases/record-snapshot';
import { mapBudget } from '../../src/procore/mapping/budget-mapping';
import { EMPTY_MAPPING } from '../../src/procore/mapping/mapping-file';
import { resetSpectrum, spectrumEnv, startSpectrum } from '../export/export-kit';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { ConsoleClient } from './console-kit';

/**
 * The console over plain HTTP: sign-in with a token, sessions (expiry, deactivation, revocation,
 * sign-out), CSRF on every state change, redirects back after sign-in, and actions through the
 * same permission checks as the API.
 */
describe('approver console over HTTP', () => {
  let t: TestApp;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(() => resetDatabase());

  it('/ and /console lead to the budgets awaiting acceptance', async () => {
    const client = new ConsoleClient(t.url);
    expect((await client.get('/')).location).toBe('/console');
    expect((await client.get('/console')).location).toBe('/console/budgets?status=ready_to_export');
  });

  it('an unsigned visitor is sent to sign-in and, after signing in with a token, back to the page', async () => {
    const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
    const submission = await createSubmission(t.em());
    const client = new ConsoleClient(t.url);
    const first = await client.get(`/console/budgets/${submission.id}`);
    expect(first.status).toBe(303);
    expect(first.location).toBe(`/console/sign-in?next=%2Fconsole%2Fbudgets%2F${submission.id}`);
    const signedIn = await client.signInWithToken(token, `/console/budgets/${submission.id}`);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe(`/console/budgets/${submission.id}`);
    const cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith('connector_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/); // PUBLIC_URL is http here
    const page = await client.get(`/console/budgets/${submission.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(submission.projectName);
    // Money as people read it: 98,765.43 (from 9876543 cents).
    expect(page.text).toContain('98,765.43');
  });

  it('console pages load only their own assets and cannot be framed', async () => {
    const page = await new ConsoleClient(t.url).get('/console/sign-in');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).not.toMatch(/<script>|style="|https?:\/\/(?!connector\.test)/);
    const css = await new ConsoleClient(t.url).get('/console/assets/console.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.text).not.toMatch(/url\(|@import/);
  });

  it('never sends a visitor to another site after sign-in', async () => {
    const { token } = await createUser(t.em(), { erpPermission: 'read_only' });
    for (const next of ['https://evil.example/', '//evil.example/console', '/console\\@evil', '/api/v1/budgets']) {
      const client = new ConsoleClient(t.url);
      expect((await client.signInWithToken(token, next)).location).toBe('/console/budgets');
    }
  });

  it('refuses a wrong or revoked token, a user without permission, and a sign-in form from elsewhere', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const none = await createUser(t.em(), { erpPermission: 'none' });
    const client = new ConsoleClient(t.url);
    expect((await client.signInWithToken('psc_wrong')).status).toBe(401);
    expect((await client.signInWithToken(none.token)).status).toBe(403);
    await sql(`update api_token set revoked_at = now() where user_id = $1`, [viewer.user.id]);
    expect((await client.signInWithToken(viewer.token)).status).toBe(401);
    // Login CSRF: a form posted without the sign-in page's value is refused.
    const other = await createUser(t.em(), { erpPermission: 'read_only' });
    const fresh = new ConsoleClient(t.url);
    const forged = await fresh.post('/console/sign-in/token', { token: other.token, _signin: 'guess' });
    expect(forged.status).toBe(403);
    const [{ count }] = await sql<{ count: string }>(`select count(*) from console_session`);
    expect(count).toBe('0');
  });

  it('refuses a state change without the CSRF token, and changes nothing', async () => {
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const submission = await createSubmission(t.em());
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(approver.token);
    const missing = await client.post(`/console/budgets/${submission.id}/accept`, {});
    expect(missing.status).toBe(403);
    expect(missing.text).toContain('did not come from the console');
    const wrong = await client.post(`/console/budgets/${submission.id}/accept`, { _csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    const [row] = await sql<{ status: string }>(`select status from submission where id = $1`, [submission.id]);
    expect(row.status).toBe('ready_to_export');
    // With it, the same request goes through the state machine.
    const csrf = await client.csrf(`/console/budgets/${submission.id}`);
    const ok = await client.post(`/console/budgets/${submission.id}/accept`, { _csrf: csrf });
    expect(ok.status).toBe(303);
    const [after] = await sql<{ status: string; decided_by_id: string }>(`select status, decided_by_id from submission where id = $1`, [submission.id]);
    expect(after).toEqual({ status: 'exporting', decided_by_id: approver.user.id });
  });

  it('a read_only user is offered no action, and a forged action is refused as by the API', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const submission = await createSubmission(t.em());
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const page = await client.get(`/console/budgets/${submission.id}`);
    expect(page.text).not.toMatch(/data-dialog=/);
    expect(page.text).not.toContain(`/console/budgets/${submission.id}/accept`);
    const csrf = await client.csrf();
    await client.post(`/console/budgets/${submission.id}/accept`, { _csrf: csrf });
    const after = await client.get(`/console/budgets/${submission.id}`);
    expect(after.text).toContain('Can Push to Accounting');
    const [row] = await sql<{ status: string }>(`select status from submission where id = $1`, [submission.id]);
    expect(row.status).toBe('ready_to_export');
  });

  it('ends a session when it is idle too long, past its absolute end, its user is deactivated, or its token revoked', async () => {
    const cases: Array<[string, (userId: string) => Promise<unknown>]> = [
      ['idle', () => sql(`update console_session set last_seen_at = now() - interval '2 hours'`)],
      ['absolute', () => sql(`update console_session set expires_at = now() - interval '1 second'`)],
      ['deactivated', (userId) => sql(`update app_user set active = false where id = $1`, [userId])],
      ['revoked', (userId) => sql(`update api_token set revoked_at = now() where user_id = $1`, [userId])],
    ];
    for (const [what, end] of cases) {
      const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
      const client = new ConsoleClient(t.url);
      await client.signInWithToken(viewer.token);
      expect((await client.get('/console/budgets')).status).toBe(200);
      await end(viewer.user.id);
      const page = await client.get('/console/budgets?status=synced');
      expect({ what, status: page.status, location: page.location }).toEqual({
        what,
        status: 303,
        location: '/console/sign-in?next=%2Fconsole%2Fbudgets%3Fstatus%3Dsynced&reason=ended',
      });
      // The script's progress calls get a 401 that names the sign-in page.
      const json = await client.get('/console/budgets/1/progress', { accept: 'application/json' });
      expect(json.status).toBe(401);
    }
    const [{ count }] = await sql<{ count: string }>(`select count(*) from console_session`);
    expect(count).toBe('0');
  });

  it('sessions live in PostgreSQL: another instance of the API honours them', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const second = await startTestApp();
    try {
      const elsewhere = new ConsoleClient(second.url);
      for (const [name, value] of client.cookies) elsewhere.cookies.set(name, value);
      expect((await elsewhere.get('/console/budgets')).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('marks the cookie Secure, with the __Host- prefix, when PUBLIC_URL is https', async () => {
    const secure = await startTestApp({ env: { PUBLIC_URL: 'https://connector.example' } });
    try {
      const viewer = await createUser(secure.em(), { erpPermission: 'read_only' });
      const client = new ConsoleClient(secure.url);
      const signedIn = await client.signInWithToken(viewer.token);
      const cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith('__Host-connector_session='));
      expect(cookie).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    } finally {
      await secure.close();
    }
  });

  it('sign-out ends the session', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const saved = new Map(client.cookies);
    const csrf = await client.csrf();
    const out = await client.post('/console/sign-out', { _csrf: csrf });
    expect(out.location).toBe('/console/sign-in?reason=signed-out');
    // The old cookie no longer works, even if a browser kept it.
    const replay = new ConsoleClient(t.url);
    for (const [name, value] of saved) replay.cookies.set(name, value);
    expect((await replay.get('/console/budgets')).status).toBe(303);
  });

  it('reject needs a reason (the API\'s rule): blank is refused, and the reason is shown back', async () => {
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const submission = await createSubmission(t.em());
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(approver.token);
    const csrf = await client.csrf(`/console/budgets/${submission.id}`);
    await client.post(`/console/budgets/${submission.id}/reject`, { _csrf: csrf, reason: '   ' });
    const refused = await client.get(`/console/budgets/${submission.id}`);
    expect(refused.text).toContain('reason is required');
    expect((await sql(`select status from submission where id = $1`, [submission.id]))[0].status).toBe('ready_to_export');
    await client.post(`/console/budgets/${submission.id}/reject`, { _csrf: csrf, reason: 'Phase 03-300 is <double> counted' });
    const rejected = await client.get(`/console/budgets/${submission.id}`);
    expect(rejected.text).toContain('Phase 03-300 is &lt;double&gt; counted');
    expect((await sql(`select status from submission where id = $1`, [submission.id]))[0].status).toBe('rejected');
  });

  it('offers each action exactly to whom the API allows it, and performs it through the state machine', async () => {
    const admin = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true });
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const sender = await createUser(t.em(), { erpPermission: 'standard' });
    const offered = async (who: { token: string }, id: string) => {
      const client = new ConsoleClient(t.url);
      await client.signInWithToken(who.token);
      const page = await client.get(`/console/budgets/${id}`);
      return { client, actions: [...page.text.matchAll(/data-dialog="(\w+)-dialog"/g)].map((m) => m[1]) };
    };
    const ready = await createSubmission(t.em(), { sentBy: sender.user });
    // (Not remappable: this test snapshot lacks the mapping inputs; the browser suite remaps a real one.)
    expect((await offered(approver, ready.id)).actions).toEqual(['accept', 'reject']);
    expect((await offered(admin, ready.id)).actions).toEqual(['accept', 'reject', 'retrieve']);
    const bySender = await offered(sender, ready.id);
    expect(bySender.actions).toEqual(['retrieve']);
    await bySender.client.post(`/console/budgets/${ready.id}/retrieve`, { _csrf: await bySender.client.csrf(`/console/budgets/${ready.id}`) });
    expect((await sql(`select status from submission where id = $1`, [ready.id]))[0].status).toBe('retrieved');

    const remappable = await createSubmission(t.em());
    await sql(`update submission set remappable = true where id = $1`, [remappable.id]);
    expect((await offered(approver, remappable.id)).actions).toEqual(['accept', 'reject', 'remap']);
    expect((await offered(sender, remappable.id)).actions).toEqual([]);

    const outOfSync = await createSubmission(t.em(), { status: 'out_of_sync' });
    expect((await offered(approver, outOfSync.id)).actions).toEqual(['reject', 'retry']);
    const asAdmin = await offered(admin, outOfSync.id);
    expect(asAdmin.actions).toEqual(['reject', 'retry', 'acknowledge']);
    const csrf = await asAdmin.client.csrf(`/console/budgets/${outOfSync.id}`);
    await asAdmin.client.post(`/console/budgets/${outOfSync.id}/acknowledge`, { _csrf: csrf, reason: '' });
    expect((await asAdmin.client.get(`/console/budgets/${outOfSync.id}`)).text).toContain('reason is required');
    await asAdmin.client.post(`/console/budgets/${outOfSync.id}/acknowledge`, { _csrf: csrf, reason: 'Spectrum rounds 03300 M; agreed with the controller' });
    const [acknowledged] = await sql(`select status from submission where id = $1`, [outOfSync.id]);
    expect(acknowledged.status).toBe('synced');
    const [event] = await sql(`select action, note, actor_id from audit_event where submission_id = $1 order by id desc limit 1`, [outOfSync.id]);
    expect(event).toEqual({ action: 'acknowledge', note: 'Spectrum rounds 03300 M; agreed with the controller', actor_id: admin.user.id });

    // Unlock: offered once reconciliation shows Spectrum holds the amounts, never before.
    const synced = await createSubmission(t.em(), { status: 'synced' });
    expect((await offered(approver, synced.id)).actions).toEqual([]);
    await sql(
      `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total, spectrum_estimated_total, variance_count, tolerance, explanation, rows)
       values ($1, now(), 'synced', 'ABC', '26-101', 0, 0, 0, 0, 'All rows match', '[]')`,
      [synced.id],
    );
    const toUnlock = await offered(approver, synced.id);
    expect(toUnlock.actions).toEqual(['unlock']);
    await toUnlock.client.post(`/console/budgets/${synced.id}/unlock`, { _csrf: await toUnlock.client.csrf(`/console/budgets/${synced.id}`) });
    const [unlocked] = await sql(`select unlocked_by_id from submission where id = $1`, [synced.id]);
    expect(unlocked.unlocked_by_id).toBe(approver.user.id);
    expect((await offered(approver, synced.id)).actions).toEqual([]);
  });

  it('shows Spectrum\'s message on each failed row, and the reconciliation\'s variances highlighted, with downloads', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const submission = await createSubmission(t.em(), { status: 'out_of_sync' });
    await sql(
      `update submission_row set export_state = 'failed', export_error = $2::jsonb where submission_id = $1 and phase = '03300'`,
      [submission.id, JSON.stringify({ code: 'A', message: 'Cost type M is not valid for this phase', column: 'Cost_Type' })],
    );
    await sql(
      `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total, spectrum_estimated_total, variance_count, tolerance, explanation, rows)
       values ($1, now(), 'out_of_sync', 'ABC', '26-101', 99891.93, 1275.50, 1, 0, 'Spectrum does not match the exported budget on 1 row.', $2::jsonb)`,
      [
        submission.id,
        JSON.stringify([
          { job: '26-101', phase: '01100', costType: 'L', description: 'General Conditions', procoreRevised: '1275.50', spectrumEstimated: '1275.50', variance: '0.00', status: 'matched' },
          { job: '26-101', phase: '03300', costType: 'M', description: 'Cast-in-Place Concrete', procoreRevised: '98765.43', spectrumEstimated: null, variance: '-98765.43', status: 'missing_in_spectrum' },
        ]),
      ],
    );
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const page = await client.get(`/console/budgets/${submission.id}?rows=failed`);
    expect(page.text).toContain('Spectrum: [A] Cost type M is not valid for this phase (column Cost_Type)');
    expect(page.text).toContain('1–1 of 1 row');
    expect(page.text).toMatch(/<tr class="variance">(?:(?!<\/tr>)[\s\S])*Missing in Spectrum/);
    expect(page.text).not.toMatch(/<tr class="variance">(?:(?!<\/tr>)[\s\S])*01100/);
    expect(page.text).toContain('<span class="money negative">-98,765.43</span>');
    const csv = await client.get(`/console/budgets/${submission.id}/reconciliation.csv`);
    expect(csv.text.split('\r\n')[0]).toMatch(/^job,phase,costType,description,procoreRevised,spectrumEstimated,variance,status/);
    const printable = await client.get(`/console/budgets/${submission.id}/reconciliation.html`);
    expect(printable.headers.get('content-security-policy')).toBe(HTML_REPORT_CSP);
    expect(printable.text).toContain('Missing in Spectrum');
  });

  it('the Budgets list filters like Procore\'s tool, with counts, search and paging', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    for (let i = 0; i < 27; i++) await createSubmission(t.em(), { status: 'synced' });
    await createSubmission(t.em(), { status: 'ready_to_export' });
    await createSubmission(t.em(), { status: 'exported' });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const ready = await client.get('/console/budgets');
    expect(ready.text).toMatch(/Ready to Export <span class="count">1<\/span>/);
    expect(ready.text).toMatch(/Exporting <span class="count">1<\/span>/);
    expect(ready.text).toMatch(/Synced <span class="count">27<\/span>/);
    expect(ready.text).toMatch(/All <span class="count">29<\/span>/);
    const synced = await client.get('/console/budgets?status=synced&page=2');
    expect(synced.text).toContain('26–27 of 27 budgets');
    const names = [...synced.text.matchAll(/class="strong">(Test Project \d+)</g)].map((m) => m[1]);
    expect(names).toHaveLength(2);
    const search = await client.get(`/console/budgets?status=all&q=${encodeURIComponent(names[0])}`);
    expect(search.text).toContain(names[0]);
    expect(search.text).toMatch(/All <span class="count">1<\/span>/);
  });

  it('pages a 2,500-line budget: 100 lines a page, totals of the whole budget', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const lines = Array.from({ length: 2500 }, (_, i) => ({
      costCode: `01-${String(i).padStart(4, '0')}`,
      category: 'Labor',
      phase: `P${i}`,
      costType: 'L',
      original: 100n,
    }));
    const submission = await createSubmission(t.em(), { lines });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const page = await client.get(`/console/budgets/${submission.id}?linesPage=25`);
    expect(page.text).toContain('2,401–2,500 of 2,500 lines');
    expect(page.text).toContain('01-2499');
    expect(page.text).not.toContain('01-2399<');
    expect(page.text).toContain('2,500.00'); // the whole budget's total
    const csv = await client.get(`/console/budgets/${submission.id}/lines.csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows).toHaveLength(2501);
    expect(rows[2500]).toBe('01-2499,Labor,,1.00,0.00,1.00,26-101,P2499,L,,');
  });
});

describe('approver console: users and one\'s own settings', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(() => resetDatabase());

  const columns = async (id: string) =>
    (await sql(`select erp_permission, can_push_to_accounting, subscribed_to_digest, active from app_user where id = $1`, [id]))[0];
  const userEvents = (id: string) => sql(`select action, actor_id, note, data from audit_event where action like 'user.%' and action <> 'user.create' and data->>'userId' = $1 order by id`, [id]);

  it('an admin changes a user\'s permission, Can Push to Accounting and digest on the Users page; the change is audited', async () => {
    const admin = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true, name: 'Alex Admin' });
    const user = await createUser(t.em(), { erpPermission: 'read_only', canPushToAccounting: false, subscribedToDigest: true, name: 'Morgan Lee' });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(admin.token);
    const page = await client.get('/console/users');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`id="user-form-${user.user.id}"`);
    // The form as the page sends it: an unchecked box is absent.
    const saved = await client.post(`/console/users/${user.user.id}`, { _csrf: await client.csrf('/console/users'), erpPermission: 'standard', canPushToAccounting: 'on', active: 'on' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/console/users#user-${user.user.id}`);
    expect((await client.get('/console/users')).text).toContain('Saved Morgan Lee.');
    expect(await columns(user.user.id)).toEqual({ erp_permission: 'standard', can_push_to_accounting: true, subscribed_to_digest: false, active: true });
    expect(await userEvents(user.user.id)).toEqual([
      {
        action: 'user.update',
        actor_id: admin.user.id,
        note: 'erpPermission, canPushToAccounting, subscribedToDigest',
        data: {
          userId: user.user.id,
          changes: { erpPermission: { from: 'read_only', to: 'standard' }, canPushToAccounting: { from: false, to: true }, subscribedToDigest: { from: true, to: false } },
        },
      },
    ]);
  });

  it('a non-admin turns off their own digest through My settings, and is refused the Users page and changes to another user', async () => {
    const approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true, subscribedToDigest: true, name: 'Robin Reyes' });
    const other = await createUser(t.em(), { erpPermission: 'read_only', subscribedToDigest: true, name: 'Riley Reader' });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(approver.token);
    const me = await client.get('/console/me');
    expect(me.text).toMatch(/<input type="checkbox" name="subscribedToDigest" checked>/);
    const csrf = await client.csrf('/console/me');
    const off = await client.post('/console/me', { _csrf: csrf });
    expect(off.status).toBe(303);
    expect(off.location).toBe('/console/me');
    const after = await client.get('/console/me');
    expect(after.text).toContain('You will no longer receive the daily summary.');
    expect(after.text).toMatch(/<input type="checkbox" name="subscribedToDigest">/);
    expect(await columns(approver.user.id)).toEqual({ erp_permission: 'standard', can_push_to_accounting: true, subscribed_to_digest: false, active: true });
    expect(await userEvents(approver.user.id)).toEqual([
      { action: 'user.update', actor_id: approver.user.id, note: 'subscribedToDigest', data: { userId: approver.user.id, changes: { subscribedToDigest: { from: true, to: false } } } },
    ]);

    expect((await client.get('/console/users')).status).toBe(403);
    const forged = await client.post(`/console/users/${other.user.id}`, { _csrf: csrf, erpPermission: 'admin', canPushToAccounting: 'on', active: 'on' });
    expect(forged.status).toBe(403);
    const escalated = await client.post(`/console/users/${approver.user.id}`, { _csrf: csrf, erpPermission: 'admin', canPushToAccounting: 'on', active: 'on' });
    expect(escalated.status).toBe(403);
    expect(await columns(other.user.id)).toEqual({ erp_permission: 'read_only', can_push_to_accounting: false, subscribed_to_digest: true, active: true });
    expect((await columns(approver.user.id)).erp_permission).toBe('standard');
    expect(await userEvents(other.user.id)).toEqual([]);
  });
});

describe('approver console: a budget page against Spectrum (rounding, removed and changed rows)', () => {
  let t: TestApp;
  let spectrum: SpectrumStandIn;
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    spectrum = await startSpectrum();
    t = await startTestApp({ env: spectrumEnv(spectrum) });
  });
  afterAll(async () => {
    await t?.close();
    await spectrum?.stop();
  });

  /** The cells of the table rows whose class starts with `rowClass`, as text. */
  const cells = (html: string, rowClass: string) =>
    [...html.matchAll(new RegExp(`<tr class="${rowClass}[^"]*">([\\s\\S]*?)</tr>`, 'g'))].map((m) =>
      [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<span class="line-note">[\s\S]*?<\/span>/g, '').replace(/<[^>]+>/g, '').trim()),
    );

  it('shows the rounding note, a removed row set to 0.00, and a changed row\'s old and new values in the preview', async () => {
    await resetDatabase();
    resetSpectrum(spectrum);
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const PROJECT = 880001;
    // Version 1 was exported: Spectrum holds both of its rows.
    const v1 = await createSubmission(t.em(), {
      status: 'synced',
      procoreProjectId: String(PROJECT),
      lines: [
        { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1000_00n, description: 'General Conditions' },
        { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 5000_00n, description: 'Concrete' },
      ],
    });
    await sql(`update submission_row set export_state = 'written', written_at = now() where submission_id = $1`, [v1.id]);
    spectrum.setPhase({ jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General Conditions', priceMethodCode: 'J', originalEstCost: '1000.00', currentEstCost: '1000.00' });
    spectrum.setPhase({ jobNumber: '26-101', phaseCode: '03300', costType: 'M', description: 'Concrete', priceMethodCode: 'J', originalEstCost: '5000.00', currentEstCost: '5000.00' });

    // Version 2, mapped and stored as an ingestion does: 01-100 with a third decimal, 03-300 gone.
    const v2 = await createSubmission(t.em(), { status: 'ingesting', procoreProjectId: String(PROJECT), lines: [] });
    const budget = mapBudget(
      {
        project: { id: PROJECT, name: 'Rounding Street', project_number: '26-101', origin_id: null },
        lineItemTypes: [{ id: 1, name: 'Labor', code: 'L', base_type: 'labor', origin_id: null }],
        lines: [
          {
            id: 700001, cost_code_id: 30001, cost_code: '01-100 - General Conditions', cost_code_origin_id: null, category_id: 1, category: 'Labor',
            original_budget_amount: '1200.005', budget_modifications: '0.00', 'Approved COs': '0.00', 'Revised Budget': '1200.005',
          },
        ],
      },
      EMPTY_MAPPING,
    );
    await t.get(RecordSnapshot).execute({ submissionId: v2.id, budget, viewId: 1, creatorId: null, actor: SYSTEM });

    const client = new ConsoleClient(t.url);
    await client.signInWithToken(viewer.token);
    const page = await client.get(`/console/budgets/${v2.id}`);
    expect(page.status).toBe(200);
    // The rounding: said above the lines, and under the line it concerns.
    expect(page.text).toContain('<p class="note">1 line has an amount rounded to the cent (Procore sent more than two decimals); the note is under its description.</p>');
    expect(page.text).toContain('<span class="line-note">Original budget 1200.005 was rounded to 1200.01</span>');
    // The removed row, in the Spectrum rows: 0.00, and what it drops.
    expect(page.text).toContain('<span class="line-note">Removed from this version: the export sets Spectrum\'s current estimate (<span class="money">5,000.00</span>) to 0.00</span>');

    const preview = await client.get(`/console/budgets/${v2.id}/preview`, { 'x-console-fragment': '1' });
    expect(preview.status).toBe(200);
    const chips = [...preview.text.matchAll(/<li class="chip change-(\w+)"><strong>([\d,]+)<\/strong> (\w+)([^<]*(?:<span[^>]*>[^<]*<\/span>[^<]*)?)<\/li>/g)].map((m) => `${m[2]} ${m[3]}${m[4].replace(/<[^>]+>/g, '')}`);
    expect(chips).toEqual(expect.arrayContaining(['1 changed', '1 removed (drops 5,000.00)']));
    // Change, job, phase, cost type, description, in Spectrum now, after export, difference.
    expect(cells(preview.text, 'change-removed').map((row) => [row[0], row[2], row[3], row[5], row[6], row[7]])).toEqual([['removed', '03300', 'M', '5,000.00', '0.00', '-5,000.00']]);
    expect(cells(preview.text, 'change-changed').map((row) => [row[0], row[2], row[3], row[5], row[6], row[7]])).toEqual([['changed', '01100', 'L', '1,000.00', '1,200.01', '+200.01']]);
  });
});

describe('approver console: webhook deliveries kept aside (admins)', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('lists unusable deliveries with the reason for admins, and refuses others', async () => {
    const delivered = await fetch(`${t.url}/webhooks/procore`, {
      method: 'POST',
      headers: { authorization: t.config.procore.webhookSecret, 'content-type': 'application/json' },
      body: '[1, 2, <script>]',
    });
    expect(delivered.status).toBeLessThan(300);
    const admin = await createUser(t.em(), { erpPermission: 'admin' });
    const client = new ConsoleClient(t.url);
    await client.signInWithToken(admin.token);
    const page = await client.get('/console/webhooks');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<tr class="problem">/);
    expect(page.text).toContain('[1, 2, &lt;script&gt;]');
    const viewer = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const other = new ConsoleClient(t.url);
    await other.signInWithToken(viewer.token);
    expect((await other.get('/console/webhooks')).status).toBe(403);
    expect((await other.get('/console/budgets')).text).not.toContain('href="/console/webhooks"');
  });
});

describe('approver console: separation of duties (REQUIRE_INDEPENDENT_APPROVER)', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp({ env: { REQUIRE_INDEPENDENT_APPROVER: 'true' } });
  });
  afterAll(() => t?.close());

  it('does not offer Accept to the person who sent the budget, and says why; another approver may', async () => {
    const sender = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const other = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
    const submission = await createSubmission(t.em(), { sentBy: sender.user });
    const asSender = new ConsoleClient(t.url);
    await asSender.signInWithToken(sender.token);
    const page = await asSender.get(`/console/budgets/${submission.id}`);
    expect([...page.text.matchAll(/data-dialog="(\w+)-dialog"/g)].map((m) => m[1])).toEqual(['reject', 'retrieve']);
    expect(page.text).toContain('requires an independent approver');
    // A forged accept is refused by the same rule the API applies.
    await asSender.post(`/console/budgets/${submission.id}/accept`, { _csrf: await asSender.csrf(`/console/budgets/${submission.id}`) });
    expect((await asSender.get(`/console/budgets/${submission.id}`)).text).toContain('REQUIRE_INDEPENDENT_APPROVER');
    expect((await sql(`select status from submission where id = $1`, [submission.id]))[0].status).toBe('ready_to_export');
    const asOther = new ConsoleClient(t.url);
    await asOther.signInWithToken(other.token);
    expect((await asOther.get(`/console/budgets/${submission.id}`)).text).toContain('data-dialog="accept-dialog"');
  });
});

describe('approver console: rate limits shared with the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    t = await startTestApp({ env: { RATE_LIMIT_AUTH_FAILURES: '3', RATE_LIMIT_FAN_OUT: '2' } });
  });
  afterAll(() => t?.close());

  it('counts failed token sign-ins with failed authentications: past the limit, 429 (even with a good token)', async () => {
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const client = new ConsoleClient(t.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.signInWithToken(`psc_guess${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await client.signInWithToken(viewer.token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.text).toContain('Too many failed authentications');
    expect(await sql(`select * from console_session`)).toEqual([]);
  });

  it('limits the preview (it reads Spectrum) per user, as the API does', async () => {
    // Failed sign-ins above came from this address too; wait out nothing: the limiter keys by client and this test signs in fresh.
    const viewer = await createUser(t.em(), { erpPermission: 'read_only' });
    const submission = await createSubmission(t.em());
    const [{ id }] = await sql<{ id: string }>(`select id from api_token where user_id = $1`, [viewer.user.id]);
    const client = new ConsoleClient(t.url);
    const secret = 'console-test-session-secret';
    await sql(
      `insert into console_session (id, user_id, method, api_token_id, csrf_token, created_at, last_seen_at, expires_at)
       values (encode(sha256($1::bytea), 'hex'), $2, 'token', $3, 'csrf', now(), now(), now() + interval '1 hour')`,
      [secret, viewer.user.id, id],
    );
    client.cookies.set('connector_session', secret);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await client.get(`/console/budgets/${submission.id}/preview`, { 'x-console-fragment': '1' })).status);
    // Spectrum is not reachable in this test (503 in place), then the limit answers.
    expect(statuses).toEqual([503, 503, 429]);
    const limited = await client.get(`/console/budgets/${submission.id}/preview`, { 'x-console-fragment': '1' });
    expect(limited.text).toMatch(/^<p class="flash error" role="alert">Too many previews or sends/);
  });
});
