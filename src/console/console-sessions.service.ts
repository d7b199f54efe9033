import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { can } from '../users/permissions';
import { User } from '../users/user.entity';
import { ConsoleSession, SignInMethod } from './console-session.entity';
import { ConsoleSessionRepository } from './console-session.repository';

/** How often a session's last use is written: an idle expiry of at least a minute needs no more. */
const TOUCH_EVERY_MS = 30_000;

export interface ActiveSession {
  id: string;
  user: User;
  csrfToken: string;
  method: SignInMethod;
  flash: ConsoleSession['flash'];
}

/** A random secret of 256 bits, as text for a cookie or a form. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of two secrets. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Console sessions in PostgreSQL. Every request checks, in one query, that the session is within
 * its idle and absolute expiry, that its user is still active and may view budgets, and (for a
 * token sign-in) that the token is not revoked — so a deactivation or a revocation ends it at once,
 * on every API instance.
 */
@Injectable()
export class ConsoleSessions {
  constructor(
    private readonly sessions: ConsoleSessionRepository,
    private readonly config: AppConfig,
  ) {}

  /** The cookie's name; `__Host-` (Secure, whole site, no Domain) when served over https. */
  get cookieName(): string {
    return this.secureCookies ? '__Host-connector_session' : 'connector_session';
  }

  get secureCookies(): boolean {
    return this.config.publicUrl.startsWith('https://');
  }

  /** Starts a session; returns the cookie's secret (only its hash is stored). */
  async create(user: User, method: SignInMethod, apiTokenId?: string | null): Promise<string> {
    const secret = randomSecret();
    const now = new Date();
    await this.sessions.create({
      id: sha256(secret),
      userId: user.id,
      method,
      apiTokenId: apiTokenId ?? null,
      csrfToken: randomSecret(),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.console.sessionMaxMs),
    });
    return secret;
  }

  /** The live session of this cookie secret, or null (and an ended session is deleted). */
  async resolve(secret: string | undefined): Promise<ActiveSession | null> {
    if (!secret || secret.length > 100) return null;
    const id = sha256(secret);
    const session = await this.sessions.find(id);
    if (!session) return null;
    const now = Date.now();
    const ended =
      session.expiresAt.getTime() <= now ||
      session.lastSeenAt.getTime() + this.config.console.sessionIdleMs <= now ||
      !can(session.user, 'view') ||
      (session.apiToken && (session.apiToken.revokedAt || (session.apiToken.expiresAt && session.apiToken.expiresAt.getTime() <= now)));
    if (ended) {
      await this.sessions.delete(id);
      return null;
    }
    if (now - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
      await this.sessions.touch(id, new Date(now));
    }
    return { id, user: session.user, csrfToken: session.csrfToken, method: session.method, flash: session.flash ?? null };
  }

  async destroy(secret: string | undefined): Promise<void> {
    if (!secret) return;
    await this.sessions.delete(sha256(secret));
  }

  /** A message for the next page this session sees (after a redirect). */
  async setFlash(sessionId: string, kind: 'notice' | 'error', text: string): Promise<void> {
    await this.sessions.setFlash(sessionId, { kind, text: text.slice(0, 2000) });
  }

  async clearFlash(sessionId: string): Promise<void> {
    await this.sessions.setFlash(sessionId, null);
  }

  /** Deletes sessions past their expiry (kept tidy; an expired session is refused regardless). */
  async deleteExpired(): Promise<number> {
    return this.sessions.deleteEnded(new Date(Date.now() - this.config.console.sessionIdleMs));
  }
}
