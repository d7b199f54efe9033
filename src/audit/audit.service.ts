import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { User } from '../users/user.entity';
import { AuditEvent } from './audit-event.entity';

export interface Actor {
  user?: User | null;
  /** Shown when no user acted: `system`, `procore`, `spectrum`, `cli`. */
  label?: string;
}

export const SYSTEM: Actor = { label: 'system' };

export interface AuditEntry {
  submissionId?: string | null;
  /** What the event is about when it is not a submission: `user:12`. */
  subject?: string | null;
  actor: Actor;
  action: string;
  from?: string | null;
  to?: string | null;
  note?: string | null;
  data?: Record<string, unknown> | null;
}

/** Writes audit events; never updates or deletes them (the database refuses both). */
@Injectable()
export class AuditService {
  record(em: EntityManager, entry: AuditEntry): AuditEvent {
    const event = em.create(AuditEvent, {
      submission: entry.submissionId ? em.getReference('Submission', entry.submissionId) : null,
      actor: entry.actor.user ?? null,
      actorLabel: entry.actor.user ? 'user' : (entry.actor.label ?? 'system'),
      action: entry.action,
      subject: entry.subject ?? null,
      fromStatus: entry.from ?? null,
      toStatus: entry.to ?? null,
      note: entry.note ?? null,
      data: entry.data ?? null,
      createdAt: new Date(),
    } as never);
    em.persist(event);
    return event;
  }
}
