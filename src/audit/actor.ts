import type { User } from '../users/user.entity';

/** Who did something: a user, or a label when no user acted. */
export interface Actor {
  user?: Pick<User, 'id'> | null;
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

/** A person as the API shows one. */
export function presentPerson(user: { id: string; name: string; email: string } | null | undefined) {
  return user ? { id: user.id, name: user.name, email: user.email } : null;
}
