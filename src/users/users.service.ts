import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor, AuditService } from '../audit/audit.service';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/app-error';
import { LAST_ADMIN_REASON, lockActiveAdmins, otherActiveAdmins } from './active-admins';
import { ApiToken } from './api-token.entity';
import { can } from './permissions';
import { generateToken, hashToken, tokenPrefix } from './token';
import { ErpPermission, LOCALLY_OVERRIDABLE, LocallyOverridable, User } from './user.entity';

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
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  async list(page: number, perPage: number) {
    const [users, total] = await this.em.findAndCount(User, {}, { orderBy: { id: 'asc' }, limit: perPage, offset: (page - 1) * perPage });
    return { data: users.map(presentUser), page, perPage, total };
  }

  async get(id: string): Promise<User> {
    const user = await this.em.findOne(User, id);
    if (!user) throw new NotFoundError(`User ${id} does not exist`);
    return user;
  }

  /** By id or by email (the CLI accepts either). */
  async find(idOrEmail: string): Promise<User> {
    const where = /^[1-9]\d{0,17}$/.test(idOrEmail) ? { id: idOrEmail } : { email: idOrEmail.trim().toLowerCase() };
    const user = await this.em.findOne(User, where);
    if (!user) throw new NotFoundError(`User ${idOrEmail} does not exist`);
    return user;
  }

  async create(input: NewUser, actor: Actor): Promise<User> {
    return this.em.transactional(async (em) => {
      const email = input.email.trim().toLowerCase();
      if (await em.count(User, { email })) throw new ConflictError(`A user with email ${email} already exists`);
      const user = em.create(User, {
        email,
        name: input.name.trim(),
        erpPermission: input.erpPermission,
        canPushToAccounting: input.canPushToAccounting,
        subscribedToDigest: input.subscribedToDigest ?? true,
        active: true,
        localOverrides: [],
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      await this.flushUnique(em, email);
      this.audit.record(em, {
        actor,
        action: 'user.create',
        subject: subjectOf(user.id),
        note: email,
        data: { userId: user.id, erpPermission: user.erpPermission, canPushToAccounting: user.canPushToAccounting },
      });
      await em.flush();
      return user;
    });
  }

  /**
   * Admins change anything; other users only their own digest subscription. Every field changed
   * here is remembered (`localOverrides`), so the Procore user sync keeps it — also for a user
   * linked to Procore only later. The last active admin cannot be demoted or deactivated.
   */
  async update(id: string, changes: UserChanges, actor: User): Promise<User> {
    return this.em.transactional(async (em) => {
      const fields = Object.keys(changes).filter((key) => changes[key as keyof UserChanges] !== undefined) as Array<keyof UserChanges>;
      if (!can(actor, 'admin') && (actor.id !== id || fields.some((field) => field !== 'subscribedToDigest'))) {
        throw new ForbiddenError('Only an admin can change users; you can change your own subscribedToDigest');
      }
      if (changes.erpPermission !== undefined || changes.active !== undefined) await lockActiveAdmins(em);
      const user = await em.findOne(User, id);
      if (!user) throw new NotFoundError(`User ${id} does not exist`);
      await this.refuseLosingTheLastAdmin(em, user, changes);
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
        await this.flushUnique(em, user.email);
        const action = changed.active ? (user.active ? 'user.reactivate' : 'user.deactivate') : 'user.update';
        this.audit.record(em, { actor: { user: actor }, action, subject: subjectOf(user.id), note: Object.keys(changed).join(', '), data: { userId: user.id, changes: changed } });
        await em.flush();
      }
      return user;
    });
  }

  /** Creates a token for an active user; the token is returned once and only its hash is kept. */
  async createToken(userId: string, actor: Actor, options: NewToken = {}): Promise<{ token: string; record: ApiToken }> {
    return this.em.transactional(async (em) => {
      const user = await em.findOne(User, userId);
      if (!user) throw new NotFoundError(`User ${userId} does not exist`);
      if (!user.active) throw new ConflictError(`User ${userId} is deactivated; reactivate the user before issuing a token`);
      const token = generateToken();
      const now = new Date();
      const record = em.create(ApiToken, {
        user,
        tokenHash: hashToken(token),
        tokenPrefix: tokenPrefix(token),
        label: options.label ?? null,
        createdAt: now,
        expiresAt: options.expiresInDays ? new Date(now.getTime() + options.expiresInDays * DAY_MS) : null,
      });
      await em.flush();
      this.audit.record(em, {
        actor,
        action: 'token.create',
        subject: subjectOf(user.id),
        note: record.tokenPrefix,
        data: { userId: user.id, tokenId: record.id, label: record.label ?? null, expiresAt: record.expiresAt?.toISOString() ?? null },
      });
      await em.flush();
      return { token, record };
    });
  }

  /** Every token of a user, newest first, revoked and expired ones included. */
  async listTokens(userId: string): Promise<ApiToken[]> {
    await this.get(userId);
    return this.em.find(ApiToken, { user: userId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /**
   * Revokes a token of this user: it answers 401 from the next request on. Revoking a revoked token
   * changes nothing.
   */
  async revokeToken(userId: string, tokenId: string, actor: Actor): Promise<ApiToken> {
    return this.em.transactional(async (em) => {
      const token = await em.findOne(ApiToken, { id: tokenId, user: userId });
      if (!token) throw new NotFoundError(`User ${userId} has no token ${tokenId}`);
      if (token.revokedAt) return token;
      token.revokedAt = new Date();
      this.audit.record(em, {
        actor,
        action: 'token.revoke',
        subject: subjectOf(userId),
        note: token.tokenPrefix,
        data: { userId, tokenId: token.id },
      });
      await em.flush();
      return token;
    });
  }

  /** Only an admin, or the user themselves, may see or revoke a user's tokens. */
  assertAdminOrSelf(actor: User, userId: string): void {
    if (actor.id !== userId && !can(actor, 'admin')) throw new ForbiddenError("Only an admin, or the token's own user, can see or revoke a user's tokens");
  }

  private async refuseLosingTheLastAdmin(em: EntityManager, user: User, changes: UserChanges): Promise<void> {
    const isActiveAdmin = user.active && user.erpPermission === 'admin';
    const demoted = changes.erpPermission !== undefined && changes.erpPermission !== 'admin';
    const deactivated = changes.active === false;
    if (!isActiveAdmin || !(demoted || deactivated)) return;
    if ((await otherActiveAdmins(em, user.id)) === 0) {
      throw new ConflictError(`User ${user.id} (${user.email}) ${LAST_ADMIN_REASON}`);
    }
  }

  private async flushUnique(em: EntityManager, email: string): Promise<void> {
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new ConflictError(`A user with email ${email} already exists`);
      throw error;
    }
  }
}
