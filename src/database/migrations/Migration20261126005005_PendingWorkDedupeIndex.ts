import { Migration } from '@mikro-orm/migrations';

export class Migration20261126005005_PendingWorkDedupeIndex extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "pending_work_dedupe_key_index" on "pending_work" ("dedupe_key");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "pending_work_dedupe_key_index";`);
  }

}
