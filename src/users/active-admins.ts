import { EntityManager } from '@mikro-orm/postgresql';

/**
 * Serialises every change that can take away an active admin (a demotion, a deactivation, the
 * Procore user sync), so two admins demoting each other at once cannot both succeed. Held until
 * the caller's transaction ends.
 */
export async function lockActiveAdmins(em: EntityManager): Promise<void> {
  await em.execute(`select pg_advisory_xact_lock(hashtext('connector:active-admins'))`);
}

/** Active admins other than this user; call after lockActiveAdmins. */
export async function otherActiveAdmins(em: EntityManager, userId: string): Promise<number> {
  const [{ count }] = await em.execute<Array<{ count: string }>>(
    `select count(*) as count from app_user where active and erp_permission = 'admin' and id <> ?`,
    [userId],
  );
  return Number(count);
}

export const LAST_ADMIN_REASON =
  'is the last active admin: the connector would have nobody left to manage users and tokens. Make another user an admin first';
