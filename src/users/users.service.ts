import { Injectable } from '@nestjs/common';
import { Actor } from '../audit/actor';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { LockRepository } from '../database/lock.repository';
import { ApiToken } from './api-token.entity';
import { can } from './permissions';
import { generateToken, hashToken, tokenPrefix } from './token';
import { ErpPermission, LOCALLY_OVERRIDABLE, LocallyOverridable, User } from './user.entity';
import { UserRepository, UserTakenError } from './user.repository';
import { UsersException, UsersExceptionCode as Code } from './users.exception';

export const LAST_ADMIN_REASON =
  'is the last active admin: the connector would have nobody left to manage users and tokens. Make another user an admin first';

export interface NewUser {
  email: string;
  name: string;
  erpPermission: ErpPermission;
  canPushToAccounting: boolean;
  subscribedToDigest?: boolean;
}

export type UserChanges = Partial<Pick<User, 'email' | 'name' | 'erpPermission' | 'canPushToAccounting' | 'subscribedToDigest' | 'active'>>;

export interface NewToken {
  label?: string;
  /** The token answers 401 this many days after its creation; none: it does not expire. */
  expiresInDays?: number;
}

export const MAX_TOKEN_DAYS = 3650;
const DAY_MS = 86_400_000;

export function presentUser(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    erpPermission: user.erpPermission,
    canPushToAccounting: user.canPushToAccounting,
    subscribedToDigest: user.subscribedToDigest,
    active: user.active,
    procoreUserId: user.procoreUserId ?? null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** A token as its owner and admins see it: never the token itself, nor its hash. */
export function presentToken(token: ApiToken, now = new Date()) {
  const state = token.revokedAt ? 'revoked' : token.expiresAt && token.expiresAt <= now ? 'expired' : 'active';
  return {
    id: token.id,
    prefix: token.tokenPrefix,
    label: token.label ?? null,
    state,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}

const subjectOf = (userId: string) => `user:${userId}`;

/** Connector users and their API tokens. Every change is an audit event about the user (`user:<id>`). */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly audit: AuditEventRepository,
    private readonly locks: LockRepository,
  ) {}

  async list(page: number, perPage: number) {
    const [users, total] = await this.users.page(page, perPage);
    return { data: users.map(presentUser), page, perPage, total };
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new UsersException(Code.UserNotFound, `User ${id} does not exist`);
    return user;
  }

  /** By id or by email (the CLI accepts either). */
  async find(idOrEmail: string): Promise<User> {
    const user = /^[1-9]\d{0,17}$/.test(idOrEmail) ? await this.users.findById(idOrEmail) : await this.users.findByEmail(idOrEmail.trim().toLowerCase());
    if (!user) throw new UsersException(Code.UserNotFound, `User ${idOrEmail} does not exist`);
    return user;
  }

  async create(input: NewUser, actor: Actor): Promise<User> {
    return this.users.transaction(async () => {
      const email = input.email.trim().toLowerCase();
      if (await this.users.emailTaken(email)) throw new UsersException(Code.EmailTaken, `A user with email ${email} already exists`);
      const user = this.users.create({
        email,
        name: input.name.trim(),
        erpPermission: input.erpPermission,
        canPushToAccounting: input.canPushToAccounting,
        subscribedToDigest: input.subscribedToDigest ?? true,
        active: true,
        localOverrides: [],
      });
      await this.save(email);
      await this.audit.record({
        actor,
        action: 'user.create',
        subject: subjectOf(user.id),
        note: email,
        data: { userId: user.id, erpPermission: user.erpPermission, canPushToAccounting: user.canPushToAccounting },
      });
      return user;
    });
  }

  /**
   * Admins change anything; other users only their own digest subscription. Every field changed
   * here is remembered (`localOverrides`), so the Procore user sync keeps it — also for a user
   * linked to Procore only later. The last active admin cannot be demoted or deactivated.
   */
  async update(id: string, changes: UserChanges, actor: User): Promise<User> {
    return this.users.transaction(async () => {
      const fields = Object.keys(changes).filter((key) => changes[key as keyof UserChanges] !== undefined) as Array<keyof UserChanges>;
      if (!can(actor, 'admin') && (actor.id !== id || fields.some((field) => field !== 'subscribedToDigest'))) {
        throw new UsersException(Code.NotAllowed, 'Only an admin can change users; you can change your own subscribedToDigest');
      }
      if (changes.erpPermission !== undefined || changes.active !== undefined) await this.locks.activeAdmins();
      const user = await this.users.findById(id);
      if (!user) throw new UsersException(Code.UserNotFound, `User ${id} does not exist`);
      await this.refuseLosingTheLastAdmin(user, changes);
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      for (const field of fields) {
        const value = field === 'email' ? String(changes.email).toLowerCase() : changes[field];
        if (user[field] === value) continue;
        changed[field] = { from: user[field], to: value };
        (user as unknown as Record<string, unknown>)[field] = value;
        // Recorded whether or not the user is linked yet: a later link by email must not undo it.
        if ((LOCALLY_OVERRIDABLE as readonly string[]).includes(field) && !user.localOverrides.includes(field as LocallyOverridable)) {
          user.localOverrides = [...user.localOverrides, field as LocallyOverridable];
        }
      }
      if (Object.keys(changed).length) {
        await this.save(user.email);
        const action = changed.active ? (user.active ? 'user.reactivate' : 'user.deactivate') : 'user.update';
        await this.audit.record({ actor: { user: actor }, action, subject: subjectOf(user.id), note: Object.keys(changed).join(', '), data: { userId: user.id, changes: changed } });
      }
      return user;
    });
  }

  /** Creates a token for an active user; the token is returned once and only its hash is kept. */
  async createToken(userId: string, actor: Actor, options: NewToken = {}): Promise<{ token: string; record: ApiToken }> {
    return this.users.transaction(async () => {
      const user = await this.users.findById(userId);
      if (!user) throw new UsersException(Code.UserNotFound, `User ${userId} does not exist`);
      if (!user.active) throw new UsersException(Code.UserDeactivated, `User ${userId} is deactivated; reactivate the user before issuing a token`);
      const token = generateToken();
      const now = new Date();
      const record = this.users.createToken(user, {
        tokenHash: hashToken(token),
        tokenPrefix: tokenPrefix(token),
        label: options.label ?? null,
        createdAt: now,
        expiresAt: options.expiresInDays ? new Date(now.getTime() + options.expiresInDays * DAY_MS) : null,
      });
      await this.users.save();
      await this.audit.record({
        actor,
        action: 'token.create',
        subject: subjectOf(user.id),
        note: record.tokenPrefix,
        data: { userId: user.id, tokenId: record.id, label: record.label ?? null, expiresAt: record.expiresAt?.toISOString() ?? null },
      });
      return { token, record };
    });
  }

  /** Every token of a user, newest first, revoked and expired ones included. */
  async listTokens(userId: string): Promise<ApiToken[]> {
    await this.get(userId);
    return this.users.tokensOf(userId);
  }

  /**
   * Revokes a token of this user: it answers 401 from the next request on. Revoking a revoked token
   * changes nothing.
   */
  async revokeToken(userId: string, tokenId: string, actor: Actor): Promise<ApiToken> {
    return this.users.transaction(async () => {
      const token = await this.users.findToken(userId, tokenId);
      if (!token) throw new UsersException(Code.TokenNotFound, `User ${userId} has no token ${tokenId}`);
      if (token.revokedAt) return token;
      token.revokedAt = new Date();
      await this.users.save();
      await this.audit.record({
        actor,
        action: 'token.revoke',
        subject: subjectOf(userId),
        note: token.tokenPrefix,
        data: { userId, tokenId: token.id },
      });
      return token;
    });
  }

  /** Only an admin, or the user themselves, may see or revoke a user's tokens. */
  assertAdminOrSelf(actor: User, userId: string): void {
    if (actor.id !== userId && !can(actor, 'admin')) throw new UsersException(Code.NotAllowed, "Only an admin, or the token's own user, can see or revoke a user's tokens");
  }

  private async refuseLosingTheLastAdmin(user: User, changes: UserChanges): Promise<void> {
    const isActiveAdmin = user.active && user.erpPermission === 'admin';
    const demoted = changes.erpPermission !== undefined && changes.erpPermission !== 'admin';
    const deactivated = changes.active === false;
    if (!isActiveAdmin || !(demoted || deactivated)) return;
    if ((await this.users.countOtherActiveAdmins(user.id)) === 0) {
      throw new UsersException(Code.LastAdmin, `User ${user.id} (${user.email}) ${LAST_ADMIN_REASON}`);
    }
  }

  private async save(email: string): Promise<void> {
    try {
      await this.users.save();
    } catch (error) {
      if (error instanceof UserTakenError) throw new UsersException(Code.EmailTaken, `A user with email ${email} already exists`);
      throw error;
    }
  }
}
