import { Injectable, Logger } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { Actor } from '../../audit/actor';
import { AuditEventRepository } from '../../audit/audit-event.repository';
import { LockRepository } from '../../database/lock.repository';
import { ErpPermission, LocallyOverridable, User } from '../../users/user.entity';
import { UserRepository } from '../../users/user.repository';
import { LAST_ADMIN_REASON } from '../../users/users.service';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreError } from '../client/procore-errors';
import type { ProcoreCompanyUser } from '../client/procore.types';

export interface UserSyncResult {
  /** Procore users read. */
  read: number;
  created: number;
  updated: number;
  deactivated: number;
  /** Connector users linked to their Procore user for the first time (matched by email). */
  linked: number;
  /** Procore users (or their email) that could not be taken in, and why. */
  skipped: string[];
  /** Changes Procore asked for that the connector refused to make, and why (e.g. the last active admin). */
  kept: string[];
}

/** A miss (webhook sender, budget creator) triggers a sync at most this often per process. */
const RESYNC_ON_MISS_AFTER_MS = 60_000;
/**
 * A connector user linked by email keeps everything it had: it was set in the connector. Only
 * `active` may still follow Procore, and only towards inactive.
 */
const KEPT_ON_LINK: LocallyOverridable[] = ['name', 'email', 'erpPermission', 'canPushToAccounting'];
const MAX_EMAIL = 254;
const MAX_NAME = 200;

/**
 * Procore company users → connector users (docs/architecture.md, "Access"):
 * matched by Procore user id, then by email — a link by email only for a connector user with no
 * Procore link yet, and the link changes nothing else. New users get `standard` and "Can Push to
 * Accounting" when Procore says `erp_integrated_accountant`, else `read_only`. Fields changed in the
 * connector (`localOverrides`) are never overwritten. Procore users who left become inactive (never
 * the last active admin); the sync never reactivates anyone. Users missing from Procore's list are
 * left alone. Malformed email addresses are skipped, never stored.
 */
@Injectable()
export class ProcoreUserSync {
  private readonly logger = new Logger(ProcoreUserSync.name);
  private lastSyncAt = 0;

  constructor(
    private readonly users: UserRepository,
    private readonly locks: LockRepository,
    private readonly client: ProcoreClient,
    private readonly audit: AuditEventRepository,
  ) {}

