import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { ApiToken } from '../users/api-token.entity';
import { User } from '../users/user.entity';

export const SIGN_IN_METHODS = ['procore', 'token'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/**
 * A signed-in browser of the approver console. Kept in PostgreSQL, so it survives restarts and
 * every API instance sees it. The cookie holds a random secret; only its SHA-256 is stored here.
 */
@Entity({ tableName: 'console_session' })
export class ConsoleSession {
  /** SHA-256 (hex) of the cookie's secret. */
  @PrimaryKey({ type: 'text' })
  id: string;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user: User;

  @Enum({ items: () => [...SIGN_IN_METHODS], type: 'text' })
  method: SignInMethod;

  /** The API token signed in with: its revocation ends the session. */
  @ManyToOne(() => ApiToken, { nullable: true, deleteRule: 'cascade' })
  apiToken?: ApiToken | null;

  /** Sent with every state change (form field or header) and compared with this. */
  @Property({ type: 'text' })
  csrfToken: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Index()
  @Property({ type: 'timestamptz' })
  lastSeenAt: Date = new Date();

  /** The absolute end, however active the session is. */
  @Property({ type: 'timestamptz' })
  expiresAt: Date;

  /** A one-time message for the next page (after a redirect): kind and text. */
  @Property({ type: 'json', nullable: true })
  flash?: { kind: 'notice' | 'error'; text: string } | null;
}
