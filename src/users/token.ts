import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'psc_';

/** A new random API token (256 bits), shown to its owner once. */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are stored as SHA-256: they are random, so a slow hash would add nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenPrefix(token: string): string {
  return token.slice(0, PREFIX.length + 6);
}
