import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import type { Submission } from '../budgets/submission.entity';
import type { User } from '../users/user.entity';

/**
 * Append-only record of who did what and when. A database trigger refuses UPDATE and DELETE.
 * It names the submission and the user by entity name: the audit trail sits below the modules it
 * records (they all write to it), so it imports none of them at run time.
 */
@Entity({ tableName: 'audit_event' })
@Index({ properties: ['submission', 'createdAt'] })
@Index({ properties: ['subject', 'id'] })
export class AuditEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @ManyToOne('Submission', { nullable: true, deleteRule: 'no action', index: false })
  submission?: Submission | null;

  @ManyToOne('User', { nullable: true, deleteRule: 'no action' })
  actor?: User | null;

  /** Who acted when it was not a user: `system`, `procore`, `spectrum`, `cli`. */
  @Property({ type: 'text' })
  actorLabel: string = 'system';

  /** The state machine event (`accept`, `reject`, …) or another action (`unlock`, `user.create`). */
  @Property({ type: 'text' })
  action: string;

  /**
   * What the event is about when it is not a submission, as `kind:id` — `user:12` for a user's
   * changes and for its tokens' (the token id is in `data.tokenId`).
   */
  @Property({ type: 'text', nullable: true })
  subject?: string | null;

  @Property({ type: 'text', nullable: true })
  fromStatus?: string | null;

  @Property({ type: 'text', nullable: true })
  toStatus?: string | null;

  @Property({ type: 'text', nullable: true })
  note?: string | null;

  @Property({ type: 'json', nullable: true })
  data?: Record<string, unknown> | null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
