import { Injectable } from '@nestjs/common';
import { presentPerson } from './actor';
import { AuditEvent } from './audit-event.entity';
import { AuditEventRepository } from './audit-event.repository';

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
  constructor(private readonly events: AuditEventRepository) {}

  async list(subject: string | undefined, page: number, perPage: number) {
    const [events, total] = await this.events.page(subject, page, perPage);
    return { data: events.map(presentAuditEvent), page, perPage, total };
  }
}
