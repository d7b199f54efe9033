import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { User } from './user.entity';

/** A bearer token: only its SHA-256 is stored; the token itself is shown once. */
@Entity({ tableName: 'api_token' })
@Index({ properties: ['user', 'createdAt'] })
export class ApiToken {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @ManyToOne(() => User, { deleteRule: 'cascade', index: false })
  user: User;

  @Property({ type: 'text', unique: true })
  tokenHash: string;

  /** The first characters, to tell tokens apart in listings without revealing them. */
  @Property({ type: 'text' })
  tokenPrefix: string;

  @Property({ type: 'text', nullable: true })
  label?: string | null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt?: Date | null;

  /** After this time the token answers 401; null: it does not expire. */
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date | null;
}
