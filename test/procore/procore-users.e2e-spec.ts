import { JobName } from '../../src/queue/queue.contract';
import { WorkQueue } from '../../src/queue/work-queue.service';
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
    await t.get(WorkQueue).enqueue(t.em(), JobName.SyncUsers, { window: `test-${Date.now()}` });
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

  it('links a connector user by email and keeps the permissions given to them in the connector', async () => {
    const local = await createUser(t.em(), { erpPermission: 'admin', email: SAMPLE_USERS.accountant.email.toUpperCase(), name: 'Marcus (local)', canPushToAccounting: false });
    await syncThroughTheQueue();
    const byEmail = await users();
    expect(byEmail[SAMPLE_USERS.accountant.email]).toMatchObject({
      id: local.user.id,
      procoreUserId: '7002',
      name: 'Marcus Oyelaran',
      erpPermission: 'admin',
      canPushToAccounting: false,
    });
    expect(Object.keys(byEmail)).toHaveLength(4);
    // Running again changes nothing.
    await syncThroughTheQueue();
    expect(await sql(`select count(*)::int as count from audit_event where action = 'user.sync'`)).toEqual([{ count: 1 }]);
  });
});
