import { resetDatabase, resetRedis, sql } from '../support/database';
import { createUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { ConsoleClient } from './console-kit';

const PUBLIC_URL = 'http://connector.test';
const APP = { clientId: 'console-app', clientSecret: 'console-app-secret', redirectUri: `${PUBLIC_URL}/console/auth/procore/callback` };

/**
 * "Sign in with Procore": the authorization-code flow against the Procore stand-in, and the rule of
 * DECISIONS "Access" — only the Procore user id of a linked connector user opens a session.
 */
describe('console: sign in with Procore', () => {
  const procore = new ProcoreStandIn();
  let t: TestApp;

  beforeAll(async () => {
    await procore.start();
    await resetDatabase();
    await resetRedis();
    t = await startTestApp({
      env: { ...procore.environment(), PUBLIC_URL, PROCORE_OAUTH_CLIENT_ID: APP.clientId, PROCORE_OAUTH_CLIENT_SECRET: APP.clientSecret },
    });
  });
  afterAll(async () => {
    await t?.close();
    await procore.stop();
  });
  beforeEach(async () => {
    await resetDatabase();
    procore.reset();
    seedSampleProject(procore, { locked: false });
    procore.oauth.registerApp(APP);
  });

  /** The browser's round trip: console → Procore's authorize → back to the console's callback. */
  async function signInAtProcore(client: ConsoleClient, procoreUserId: number | null, tamper?: (callback: URL) => void) {
    const start = await client.get('/console/auth/procore?next=%2Fconsole%2Fbudgets%3Fstatus%3Dsynced');
    expect(start.status).toBe(302);
    const authorize = new URL(start.location!);
    expect(authorize.origin + authorize.pathname).toBe(`${procore.url}/oauth/authorize`);
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('client_id')).toBe(APP.clientId);
    expect(authorize.searchParams.get('redirect_uri')).toBe(APP.redirectUri);
    procore.oauth.signInAs(procoreUserId);
    const atProcore = await fetch(authorize, { redirect: 'manual' });
    expect(atProcore.status).toBe(302);
    const callback = new URL(atProcore.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(APP.redirectUri);
    tamper?.(callback);
    return client.get(callback.pathname + callback.search);
  }

  async function link(userId: string, procoreUserId: number) {
    await sql(`update app_user set procore_user_id = $1 where id = $2`, [procoreUserId, userId]);
  }

  it('opens a session for the connector user linked to the Procore user, and goes where the visitor was going', async () => {
    const marcus = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Marcus Oyelaran', email: 'someone-else@example.com' });
    await link(marcus.user.id, SAMPLE_USERS.accountant.id);
    const client = new ConsoleClient(t.url);
    const back = await signInAtProcore(client, SAMPLE_USERS.accountant.id);
    expect(back.status).toBe(303);
    expect(back.location).toBe('/console/budgets?status=synced');
    const page = await client.get('/console/budgets?status=synced');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Marcus Oyelaran');
    const [session] = await sql(`select user_id, method from console_session`);
    expect(session).toEqual({ user_id: marcus.user.id, method: 'procore' });
  });

  it('never opens a session on an email match: the connector user must be linked by Procore user id', async () => {
    // A local user with the Procore user's email address, not linked.
    await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true, email: SAMPLE_USERS.accountant.email });
    const client = new ConsoleClient(t.url);
    const back = await signInAtProcore(client, SAMPLE_USERS.accountant.id);
    expect(back.status).toBe(403);
    expect(back.text).toContain('is not linked to a connector user');
    expect(await sql(`select * from console_session`)).toEqual([]);
  });

  it('refuses a deactivated linked user, and one without permission to view', async () => {
    const former = await createUser(t.em(), { erpPermission: 'standard' });
    await link(former.user.id, SAMPLE_USERS.accountant.id);
    await sql(`update app_user set active = false where id = $1`, [former.user.id]);
    expect((await signInAtProcore(new ConsoleClient(t.url), SAMPLE_USERS.accountant.id)).text).toContain('is deactivated');
    const none = await createUser(t.em(), { erpPermission: 'none' });
    await link(none.user.id, SAMPLE_USERS.projectManager.id);
    expect((await signInAtProcore(new ConsoleClient(t.url), SAMPLE_USERS.projectManager.id)).text).toContain('has no permission to view budgets');
    expect(await sql(`select * from console_session`)).toEqual([]);
  });

  it('checks the state: a callback that does not carry this browser\'s state is refused', async () => {
    const marcus = await createUser(t.em(), { erpPermission: 'standard' });
    await link(marcus.user.id, SAMPLE_USERS.accountant.id);
    const forged = await signInAtProcore(new ConsoleClient(t.url), SAMPLE_USERS.accountant.id, (callback) => callback.searchParams.set('state', 'x'.repeat(43)));
    expect(forged.status).toBe(400);
    expect(forged.text).toContain('could not be matched to this browser');
    // A callback opened in another browser (no state cookie) too: a login CSRF cannot plant a session.
    const client = new ConsoleClient(t.url);
    await client.get('/console/auth/procore');
    const elsewhere = new ConsoleClient(t.url);
    procore.oauth.signInAs(SAMPLE_USERS.accountant.id);
    const authorize = new URL((await client.get('/console/auth/procore')).location!);
    const callback = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    expect((await elsewhere.get(callback.pathname + callback.search)).status).toBe(400);
    expect(await sql(`select * from console_session`)).toEqual([]);
  });

  it('a code is used once: replaying the callback opens no second session', async () => {
    const marcus = await createUser(t.em(), { erpPermission: 'standard' });
    await link(marcus.user.id, SAMPLE_USERS.accountant.id);
    const client = new ConsoleClient(t.url);
    let replay = '';
    const state = new Map(client.cookies);
    await signInAtProcore(client, SAMPLE_USERS.accountant.id, (callback) => (replay = callback.pathname + callback.search));
    const again = new ConsoleClient(t.url);
    for (const [name, value] of state) again.cookies.set(name, value);
    // The same callback with a fresh state cookie for it: Procore refuses the used code.
    const start = await again.get('/console/auth/procore');
    const stateValue = new URL(start.location!).searchParams.get('state')!;
    const replayed = new URL(replay, PUBLIC_URL);
    replayed.searchParams.set('state', stateValue);
    const answer = await again.get(replayed.pathname + replayed.search);
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('Procore did not accept the sign-in');
    const [{ count }] = await sql<{ count: string }>(`select count(*) from console_session`);
    expect(count).toBe('1');
  });

  it('the sign-in page offers Procore only when it is configured', async () => {
    const page = await new ConsoleClient(t.url).get('/console/sign-in');
    expect(page.text).toContain('Sign in with Procore');
    const plain = await startTestApp({ env: { ...procore.environment(), PUBLIC_URL } });
    try {
      const client = new ConsoleClient(plain.url);
      expect((await client.get('/console/sign-in')).text).not.toContain('Sign in with Procore');
      expect((await client.get('/console/auth/procore')).location).toBe('/console/sign-in');
    } finally {
      await plain.close();
    }
  });
});
