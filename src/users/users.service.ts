import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Actor, AuditService } from '../audit/audit.service';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/app-error';
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

/** Connector users and their API tokens. */
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
      this.audit.record(em, { actor, action: 'user.create', note: email, data: { userId: user.id, erpPermission: user.erpPermission } });
      await em.flush();
      return user;
    });
  }

  /**
   * Admins change anything; other users only their own digest subscription. Every field changed
   * here is remembered (`localOverrides`), so the Procore user sync keeps it — also for a user
   * linked to Procore only later.
   */
  async update(id: string, changes: UserChanges, actor: User): Promise<User> {
    return this.em.transactional(async (em) => {
      const user = await em.findOne(User, id);
      if (!user) throw new NotFoundError(`User ${id} does not exist`);
      const isAdmin = can(actor, 'admin');
      const fields = Object.keys(changes).filter((key) => changes[key as keyof UserChanges] !== undefined) as Array<keyof UserChanges>;
      if (!isAdmin && (actor.id !== user.id || fields.some((field) => field !== 'subscribedToDigest'))) {
        throw new ForbiddenError('Only an admin can change users; you can change your own subscribedToDigest');
      }
      const changed: string[] = [];
      for (const field of fields) {
        const value = field === 'email' ? String(changes.email).toLowerCase() : changes[field];
        if (user[field] === value) continue;
        (user as unknown as Record<string, unknown>)[field] = value;
        changed.push(field);
        // Recorded whether or not the user is linked yet: a later link by email must not undo it.
        if ((LOCALLY_OVERRIDABLE as readonly string[]).includes(field) && !user.localOverrides.includes(field as LocallyOverridable)) {
          user.localOverrides = [...user.localOverrides, field as LocallyOverridable];
        }
      }
      if (changed.length) {
        await this.flushUnique(em, user.email);
        this.audit.record(em, { actor: { user: actor }, action: 'user.update', note: changed.join(', '), data: { userId: user.id } });
        await em.flush();
      }
      return user;
    });
  }

  /** Creates a token for a user; the token is returned once and only its hash is kept. */
  async createToken(userId: string, actor: Actor, label?: string): Promise<{ token: string; id: string }> {
    return this.em.transactional(async (em) => {
      const user = await em.findOne(User, userId);
      if (!user) throw new NotFoundError(`User ${userId} does not exist`);
      const token = generateToken();
      const record = em.create(ApiToken, {
        user,
        tokenHash: hashToken(token),
        tokenPrefix: tokenPrefix(token),
        label: label ?? null,
        createdAt: new Date(),
      });
      await em.flush();
      this.audit.record(em, { actor, action: 'token.create', note: record.tokenPrefix, data: { userId: user.id, tokenId: record.id } });
      await em.flush();
      return { token, id: record.id };
    });
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
