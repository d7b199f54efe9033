import { ErpPermission, User } from './user.entity';

/**
 * What a user may do (the README's API table says it per route):
 * - view: read_only and above;
 * - decide (accept, reject, retry, unlock): standard or admin AND can push to accounting;
 * - send: standard or admin;
 * - admin: acknowledge variances, manage users and tokens.
 */
export type Permission = 'view' | 'decide' | 'send' | 'admin';

const RANK: Record<ErpPermission, number> = { none: 0, read_only: 1, standard: 2, admin: 3 };

export function can(user: Pick<User, 'erpPermission' | 'canPushToAccounting' | 'active'>, permission: Permission): boolean {
  if (!user.active) return false;
  const rank = RANK[user.erpPermission] ?? 0;
  switch (permission) {
    case 'view':
      return rank >= RANK.read_only;
    case 'send':
      return rank >= RANK.standard;
    case 'decide':
      return rank >= RANK.standard && user.canPushToAccounting;
    case 'admin':
      return rank >= RANK.admin;
  }
}

export const REFUSALS: Record<Permission, string> = {
  view: 'Viewing budgets needs ERP permission read_only, standard or admin',
  send: 'Sending a budget needs ERP permission standard or admin',
  decide: 'Accepting, rejecting, retrying or unlocking needs ERP permission standard or admin and "Can Push to Accounting"',
  admin: 'This needs ERP permission admin',
};

/**
 * The permission each budget action needs. The API's routes declare it (@RequirePermission) and
 * the console asks the same table before it shows or performs an action: one definition.
 */
export const ACTION_PERMISSIONS = {
  view: 'view',
  send: 'send',
  accept: 'decide',
  reject: 'decide',
  retry: 'decide',
  unlock: 'decide',
  // Anyone who may view passes the route; the rule below decides (the sender, or an admin).
  retrieve: 'view',
  acknowledge: 'admin',
  remap: 'decide',
} as const satisfies Record<string, Permission>;
export type BudgetAction = keyof typeof ACTION_PERMISSIONS;

/** Retrieve: the person who sent the budget, or an admin. */
export function mayRetrieve(user: Pick<User, 'id' | 'erpPermission' | 'canPushToAccounting' | 'active'>, sentById: string | null | undefined): boolean {
  return can(user, 'admin') || (can(user, 'view') && !!sentById && sentById === user.id);
}

export const RETRIEVE_REFUSAL = 'Only the person who sent this budget, or an admin, can retrieve it';

/**
 * Separation of duties (REQUIRE_INDEPENDENT_APPROVER): when it is on, the person who sent a budget
 * may reject it but never accept it. The API's accept and the console's offer both ask this.
 */
export function barredAsSender(requireIndependentApprover: boolean, user: Pick<User, 'id'>, sentById: string | null | undefined): boolean {
  return requireIndependentApprover && !!sentById && sentById === user.id;
}
