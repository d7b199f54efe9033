import { Migration } from '@mikro-orm/migrations';

export class Migration20261127194000_PendingWorkRerun extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "pending_work" add column "started_at" timestamptz null, add column "rerun_requested" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "pending_work" drop column "started_at", drop column "rerun_requested";`);
  }

}