  async sync(actor: Actor = { label: 'procore' }): Promise<UserSyncResult> {
    const people = await this.client.listCompanyUsers();
    const result = await this.users.transaction(() => this.apply(people, actor));
    this.lastSyncAt = Date.now();
    if (result.created || result.updated) {
      this.logger.log(
        `Procore user sync: ${result.created} created, ${result.updated} updated (${result.deactivated} deactivated, ${result.linked} linked)`,
      );
    }
    for (const reason of result.skipped) this.logger.warn(`Procore user sync skipped: ${reason}`);
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

  private lookup(ids: number[]): Promise<Map<number, string>> {
    return this.users.idsByProcoreId(ids);
  }

  private async apply(people: ProcoreCompanyUser[], actor: Actor): Promise<UserSyncResult> {
    // One sync at a time: concurrent ones would race on the unique email and Procore id.
    await this.locks.userSync();
    await this.locks.activeAdmins();
    const users = await this.users.all();
    const byProcoreId = new Map(users.filter((user) => user.procoreUserId).map((user) => [String(user.procoreUserId), user]));
    const byEmail = new Map(users.map((user) => [user.email, user]));
    const result: UserSyncResult = { read: people.length, created: 0, updated: 0, deactivated: 0, linked: 0, skipped: [], kept: [] };
    const changes: UserChange[] = [];
    const createdUsers: User[] = [];

    for (const person of people) {
      const procoreId = String(person.id);
      const email = emailOf(person, result);
      const name = person.name?.trim().slice(0, MAX_NAME) || email || `Procore user ${procoreId}`;
      let user = byProcoreId.get(procoreId);
      let linked = false;
      if (!user && email) {
        const sameEmail = byEmail.get(email);
        if (sameEmail?.procoreUserId && String(sameEmail.procoreUserId) !== procoreId) {
          result.skipped.push(`Procore user ${procoreId}: ${email} belongs to connector user ${sameEmail.id}, linked to Procore user ${sameEmail.procoreUserId}`);
          continue;
        }
        if (sameEmail) {
          // The link changes nothing else: whatever the connector user is, it stays.
          sameEmail.procoreUserId = procoreId;
          sameEmail.localOverrides = [...new Set([...sameEmail.localOverrides, ...KEPT_ON_LINK])];
          byProcoreId.set(procoreId, sameEmail);
          result.linked += 1;
          user = sameEmail;
          linked = true;
        }
      }

      if (!user) {
        if (!email) {
          if (!person.email_address?.trim()) result.skipped.push(`Procore user ${procoreId} has no email address`);
          continue;
        }
        const created = this.users.create({
          email,
          name,
          erpPermission: permissionOf(person),
          canPushToAccounting: person.erp_integrated_accountant,
          subscribedToDigest: true,
          active: person.is_active,
          procoreUserId: procoreId,
          localOverrides: [],
        });
        users.push(created);
        byProcoreId.set(procoreId, created);
        byEmail.set(email, created);
        createdUsers.push(created);
        result.created += 1;
        continue;
      }

      // After a link only `active` can follow Procore (towards inactive), as on every later sync.
      const fields = this.follow(user, person, { email, name }, { users, byEmail, result });
      if (fields.active) result.deactivated += 1;
      if (linked) {
        const note = `linked to Procore user ${procoreId} by email${fields.active ? '; deactivated: inactive in Procore' : ''}`;
        changes.push({ user, action: 'user.link', note, fields });
      } else if (Object.keys(fields).length) {
        changes.push({ user, action: fields.active ? 'user.deactivate' : 'user.update', note: Object.keys(fields).join(', '), fields });
      }
      if (linked || Object.keys(fields).length) result.updated += 1;
    }

    await this.users.save();
    for (const user of createdUsers) {
      await this.audit.record({ actor, action: 'user.create', subject: `user:${user.id}`, note: `created from Procore user ${user.procoreUserId}`, data: { userId: user.id, erpPermission: user.erpPermission, active: user.active } });
    }
    for (const change of changes) {
      await this.audit.record({ actor, action: change.action, subject: `user:${change.user.id}`, note: change.note, data: { userId: change.user.id, procoreUserId: change.user.procoreUserId, changes: change.fields } });
    }
    if (result.created || result.updated || result.kept.length) {
      await this.audit.record({
        actor,
        action: 'user.sync',
        note: `Procore user sync: ${result.created} created, ${result.updated} updated, ${result.deactivated} deactivated`,
        data: { created: createdUsers.map((user) => user.id), updated: changes.map((change) => change.user.id), skipped: result.skipped, kept: result.kept },
      });
    }
    return result;
  }

  /**
   * Takes from Procore what the connector has not decided itself (`localOverrides`): name, email and,
   * for users the sync created, their ERP permission. It may deactivate — never the last active admin —
   * and never reactivates: turning someone back on is a decision made in the connector.
   */
  private follow(
    user: User,
    person: ProcoreCompanyUser,
    from: { email: string | null; name: string },
    state: { users: User[]; byEmail: Map<string, User>; result: UserSyncResult },
  ): Record<string, { from: unknown; to: unknown }> {
    const kept = new Set(user.localOverrides);
    const fields: Record<string, { from: unknown; to: unknown }> = {};
    const set = <K extends LocallyOverridable>(field: K, value: User[K]) => {
      if (kept.has(field) || user[field] === value) return;
      fields[field] = { from: user[field], to: value };
      user[field] = value;
    };
    set('name', from.name);
    if (from.email && from.email !== user.email && !kept.has('email')) {
      const holder = state.byEmail.get(from.email);
      if (holder && holder !== user) {
        state.result.skipped.push(`Procore user ${person.id}: new email ${from.email} already belongs to connector user ${holder.id}; kept ${user.email}`);
      } else {
        state.byEmail.delete(user.email);
        state.byEmail.set(from.email, user);
        set('email', from.email);
      }
    }
    const permission = permissionOf(person);
    if (!kept.has('erpPermission') && user.erpPermission !== permission && this.isLastActiveAdmin(user, state.users)) {
      this.keep(state.result, `connector user ${user.id} (${user.email}) keeps ERP permission admin: it ${LAST_ADMIN_REASON}`);
    } else {
      set('erpPermission', permission);
    }
    set('canPushToAccounting', person.erp_integrated_accountant);
    if (!person.is_active && user.active && !kept.has('active')) {
      if (this.isLastActiveAdmin(user, state.users)) {
        this.keep(state.result, `connector user ${user.id} (${user.email}) stays active although Procore marks them inactive: it ${LAST_ADMIN_REASON}`);
      } else {
        set('active', false);
      }
    }
    return fields;
  }

  private isLastActiveAdmin(user: User, users: User[]): boolean {
    const isActiveAdmin = (candidate: User) => candidate.active && candidate.erpPermission === 'admin';
    return isActiveAdmin(user) && !users.some((other) => other !== user && isActiveAdmin(other));
  }

  private keep(result: UserSyncResult, reason: string): void {
    result.kept.push(reason);
    this.logger.warn(`Procore user sync: ${reason}`);
  }
}

interface UserChange {
  user: User;
  action: 'user.link' | 'user.update' | 'user.deactivate';
  note: string;
  fields: Record<string, { from: unknown; to: unknown }>;
}

/**
 * The Procore user's email, lower-cased, when it is a valid address; a malformed one is reported
 * (without echoing it: it may hold anything) and never stored.
 */
function emailOf(person: ProcoreCompanyUser, result: UserSyncResult): string | null {
  const email = typeof person.email_address === 'string' ? person.email_address.trim().toLowerCase() : '';
  if (!email) return null;
  if (email.length > MAX_EMAIL || !isEmail(email)) {
    result.skipped.push(`Procore user ${person.id} has a malformed email address; it was not stored`);
    return null;
  }
  return email;
}

function permissionOf(person: ProcoreCompanyUser): ErpPermission {
  return person.erp_integrated_accountant ? 'standard' : 'read_only';
}
