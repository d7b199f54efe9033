import { FilterQuery } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import { AuditEntry } from './actor';
import { AuditEvent } from './audit-event.entity';

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
  history(submissionId: string): Promise<AuditEvent[]> {
    return this.em.find(AuditEvent, { submission: submissionId }, { populate: ['actor'], orderBy: { createdAt: 'asc', id: 'asc' } });
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
