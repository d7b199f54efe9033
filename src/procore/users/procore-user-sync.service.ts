import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { Actor, AuditService } from '../../audit/audit.service';
import { ErpPermission, LocallyOverridable, User } from '../../users/user.entity';
import { ProcoreClient } from '../procore-client';
import { ProcoreError } from '../procore-errors';
import type { ProcoreCompanyUser } from '../procore.types';

export interface UserSyncResult {
  /** Procore users read. */
  read: number;
  created: number;
  updated: number;
  deactivated: number;
  /** Connector users linked to their Procore user for the first time (matched by email). */
  linked: number;
  /** Procore users that could not be taken in, and why. */
  skipped: string[];
}

/** A miss (webhook sender, budget creator) triggers a sync at most this often per process. */
const RESYNC_ON_MISS_AFTER_MS = 60_000;
/** Permissions granted in the connector to a user who existed before the first sync. */
const KEPT_ON_FIRST_LINK: LocallyOverridable[] = ['erpPermission', 'canPushToAccounting'];

/**
 * Procore company users → connector users (PRODUCT.md, "Approval gate"): matched by Procore user id,
 * then by email. New users get `standard` and "Can Push to Accounting" when Procore says
 * `erp_integrated_accountant`, else `read_only`. Fields changed in the connector (`localOverrides`)
 * are never overwritten; Procore users who left become inactive. Users missing from Procore's list
 * are left alone.
 */
@Injectable()
export class ProcoreUserSync {
  private readonly logger = new Logger(ProcoreUserSync.name);
  private lastSyncAt = 0;

  constructor(
    private readonly em: EntityManager,
    private readonly client: ProcoreClient,
    private readonly audit: AuditService,
  ) {}

  async sync(actor: Actor = { label: 'procore' }): Promise<UserSyncResult> {
    const people = await this.client.listCompanyUsers();
    const result = await this.em.fork().transactional((em) => this.apply(em, people, actor));
    this.lastSyncAt = Date.now();
    if (result.created || result.updated || result.skipped.length) {
      this.logger.log(
        `Procore user sync: ${result.created} created, ${result.updated} updated (${result.deactivated} deactivated, ${result.linked} linked)` +
          (result.skipped.length ? `; skipped: ${result.skipped.join('; ')}` : ''),
      );
    }
    return result;
  }

  /**
   * Connector user ids of Procore users. A Procore user not known yet triggers one sync (at most
   * once a minute); one still unknown after it is left out. A sync refused by Procore for good
   * (e.g. no permission to list users) is logged, not thrown; a transient failure is thrown.
   */
  async resolve(procoreUserIds: Array<number | null | undefined>): Promise<Map<number, string>> {
    const wanted = [...new Set(procoreUserIds.filter((id): id is number => typeof id === 'number' && id > 0))];
    if (!wanted.length) return new Map();
    let found = await this.lookup(wanted);
    if (found.size < wanted.length && Date.now() - this.lastSyncAt > RESYNC_ON_MISS_AFTER_MS) {
      try {
        await this.sync();
      } catch (error) {
        if (!(error instanceof ProcoreError) || error.transient) throw error;
        this.lastSyncAt = Date.now();
        this.logger.warn(`Could not sync Procore users to resolve user(s) ${wanted.join(', ')}: ${error.message}`);
      }
      found = await this.lookup(wanted);
    }
    return found;
  }

  private async lookup(ids: number[]): Promise<Map<number, string>> {
    const rows = await this.em
      .fork()
      .execute<Array<{ id: string; procore_user_id: string }>>(
        `select id, procore_user_id from app_user where procore_user_id in (${ids.map(() => '?').join(',')})`,
        ids,
      );
    return new Map(rows.map((row) => [Number(row.procore_user_id), String(row.id)]));
  }

  private async apply(em: EntityManager, people: ProcoreCompanyUser[], actor: Actor): Promise<UserSyncResult> {
    // One sync at a time: concurrent ones would race on the unique email and Procore id.
    await em.execute(`select pg_advisory_xact_lock(hashtext('procore-user-sync'))`);
    const users = await em.find(User, {}, { orderBy: { id: 'asc' } });
    const byProcoreId = new Map(users.filter((user) => user.procoreUserId).map((user) => [String(user.procoreUserId), user]));
    const byEmail = new Map(users.map((user) => [user.email, user]));
    const result: UserSyncResult = { read: people.length, created: 0, updated: 0, deactivated: 0, linked: 0, skipped: [] };
    const changedIds: string[] = [];
    const createdUsers: User[] = [];

    for (const person of people) {
      const procoreId = String(person.id);
      const email = person.email_address?.trim().toLowerCase() || null;
      const name = person.name?.trim() || email || `Procore user ${procoreId}`;
      let user = byProcoreId.get(procoreId);
      let linked = false;
      if (!user && email) {
        const sameEmail = byEmail.get(email);
        if (sameEmail?.procoreUserId && String(sameEmail.procoreUserId) !== procoreId) {
          result.skipped.push(`Procore user ${procoreId}: ${email} belongs to connector user ${sameEmail.id}, linked to Procore user ${sameEmail.procoreUserId}`);
          continue;
        }
        if (sameEmail) {
          user = sameEmail;
          user.procoreUserId = procoreId;
          user.localOverrides = [...new Set([...user.localOverrides, ...KEPT_ON_FIRST_LINK])];
          byProcoreId.set(procoreId, user);
          linked = true;
          result.linked += 1;
        }
      }

      if (!user) {
        if (!email) {
          result.skipped.push(`Procore user ${procoreId} (${name}) has no email address`);
          continue;
        }
        const created = em.create(User, {
          email,
          name,
          erpPermission: permissionOf(person),
          canPushToAccounting: person.erp_integrated_accountant,
          subscribedToDigest: true,
          active: person.is_active,
          procoreUserId: procoreId,
          localOverrides: [],
          createdAt: new Date(),
          updatedAt: new Date(),
        });
        byProcoreId.set(procoreId, created);
        byEmail.set(email, created);
        createdUsers.push(created);
        result.created += 1;
        continue;
      }

      const kept = new Set(user.localOverrides);
      const wasActive = user.active;
      let changed = linked;
      const set = <K extends LocallyOverridable>(field: K, value: User[K]) => {
        if (kept.has(field) || user![field] === value) return;
        user![field] = value;
        changed = true;
      };
      set('name', name);
      if (email && email !== user.email && !kept.has('email')) {
        const holder = byEmail.get(email);
        if (holder && holder !== user) {
          result.skipped.push(`Procore user ${procoreId}: new email ${email} already belongs to connector user ${holder.id}; kept ${user.email}`);
        } else {
          byEmail.delete(user.email);
          byEmail.set(email, user);
          set('email', email);
        }
      }
      set('erpPermission', permissionOf(person));
      set('canPushToAccounting', person.erp_integrated_accountant);
      set('active', person.is_active);
      if (wasActive && !user.active) result.deactivated += 1;
      if (changed) {
        result.updated += 1;
        changedIds.push(user.id);
      }
    }

    await em.flush();
    if (result.created || result.updated) {
      this.audit.record(em, {
        actor,
        action: 'user.sync',
        note: `Procore user sync: ${result.created} created, ${result.updated} updated, ${result.deactivated} deactivated`,
        data: { created: createdUsers.map((user) => user.id), updated: changedIds, skipped: result.skipped },
      });
      await em.flush();
    }
    return result;
  }
}

function permissionOf(person: ProcoreCompanyUser): ErpPermission {
  return person.erp_integrated_accountant ? 'standard' : 'read_only';
}
