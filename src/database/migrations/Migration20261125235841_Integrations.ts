import { Migration } from '@mikro-orm/migrations';

export class Migration20261125235841_Integrations extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "reconciliation" ("id" bigserial primary key, "submission_id" bigint not null, "ran_at" timestamptz not null, "outcome" text check ("outcome" in ('synced', 'out_of_sync', 'awaiting_import')) not null, "company_code" text not null, "job" text not null, "procore_revised_total" numeric(18,2) not null default 0, "spectrum_estimated_total" numeric(18,2) not null default 0, "variance_count" int not null default 0, "tolerance" numeric(18,2) not null default 0, "explanation" text not null, "rows" jsonb not null);`);
    this.addSql(`create index "reconciliation_submission_id_ran_at_index" on "reconciliation" ("submission_id", "ran_at");`);

    this.addSql(`create table "notification" ("id" bigserial primary key, "ledger_key" text not null, "kind" text check ("kind" in ('daily_summary', 'rejected', 'resent', 'export_failed', 'out_of_sync')) not null, "recipient_email" text not null, "recipient_name" text null, "recipient_id" bigint null, "submission_id" bigint null, "audit_event_id" bigint null, "day" text null, "state" text check ("state" in ('pending', 'sent', 'failed')) not null default 'pending', "attempts" int not null default 0, "last_error" text null, "subject" text null, "message_id" text null, "sent_at" timestamptz null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "notification" add constraint "notification_ledger_key_unique" unique ("ledger_key");`);
    this.addSql(`create index "notification_state_created_at_index" on "notification" ("state", "created_at");`);

    this.addSql(`create table "webhook_event" ("id" bigserial primary key, "dedupe_key" text not null, "ulid" text null, "procore_event_id" bigint null, "resource_name" text not null, "event_type" text not null, "resource_id" bigint null, "project_id" bigint null, "company_id" bigint null, "procore_user_id" bigint null, "payload" jsonb not null, "received_at" timestamptz not null, "processed_at" timestamptz null, "outcome" text null);`);
    this.addSql(`alter table "webhook_event" add constraint "webhook_event_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "webhook_event_project_id_received_at_index" on "webhook_event" ("project_id", "received_at");`);

    this.addSql(`alter table "reconciliation" add constraint "reconciliation_submission_id_foreign" foreign key ("submission_id") references "submission" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "notification" add constraint "notification_recipient_id_foreign" foreign key ("recipient_id") references "app_user" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "notification" add constraint "notification_submission_id_foreign" foreign key ("submission_id") references "submission" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "submission" add column "exported_at" timestamptz null;`);

    this.addSql(`alter table "submission_row" add column "spectrum_action" text check ("spectrum_action" in ('new_phase', 'new_row', 'update')) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "reconciliation" cascade;`);

    this.addSql(`drop table if exists "notification" cascade;`);

    this.addSql(`drop table if exists "webhook_event" cascade;`);

    this.addSql(`alter table "submission" drop column "exported_at";`);

    this.addSql(`alter table "submission_row" drop column "spectrum_action";`);
  }

}
