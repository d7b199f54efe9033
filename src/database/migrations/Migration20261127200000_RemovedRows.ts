import { Migration } from '@mikro-orm/migrations';

export class Migration20261127200000_RemovedRows extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "submission_row" add column "removed" boolean not null default false, add column "removed_estimate" numeric(18,2) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "submission_row" drop column "removed", drop column "removed_estimate";`);
  }

}
