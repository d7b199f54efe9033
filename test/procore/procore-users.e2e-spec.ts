import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { sql, resetDatabase } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { useProcoreApp, waitForIdle } from './procore-test-kit';

describe('Procore user sync (SyncUsers)', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;
  let admin: UserWithToken;

  useProcoreApp(standIn, {}, (app) => (t = app));
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn);
    admin = await createUser(t.em(), { erpPermission: 'admin', email: 'it-admin@example.com' });
  });

  async function syncThroughTheQueue(): Promise<void> {
    await t.get(Outbox).enqueue(JobName.SyncUsers, { window: `test-${Date.now()}` });
    await waitForIdle([JobName.SyncUsers]);
  }
  const users = async () => {
    const res = await api(t.url, admin.token).get('/api/v1/users?perPage=100');
    expect(res.status).toBe(200);
    return Object.fromEntries((res.body.data as Array<Record<string, unknown>>).map((user) => [user.email, user]));
  };

  it('creates users: standard + Can Push to Accounting for ERP accountants, read_only otherwise, inactive ones inactive', async () => {
    await syncThroughTheQueue();
    const byEmail = await users();
    expect(byEmail[SAMPLE_USERS.projectManager.email]).toMatchObject({
      name: 'Dana Whitfield',
      erpPermission: 'read_only',
      canPushToAccounting: false,
      active: true,
      procoreUserId: '7001',
    });
    expect(byEmail[SAMPLE_USERS.accountant.email]).toMatchObject({ erpPermission: 'standard', canPushToAccounting: true, active: true, procoreUserId: '7002' });
    expect(byEmail[SAMPLE_USERS.formerSuperintendent.email]).toMatchObject({ erpPermission: 'read_only', active: false, procoreUserId: '7003' });
    expect(byEmail['it-admin@example.com']).toMatchObject({ erpPermission: 'admin', procoreUserId: null });
    const [event] = await sql(`select actor_label, action, note from audit_event where action = 'user.sync'`);
    expect(event).toEqual({ actor_label: 'procore', action: 'user.sync', note: 'Procore user sync: 3 created, 0 updated, 0 deactivated' });
  });

  it('keeps what was changed in the connector; takes the rest from Procore', async () => {
    await syncThroughTheQueue();
    const before = await users();
    const pm = before[SAMPLE_USERS.projectManager.email] as { id: string };
    const former = before[SAMPLE_USERS.formerSuperintendent.email] as { id: string };
    // An admin renames the PM, gives them standard, and keeps the former superintendent active.
    expect((await api(t.url, admin.token).patch(`/api/v1/users/${pm.id}`, { name: 'Dana W. (PM)', erpPermission: 'standard' })).status).toBe(200);
    expect((await api(t.url, admin.token).patch(`/api/v1/users/${former.id}`, { active: true })).status).toBe(200);

    standIn.updateUser(7001, { name: 'Dana Whitfield-Stone', erp_integrated_accountant: true, email_address: 'dana.stone@summit-builders.example' });
    standIn.updateUser(7002, { is_active: false });
    await syncThroughTheQueue();

    const after = await users();
    expect(after['dana.stone@summit-builders.example']).toMatchObject({
      id: pm.id,
      name: 'Dana W. (PM)', // local
      erpPermission: 'standard', // local
      canPushToAccounting: true, // from Procore
    });
    expect(after[SAMPLE_USERS.accountant.email]).toMatchObject({ active: false });
    expect(after[SAMPLE_USERS.formerSuperintendent.email]).toMatchObject({ id: former.id, active: true });
    expect(await sql(`select local_overrides from app_user where id = $1`, [pm.id])).toEqual([{ local_overrides: ['name', 'erpPermission'] }]);
  });

  it('links a connector user by email; the link changes nothing else', async () => {
    const local = await createUser(t.em(), { erpPermission: 'admin', email: SAMPLE_USERS.accountant.email.toUpperCase(), name: 'Marcus (local)', canPushToAccounting: false });
    await syncThroughTheQueue();
    const byEmail = await users();
    expect(byEmail[SAMPLE_USERS.accountant.email]).toMatchObject({
      id: local.user.id,
      procoreUserId: '7002',
      name: 'Marcus (local)',
      erpPermission: 'admin',
      canPushToAccounting: false,
      active: true,
    });
    expect(Object.keys(byEmail)).toHaveLength(4);
    // Running again changes nothing.
    await syncThroughTheQueue();
    expect(await sql(`select count(*)::int as count from audit_event where action = 'user.sync'`)).toEqual([{ count: 1 }]);
  });

  describe('a decision made in the connector wins over the sync', () => {
    it('a deactivated local admin stays deactivated when the sync links it by email to an active Procore user', async () => {
      const local = await createUser(t.em(), { erpPermission: 'admin', email: SAMPLE_USERS.accountant.email, name: 'Marcus (local admin)' });
      expect((await api(t.url, local.token).get('/api/v1/users/me')).status).toBe(200);
      expect((await api(t.url, admin.token).patch(`/api/v1/users/${local.user.id}`, { active: false })).status).toBe(200);
      expect((await api(t.url, local.token).get('/api/v1/users/me')).status).toBe(401);

      await syncThroughTheQueue(); // Procore user 7002 has the same email and is active

      expect(await sql(`select procore_user_id, active, erp_permission from app_user where id = $1`, [local.user.id])).toEqual([
        { procore_user_id: '7002', active: false, erp_permission: 'admin' },
      ]);
      expect((await api(t.url, local.token).get('/api/v1/users/me')).status).toBe(401);
      expect((await api(t.url, local.token).get('/api/v1/users')).status).toBe(401);
      const trail = await api(t.url, admin.token).get(`/api/v1/audit-events?subject=user:${local.user.id}`);
      expect(trail.body.data.map((event: { action: string; actor: { name: string } }) => [event.action, event.actor.name])).toEqual([
        ['user.link', 'procore'],
        ['user.deactivate', admin.user.name],
        ['token.create', 'test'],
        ['user.create', 'test'],
      ]);
      // And it stays so on every later sync.
      await syncThroughTheQueue();
      expect((await api(t.url, local.token).get('/api/v1/users/me')).status).toBe(401);
    });

    it('never reactivates: neither a user an admin deactivated nor one Procore marks active again', async () => {
      await syncThroughTheQueue();
      const byEmail = await users();
      const pm = byEmail[SAMPLE_USERS.projectManager.email] as { id: string };
      expect((await api(t.url, admin.token).patch(`/api/v1/users/${pm.id}`, { active: false })).status).toBe(200);
      standIn.updateUser(7003, { is_active: true }); // the former superintendent is back in Procore
      await syncThroughTheQueue();
      const after = await users();
      expect(after[SAMPLE_USERS.projectManager.email]).toMatchObject({ active: false });
      expect(after[SAMPLE_USERS.formerSuperintendent.email]).toMatchObject({ active: false });
    });

    it('keeps every permission set in the connector, linked or not', async () => {
      // Set before the user is linked (a local user), then Procore says otherwise.
      const local = await createUser(t.em(), { erpPermission: 'read_only', email: SAMPLE_USERS.projectManager.email });
      expect((await api(t.url, admin.token).patch(`/api/v1/users/${local.user.id}`, { canPushToAccounting: false, erpPermission: 'standard' })).status).toBe(200);
      standIn.updateUser(7001, { erp_integrated_accountant: true });
      await syncThroughTheQueue();
      // Set on a user the sync created.
      const accountant = (await users())[SAMPLE_USERS.accountant.email] as { id: string };
      expect((await api(t.url, admin.token).patch(`/api/v1/users/${accountant.id}`, { canPushToAccounting: false, erpPermission: 'read_only' })).status).toBe(200);
      await syncThroughTheQueue();
      standIn.updateUser(7001, { erp_integrated_accountant: false });
      await syncThroughTheQueue();
      const after = await users();
      expect(after[SAMPLE_USERS.projectManager.email]).toMatchObject({ id: local.user.id, erpPermission: 'standard', canPushToAccounting: false, procoreUserId: '7001' });
      expect(after[SAMPLE_USERS.accountant.email]).toMatchObject({ erpPermission: 'read_only', canPushToAccounting: false });
    });

    it('links by email only a user with no Procore link yet', async () => {
      await syncThroughTheQueue();
      const pm = (await users())[SAMPLE_USERS.projectManager.email] as { id: string };
      // Procore user 7002 takes the PM's email address: the PM stays linked to 7001.
      standIn.updateUser(7002, { email_address: SAMPLE_USERS.projectManager.email });
      await syncThroughTheQueue();
      expect(await sql(`select id, procore_user_id from app_user where email = $1`, [SAMPLE_USERS.projectManager.email])).toEqual([
        { id: pm.id, procore_user_id: '7001' },
      ]);
    });
  });

  it('deactivates a user Procore marks inactive, but never the last active admin: kept, and the reason logged', async () => {
    const local = await createUser(t.em(), { erpPermission: 'admin', email: SAMPLE_USERS.accountant.email });
    await sql(`update app_user set erp_permission = 'read_only' where id = $1`, [admin.user.id]); // `local` is now the only admin
    standIn.updateUser(7001, { is_active: false });
    standIn.updateUser(7002, { is_active: false });
    await syncThroughTheQueue();
    const byEmail = await users2(local.token);
    expect(byEmail[SAMPLE_USERS.projectManager.email]).toMatchObject({ active: false });
    expect(byEmail[SAMPLE_USERS.accountant.email]).toMatchObject({ id: local.user.id, active: true, erpPermission: 'admin' });
    const [event] = await sql<{ data: { kept: string[] } }>(`select data from audit_event where action = 'user.sync'`);
    expect(event.data.kept).toEqual([expect.stringMatching(new RegExp(`connector user ${local.user.id} .*stays active.*last active admin`))]);
  });

  it('skips a malformed Procore email with a logged reason and never stores it', async () => {
    standIn.addUser({ id: 7010, name: 'Bad Address', email: 'bad address@@example' });
    standIn.addUser({ id: 7011, name: 'Injected', email: 'x@example.com\r\nBcc: victim@example.com' });
    await syncThroughTheQueue();
    await syncThroughTheQueue();
    const stored = JSON.stringify(await sql(`select * from app_user`));
    expect(stored).not.toMatch(/bad address|victim/);
    expect(await sql(`select procore_user_id from app_user where procore_user_id in ('7010', '7011')`)).toEqual([]);
    const [event] = await sql<{ data: { skipped: string[] } }>(`select data from audit_event where action = 'user.sync'`);
    expect(event.data.skipped).toEqual(
      expect.arrayContaining(['Procore user 7010 has a malformed email address; it was not stored', 'Procore user 7011 has a malformed email address; it was not stored']),
    );
    // An address that becomes malformed later is not taken either.
    standIn.updateUser(7001, { email_address: 'dana@' });
    await syncThroughTheQueue();
    expect(await sql(`select email from app_user where procore_user_id = '7001'`)).toEqual([{ email: SAMPLE_USERS.projectManager.email }]);
  });

  const users2 = async (token: string) => {
    const res = await api(t.url, token).get('/api/v1/users?perPage=100');
    expect(res.status).toBe(200);
    return Object.fromEntries((res.body.data as Array<Record<string, unknown>>).map((user) => [user.email, user]));
  };
});
