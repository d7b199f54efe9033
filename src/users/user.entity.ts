import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';

export const ERP_PERMISSIONS = ['none', 'read_only', 'standard', 'admin'] as const;
export type ErpPermission = (typeof ERP_PERMISSIONS)[number];

/** Fields an admin can change in the connector; once changed there, the Procore user sync keeps them. */
export const LOCALLY_OVERRIDABLE = ['name', 'email', 'erpPermission', 'canPushToAccounting', 'active'] as const;
export type LocallyOverridable = (typeof LOCALLY_OVERRIDABLE)[number];

@Entity({ tableName: 'app_user' })
export class User {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  /** Lower-cased; unique. */
  @Property({ type: 'text', unique: true })
  email: string;

  @Property({ type: 'text' })
  name: string;

  @Enum({ items: () => [...ERP_PERMISSIONS], type: 'text' })
  erpPermission: ErpPermission = 'none';

  @Property({ type: 'boolean' })
  canPushToAccounting = false;

  @Property({ type: 'boolean' })
  subscribedToDigest = true;

  @Property({ type: 'boolean' })
  active = true;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true, unique: true })
  procoreUserId?: string | null;

  /** Which fields were decided in the connector (changed there, or held when linked by email) and must survive the Procore user sync. */
  @Property({ type: 'json' })
  localOverrides: LocallyOverridable[] = [];

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
