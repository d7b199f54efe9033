import { wrap } from '@mikro-orm/core';
import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import { ApiToken } from './api-token.entity';
import { hashToken } from './token';
import { ErpPermission, User } from './user.entity';

/** Someone an email goes to. */
export interface Recipient {
  email: string;
  name: string | null;
  userId: string | null;
}

export type NewUserRecord = Pick<User, 'email' | 'name' | 'erpPermission' | 'canPushToAccounting' | 'subscribedToDigest' | 'active' | 'localOverrides'> &
  Partial<Pick<User, 'procoreUserId'>>;

export type NewTokenRecord = Pick<ApiToken, 'tokenHash' | 'tokenPrefix' | 'createdAt'> & { label: string | null; expiresAt: Date | null };

/** Thrown by `save` when an email (or Procore user id) is taken already. */
export class UserTakenError extends Error {}

/**
 * Connector users (`app_user`) and their API tokens (`api_token`): the only code that reads or
 * writes them. Changes to loaded users are written by `save`, inside a transaction.
 */
@Injectable()
export class UserRepository extends Repository {
  page(page: number, perPage: number): Promise<[User[], number]> {
    return this.em.findAndCount(User, {}, { orderBy: { id: 'asc' }, limit: perPage, offset: (page - 1) * perPage });
  }

  findById(id: string): Promise<User | null> {
    return this.em.findOne(User, id);
  }

  findByEmail(email: string): Promise<User | null> {
    return this.em.findOne(User, { email });
  }

  findByProcoreId(procoreUserId: string | number): Promise<User | null> {
    return this.em.findOne(User, { procoreUserId: String(procoreUserId) });
  }

  async emailTaken(email: string): Promise<boolean> {
    return (await this.em.count(User, { email })) > 0;
  }

  /** Every user, oldest first (the Procore user sync). */
  all(): Promise<User[]> {
    return this.em.find(User, {}, { orderBy: { id: 'asc' } });
  }

  /** Connector user ids of Procore users, by Procore user id. */
  async idsByProcoreId(procoreUserIds: number[]): Promise<Map<number, string>> {
    if (!procoreUserIds.length) return new Map();
    const rows = await this.em.execute<Array<{ id: string; procore_user_id: string }>>(
      `select id, procore_user_id from app_user where procore_user_id in (${procoreUserIds.map(() => '?').join(',')})`,
      procoreUserIds,
    );
    return new Map(rows.map((row) => [Number(row.procore_user_id), String(row.id)]));
  }

  /** Active admins other than this user (take LockRepository.activeAdmins first). */
  async countOtherActiveAdmins(userId: string): Promise<number> {
    const [{ count }] = await this.em.execute<Array<{ count: string }>>(
      `select count(*) as count from app_user where active and erp_permission = 'admin' and id <> ?`,
      [userId],
    );
    return Number(count);
  }

  /** Users who may accept: active, standard or admin, allowed to push to accounting; with `digestOnly` only those subscribed. */
  async approvers(options: { digestOnly?: boolean } = {}): Promise<Recipient[]> {
    const rows = await this.em.execute<Array<{ id: string; email: string; name: string }>>(
      `select id, email, name from app_user
       where active and can_push_to_accounting and erp_permission in ('standard', 'admin')
         and email <> ''${options.digestOnly ? ' and subscribed_to_digest' : ''}
       order by id`,
    );
    return rows.map((row) => ({ email: row.email, name: row.name, userId: String(row.id) }));
  }

  /** These users as recipients; deactivated users (people who left) and users without an email are left out. */
  async activeRecipients(userIds: Array<string | null | undefined>): Promise<Recipient[]> {
    const ids = [...new Set(userIds.filter((id): id is string => !!id))];
    if (!ids.length) return [];
    const rows = await this.em.execute<Array<{ id: string; email: string; name: string }>>(
      `select id, email, name from app_user where id in (${ids.map(() => '?').join(',')}) and active and email <> '' order by id`,
      ids,
    );
    return rows.map((row) => ({ email: row.email, name: row.name, userId: String(row.id) }));
  }

  /** A new user in the surrounding transaction; written by `save`. */
  create(data: NewUserRecord): User {
    const now = new Date();
    return this.tx.create(User, { procoreUserId: null, ...data, createdAt: now, updatedAt: now });
  }

  /** Writes the transaction's new and changed users and tokens; UserTakenError when an email is taken. */
  async save(): Promise<void> {
    try {
      await this.tx.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new UserTakenError(error.message);
      throw error;
    }
  }

