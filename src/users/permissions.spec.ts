import { can, mayRetrieve, Permission } from './permissions';
import { ERP_PERMISSIONS, ErpPermission } from './user.entity';

/** The whole permission matrix (README, "The API"), with the deactivated rows: an inactive user may do nothing. */
const EXPECTED: Record<ErpPermission, Record<'push' | 'noPush', Permission[]>> = {
  none: { push: [], noPush: [] },
  read_only: { push: ['view'], noPush: ['view'] },
  standard: { push: ['view', 'send', 'decide'], noPush: ['view', 'send'] },
  admin: { push: ['view', 'send', 'decide', 'admin'], noPush: ['view', 'send', 'admin'] },
};
const ALL: Permission[] = ['view', 'send', 'decide', 'admin'];

describe('permissions', () => {
  const rows = ERP_PERMISSIONS.flatMap((erpPermission) =>
    [true, false].flatMap((canPushToAccounting) => [true, false].map((active) => ({ erpPermission, canPushToAccounting, active }))),
  );

  it.each(rows)('%o', (user) => {
    const allowed = ALL.filter((permission) => can(user, permission));
    expect(allowed).toEqual(user.active ? EXPECTED[user.erpPermission][user.canPushToAccounting ? 'push' : 'noPush'] : []);
  });

  it('retrieve: the sender or an admin, and never someone deactivated', () => {
    const sender = { id: '7', erpPermission: 'read_only' as const, canPushToAccounting: false, active: true };
    const admin = { id: '8', erpPermission: 'admin' as const, canPushToAccounting: false, active: true };
    expect(mayRetrieve(sender, '7')).toBe(true);
    expect(mayRetrieve(sender, '9')).toBe(false);
    expect(mayRetrieve(sender, null)).toBe(false);
    expect(mayRetrieve(admin, '9')).toBe(true);
    expect(mayRetrieve({ ...sender, active: false }, '7')).toBe(false);
    expect(mayRetrieve({ ...admin, active: false }, '9')).toBe(false);
  });
});
