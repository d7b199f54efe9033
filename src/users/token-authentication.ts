import { EntityManager } from '@mikro-orm/postgresql';
import { ApiToken } from './api-token.entity';
import { hashToken } from './token';

/**
 * The API token a caller presented, when it may be used: known, not revoked, not expired, and its user active.
 * The bearer guard of the API and the console's token sign-in both ask this.
 */
export async function findUsableToken(em: EntityManager, token: string): Promise<ApiToken | null> {
  if (!token || token.length > 200) return null;
  const record = await em.findOne(
    ApiToken,
    { tokenHash: hashToken(token), revokedAt: null, $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] },
    { populate: ['user'] },
  );
  return record && record.user.active ? record : null;
}