  // ---- tokens ----------------------------------------------------------------------------------

  /** A new token of a user in the surrounding transaction; written by `save`. */
  createToken(user: User, data: NewTokenRecord): ApiToken {
    return this.tx.create(ApiToken, { user, ...data });
  }

  /** Every token of a user, newest first. */
  tokensOf(userId: string): Promise<ApiToken[]> {
    return this.em.find(ApiToken, { user: userId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /** Every token of these users, newest first. */
  tokensOfUsers(userIds: string[]): Promise<ApiToken[]> {
    if (!userIds.length) return Promise.resolve([]);
    return this.em.find(ApiToken, { user: { $in: userIds } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  findToken(userId: string, tokenId: string): Promise<ApiToken | null> {
    return this.em.findOne(ApiToken, { id: tokenId, user: userId });
  }

  /**
   * The API token a caller presented, when it may be used: known, not revoked, not expired, and
   * its user active. The console's token sign-in and the queue dashboard ask this; the bearer
   * guard asks through TokenLookup, which keeps the records in memory.
   */
  async findUsableToken(token: string): Promise<ApiToken | null> {
    if (!token || token.length > 200) return null;
    const record = await this.tokenRecord(hashToken(token));
    return (record && this.usableToken(record)?.entity()) ?? null;
  }

  /**
   * The columns of an unrevoked token with this hash and of its user, as one record; every API
   * request needs them: one statement, no query building, no populate.
   */
  async tokenRecord(tokenHash: string): Promise<TokenRecord | null> {
    const [record] = await this.em.execute<TokenRecord[]>(
      `select ${TOKEN_COLUMNS.map((column) => `t.${column} as t_${column}`).join(', ')}, ${USER_COLUMNS.map((column) => `u.${column} as u_${column}`).join(', ')}
         from api_token t join app_user u on u.id = t.user_id
        where t.token_hash = ? and t.revoked_at is null`,
      [tokenHash],
    );
    return record ?? null;
  }

  /**
   * A record's token when it may be used now (not expired, its user active), in plain fields; the
   * entities (token, user loaded) only when asked for, in the caller's entity manager — mapping
   * them is most of what a request answered from memory would otherwise cost.
   */
  usableToken(record: TokenRecord): UsableToken | null {
    const expiresAt = record.t_expires_at as string | Date | null;
    if (expiresAt !== null && expiresAt !== undefined && new Date(expiresAt).getTime() <= Date.now()) return null;
    if (!record.u_active) return null;
    const lastUsedAt = record.t_last_used_at as string | Date | null;
    return {
      id: String(record.t_id),
      lastUsedAt: lastUsedAt ? new Date(lastUsedAt) : null,
      access: { active: true, erpPermission: record.u_erp_permission as ErpPermission, canPushToAccounting: Boolean(record.u_can_push_to_accounting) },
      entity: () => this.tokenEntity(record),
    };
  }

  private tokenEntity(record: TokenRecord): ApiToken {
    const em = this.em;
    const columns = (prefix: string, names: readonly string[]) => Object.fromEntries(names.map((name) => [name, record[`${prefix}_${name}`]]));
    const user = em.map(User, columns('u', USER_COLUMNS));
    const token = em.map(ApiToken, columns('t', TOKEN_COLUMNS));
    // As `populate: ['user']` leaves it: the user loaded (and serialized whole).
    wrap(user, true).populated();
    return token;
  }

  /** Notes that a token was used now. */
  async touchToken(tokenId: string): Promise<void> {
    await this.em.nativeUpdate(ApiToken, { id: tokenId }, { lastUsedAt: new Date() });
  }
}

/** An API token's columns (`t_…`) and its user's (`u_…`), as tokenRecord reads them. */
export type TokenRecord = Record<string, unknown>;

/** A token that may be used now: what the bearer guard checks, and the entities when needed. */
export interface UsableToken {
  id: string;
  lastUsedAt: Date | null;
  /** The user's standing (for `can`). */
  access: Pick<User, 'active' | 'erpPermission' | 'canPushToAccounting'>;
  /** The token entity with its user loaded, mapped into the current entity manager. */
  entity(): ApiToken;
}

const TOKEN_COLUMNS = ['id', 'user_id', 'token_hash', 'token_prefix', 'label', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'] as const;
const USER_COLUMNS = ['id', 'email', 'name', 'erp_permission', 'can_push_to_accounting', 'subscribed_to_digest', 'active', 'procore_user_id', 'local_overrides', 'created_at', 'updated_at'] as const;
