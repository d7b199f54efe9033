import { FilterQuery } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { presentPerson } from '../budgets/submission.presenter';
import { AuditEvent } from './audit-event.entity';

export function presentAuditEvent(event: AuditEvent) {
  return {
    id: event.id,
    at: event.createdAt.toISOString(),
    actor: event.actor ? presentPerson(event.actor) : { id: null, name: event.actorLabel, email: null },
    action: event.action,
    subject: event.subject ?? (event.submission ? `submission:${event.submission.id}` : null),
    from: event.fromStatus ?? null,
    to: event.toStatus ?? null,
    note: event.note ?? null,
    data: event.data ?? null,
  };
}

/** Reads the audit trail for admins, newest first. */
@Injectable()
export class AuditEvents {
  constructor(private readonly em: EntityManager) {}

  async list(subject: string | undefined, page: number, perPage: number) {
    const [events, total] = await this.em.findAndCount(AuditEvent, whereSubject(subject), {
      populate: ['actor'],
      orderBy: { id: 'desc' },
      limit: perPage,
      offset: (page - 1) * perPage,
    });
    return { data: events.map(presentAuditEvent), page, perPage, total };
  }
}

function whereSubject(subject: string | undefined): FilterQuery<AuditEvent> {
  if (!subject) return {};
  const [kind, id] = subject.split(':');
  if (kind === 'submission') return { submission: id };
  if (kind === 'token') return { action: { $like: 'token.%' }, data: { tokenId: id } } as FilterQuery<AuditEvent>;
  return { subject };
}
