import { FilterQuery } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import { AuditEntry } from './actor';
import { AuditEvent } from './audit-event.entity';

/** An event of a submission's history, with its actor (plain SQL: the API's details page reads it on every request). */
export type HistoryEntry = Pick<AuditEvent, 'createdAt' | 'actorLabel' | 'action'> & {
  actor: { id: string; name: string; email: string } | null;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
};

/**
 * The audit trail (`audit_event`): appended to, never changed (a database trigger refuses UPDATE
 * and DELETE), read for the history of a submission and the admins' listing.
 */
@Injectable()
export class AuditEventRepository extends Repository {
  /** Appends an event (in the surrounding transaction, when there is one); returns its id. */
  async record(entry: AuditEntry): Promise<{ id: string }> {
    const em = this.em;
    const event = em.create(AuditEvent, {
      submission: entry.submissionId ? em.getReference('Submission', entry.submissionId) : null,
      actor: entry.actor.user ? em.getReference('User', entry.actor.user.id) : null,
      actorLabel: entry.actor.user ? 'user' : (entry.actor.label ?? 'system'),
      action: entry.action,
      subject: entry.subject ?? null,
      fromStatus: entry.from ?? null,
      toStatus: entry.to ?? null,
      note: entry.note ?? null,
      data: entry.data ?? null,
      createdAt: new Date(),
    } as never);
    await em.flush();
    return { id: event.id };
  }

  /** A submission's events, oldest first, with their actors. */
  async history(submissionId: string): Promise<HistoryEntry[]> {
    const records = await this.em.execute<
      Array<{ created_at: Date | string; actor_id: string | number | null; actor_name: string | null; actor_email: string | null; actor_label: string; action: string; from_status: string | null; to_status: string | null; note: string | null }>
    >(
      `select e.created_at, u.id as actor_id, u.name as actor_name, u.email as actor_email, e.actor_label, e.action, e.from_status, e.to_status, e.note
         from audit_event e left join app_user u on u.id = e.actor_id
        where e.submission_id = ? order by e.created_at, e.id`,
      [submissionId],
    );
    return records.map((record) => ({
      createdAt: new Date(record.created_at),
      actor: record.actor_id === null ? null : { id: String(record.actor_id), name: record.actor_name ?? '', email: record.actor_email ?? '' },
      actorLabel: record.actor_label,
      action: record.action,
      fromStatus: record.from_status,
      toStatus: record.to_status,
      note: record.note,
    }));
  }

  /** One event with its actor. */
  findById(id: string): Promise<AuditEvent | null> {
    return this.em.findOne(AuditEvent, id, { populate: ['actor'] });
  }

  /** The latest status change of a submission. */
  latestTransition(submissionId: string): Promise<AuditEvent | null> {
    return this.em.findOne(AuditEvent, { submission: submissionId, toStatus: { $ne: null } }, { populate: ['actor'], orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /** The latest event that moved the submission into `status`, with its actor. */
  latestInto(submissionId: string, status: string): Promise<AuditEvent | null> {
    return this.em.findOne(AuditEvent, { submission: submissionId, toStatus: status }, { populate: ['actor'], orderBy: { id: 'desc' } });
  }

  /** The action that last moved the submission into `status` from another status (e.g. `acknowledge` into synced). */
  async lastEntryAction(submissionId: string, status: string): Promise<string | null> {
    const [entered] = await this.em.execute<Array<{ action: string }>>(
      `select action from audit_event
        where submission_id = ? and to_status = ? and from_status is distinct from ?
        order by id desc limit 1`,
      [submissionId, status, status],
    );
    return entered?.action ?? null;
  }

  /** A page of events, newest first, optionally about one subject (`user:12`, `token:3`, `submission:7`). */
  page(subject: string | undefined, page: number, perPage: number): Promise<[AuditEvent[], number]> {
    return this.em.findAndCount(AuditEvent, whereSubject(subject), {
      populate: ['actor'],
      orderBy: { id: 'desc' },
      limit: perPage,
      offset: (page - 1) * perPage,
    });
  }
}

function whereSubject(subject: string | undefined): FilterQuery<AuditEvent> {
  if (!subject) return {};
  const [kind, id] = subject.split(':');
  if (kind === 'submission') return { submission: id };
  if (kind === 'token') return { action: { $like: 'token.%' }, data: { tokenId: id } } as FilterQuery<AuditEvent>;
  return { subject };
}
