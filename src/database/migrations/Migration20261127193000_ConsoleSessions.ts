import { Migration } from '@mikro-orm/migrations';

export class Migration20261127193000_ConsoleSessions extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "console_session" ("id" text not null, "user_id" bigint not null, "method" text check ("method" in ('procore', 'token')) not null, "api_token_id" bigint null, "csrf_token" text not null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "flash" jsonb null, constraint "console_session_pkey" primary key ("id"));`);
    this.addSql(`create index "console_session_last_seen_at_index" on "console_session" ("last_seen_at");`);

    this.addSql(`alter table "console_session" add constraint "console_session_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "console_session" add constraint "console_session_api_token_id_foreign" foreign key ("api_token_id") references "api_token" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "console_session" cascade;`);
  }

}
