import { Migration } from '@mikro-orm/migrations';

export class Migration20261127180826_TokenExpiryAndAuditSubject extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "audit_event" add column "subject" text null;`);
    this.addSql(`create index "audit_event_subject_id_index" on "audit_event" ("subject", "id");`);

    this.addSql(`alter table "api_token" add column "expires_at" timestamptz null;`);
    this.addSql(`create index "api_token_user_id_created_at_index" on "api_token" ("user_id", "created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "api_token_user_id_created_at_index";`);
    this.addSql(`alter table "api_token" drop column "expires_at";`);

    this.addSql(`drop index "audit_event_subject_id_index";`);
    this.addSql(`alter table "audit_event" drop column "subject";`);
  }

}
