import { Migration } from '@mikro-orm/migrations';

export class Migration20261125234532_Initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "pending_work" ("id" bigserial primary key, "job_name" text not null, "payload" jsonb not null, "dedupe_key" text null, "state" text check ("state" in ('pending', 'done', 'failed')) not null default 'pending', "attempts" int not null default 0, "last_error" text null, "available_at" timestamptz not null, "enqueued_at" timestamptz null, "finished_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "pending_work_state_available_at_index" on "pending_work" ("state", "available_at");`);
    this.addSql(`create unique index "pending_work_open_dedupe_key" on "pending_work" ("dedupe_key") where state = 'pending';`);

    this.addSql(`create table "app_user" ("id" bigserial primary key, "email" text not null, "name" text not null, "erp_permission" text check ("erp_permission" in ('none', 'read_only', 'standard', 'admin')) not null default 'none', "can_push_to_accounting" boolean not null default false, "subscribed_to_digest" boolean not null default true, "active" boolean not null default true, "procore_user_id" bigint null, "local_overrides" jsonb not null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "app_user" add constraint "app_user_email_unique" unique ("email");`);
    this.addSql(`alter table "app_user" add constraint "app_user_procore_user_id_unique" unique ("procore_user_id");`);

    this.addSql(`create table "submission" ("id" bigserial primary key, "procore_project_id" bigint not null, "project_name" text not null default '', "job" text null, "status" text check ("status" in ('ingesting', 'ingest_failed', 'ready_to_export', 'exporting', 'exported', 'synced', 'out_of_sync', 'failed_to_export', 'rejected', 'retrieved', 'superseded')) not null default 'ingesting', "status_changed_at" timestamptz not null, "source" text check ("source" in ('api', 'webhook', 'poll', 'sample')) not null, "sent_by_id" bigint null, "created_by_id" bigint null, "sent_at" timestamptz not null, "decided_by_id" bigint null, "decided_at" timestamptz null, "rejection_reason" text null, "budget_view_id" bigint null, "locked_by_connector" boolean not null default false, "fingerprint" text null, "original_budget" numeric(18,2) not null default 0, "budget_changes" numeric(18,2) not null default 0, "revised_estimate" numeric(18,2) not null default 0, "line_count" int not null default 0, "row_count" int not null default 0, "problem_count" int not null default 0, "ingest_error" text null, "unlocked_at" timestamptz null, "unlocked_by_id" bigint null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "submission_procore_project_id_index" on "submission" ("procore_project_id");`);
    this.addSql(`create index "submission_status_created_at_index" on "submission" ("status", "created_at");`);
    this.addSql(`create unique index "submission_one_open_per_project" on "submission" ("procore_project_id") where status in ('ingesting', 'ready_to_export', 'exporting', 'exported', 'failed_to_export', 'out_of_sync');`);

    this.addSql(`create table "submission_row" ("id" bigserial primary key, "submission_id" bigint not null, "position" int not null, "job" text null, "phase" text null, "cost_type" text null, "description" text not null default '', "original_budget" numeric(18,2) not null default 0, "revised_estimate" numeric(18,2) not null default 0, "line_count" int not null default 0, "problems" jsonb not null, "export_state" text check ("export_state" in ('pending', 'written', 'failed')) not null default 'pending', "export_error" jsonb null, "export_attempts" int not null default 0, "written_at" timestamptz null);`);
    this.addSql(`alter table "submission_row" add constraint "submission_row_submission_id_job_phase_cost_type_unique" unique ("submission_id", "job", "phase", "cost_type");`);

    this.addSql(`create table "submission_line" ("id" bigserial primary key, "submission_id" bigint not null, "position" int not null, "procore_line_id" bigint null, "cost_code_id" bigint null, "cost_code" text not null default '', "category_id" bigint null, "category" text not null default '', "description" text not null default '', "original_budget" numeric(18,2) not null default 0, "budget_changes" numeric(18,2) not null default 0, "revised_estimate" numeric(18,2) not null default 0, "job" text null, "phase" text null, "cost_type" text null, "row_id" bigint null, "problems" jsonb not null, "notes" jsonb not null);`);
    this.addSql(`create index "submission_line_submission_id_position_index" on "submission_line" ("submission_id", "position");`);

    this.addSql(`create table "audit_event" ("id" bigserial primary key, "submission_id" bigint null, "actor_id" bigint null, "actor_label" text not null default 'system', "action" text not null, "from_status" text null, "to_status" text null, "note" text null, "data" jsonb null, "created_at" timestamptz not null);`);
    this.addSql(`create index "audit_event_submission_id_created_at_index" on "audit_event" ("submission_id", "created_at");`);

    this.addSql(`create table "api_token" ("id" bigserial primary key, "user_id" bigint not null, "token_hash" text not null, "token_prefix" text not null, "label" text null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "revoked_at" timestamptz null);`);
    this.addSql(`alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "submission" add constraint "submission_sent_by_id_foreign" foreign key ("sent_by_id") references "app_user" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "submission" add constraint "submission_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "submission" add constraint "submission_decided_by_id_foreign" foreign key ("decided_by_id") references "app_user" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "submission" add constraint "submission_unlocked_by_id_foreign" foreign key ("unlocked_by_id") references "app_user" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "submission_row" add constraint "submission_row_submission_id_foreign" foreign key ("submission_id") references "submission" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "submission_line" add constraint "submission_line_submission_id_foreign" foreign key ("submission_id") references "submission" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "submission_line" add constraint "submission_line_row_id_foreign" foreign key ("row_id") references "submission_row" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "audit_event" add constraint "audit_event_submission_id_foreign" foreign key ("submission_id") references "submission" ("id") on update cascade on delete no action;`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_actor_id_foreign" foreign key ("actor_id") references "app_user" ("id") on update cascade on delete no action;`);

    this.addSql(`alter table "api_token" add constraint "api_token_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);

    // The audit trail is append-only: the database itself refuses to change or remove an event.
    this.addSql(`create function audit_event_append_only() returns trigger language plpgsql as $$ begin raise exception 'audit_event is append-only'; end $$;`);
    this.addSql(`create trigger audit_event_no_update_or_delete before update or delete on "audit_event" for each row execute function audit_event_append_only();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists audit_event_no_update_or_delete on "audit_event";`);
    this.addSql(`drop function if exists audit_event_append_only();`);

    this.addSql(`alter table "submission" drop constraint "submission_sent_by_id_foreign";`);

    this.addSql(`alter table "submission" drop constraint "submission_created_by_id_foreign";`);

    this.addSql(`alter table "submission" drop constraint "submission_decided_by_id_foreign";`);

    this.addSql(`alter table "submission" drop constraint "submission_unlocked_by_id_foreign";`);

    this.addSql(`alter table "audit_event" drop constraint "audit_event_actor_id_foreign";`);

    this.addSql(`alter table "api_token" drop constraint "api_token_user_id_foreign";`);

    this.addSql(`alter table "submission_row" drop constraint "submission_row_submission_id_foreign";`);

    this.addSql(`alter table "submission_line" drop constraint "submission_line_submission_id_foreign";`);

    this.addSql(`alter table "audit_event" drop constraint "audit_event_submission_id_foreign";`);

    this.addSql(`alter table "submission_line" drop constraint "submission_line_row_id_foreign";`);

    this.addSql(`drop table if exists "pending_work" cascade;`);

    this.addSql(`drop table if exists "app_user" cascade;`);

    this.addSql(`drop table if exists "submission" cascade;`);

    this.addSql(`drop table if exists "submission_row" cascade;`);

    this.addSql(`drop table if exists "submission_line" cascade;`);

    this.addSql(`drop table if exists "audit_event" cascade;`);

    this.addSql(`drop table if exists "api_token" cascade;`);
  }

}
