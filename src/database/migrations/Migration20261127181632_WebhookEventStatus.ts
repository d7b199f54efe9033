import { Migration } from '@mikro-orm/migrations';

export class Migration20261127181632_WebhookEventStatus extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_event" add column "raw_body" text null, add column "status" text check ("status" in ('received', 'processed', 'unusable')) not null default 'received';`);
    this.addSql(`alter table "webhook_event" alter column "dedupe_key" type text using ("dedupe_key"::text);`);
    this.addSql(`alter table "webhook_event" alter column "dedupe_key" drop not null;`);
    this.addSql(`alter table "webhook_event" alter column "procore_event_id" type text using ("procore_event_id"::text);`);
    this.addSql(`alter table "webhook_event" alter column "resource_name" type text using ("resource_name"::text);`);
    this.addSql(`alter table "webhook_event" alter column "resource_name" drop not null;`);
    this.addSql(`alter table "webhook_event" alter column "event_type" type text using ("event_type"::text);`);
    this.addSql(`alter table "webhook_event" alter column "event_type" drop not null;`);
    this.addSql(`alter table "webhook_event" alter column "payload" type jsonb using ("payload"::jsonb);`);
    this.addSql(`alter table "webhook_event" alter column "payload" drop not null;`);
    // Events stored before statuses existed: those with an outcome were processed.
    this.addSql(`update "webhook_event" set "status" = 'processed' where "processed_at" is not null;`);
    this.addSql(`create index "webhook_event_received_at_index" on "webhook_event" ("received_at");`);
    this.addSql(`create index "webhook_event_status_received_at_index" on "webhook_event" ("status", "received_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "webhook_event_received_at_index";`);
    this.addSql(`drop index "webhook_event_status_received_at_index";`);
    this.addSql(`delete from "webhook_event" where "payload" is null or "dedupe_key" is null or "resource_name" is null or "event_type" is null;`);
    this.addSql(`alter table "webhook_event" drop column "raw_body", drop column "status";`);

    this.addSql(`alter table "webhook_event" alter column "dedupe_key" type text using ("dedupe_key"::text);`);
    this.addSql(`alter table "webhook_event" alter column "dedupe_key" set not null;`);
    this.addSql(`alter table "webhook_event" alter column "procore_event_id" type int8 using ("procore_event_id"::int8);`);
    this.addSql(`alter table "webhook_event" alter column "resource_name" type text using ("resource_name"::text);`);
    this.addSql(`alter table "webhook_event" alter column "resource_name" set not null;`);
    this.addSql(`alter table "webhook_event" alter column "event_type" type text using ("event_type"::text);`);
    this.addSql(`alter table "webhook_event" alter column "event_type" set not null;`);
    this.addSql(`alter table "webhook_event" alter column "payload" type jsonb using ("payload"::jsonb);`);
    this.addSql(`alter table "webhook_event" alter column "payload" set not null;`);
  }

}
