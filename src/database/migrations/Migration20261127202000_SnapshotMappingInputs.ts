import { Migration } from '@mikro-orm/migrations';

export class Migration20261127202000_SnapshotMappingInputs extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "submission" add column "project_origin_id" text null, add column "project_number" text null, add column "remappable" boolean not null default false;`);

    this.addSql(`alter table "submission_line" add column "cost_code_origin_id" text null, add column "category_code" text null, add column "category_origin_id" text null, add column "amount_problem" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "submission" drop column "project_origin_id", drop column "project_number", drop column "remappable";`);

    this.addSql(`alter table "submission_line" drop column "cost_code_origin_id", drop column "category_code", drop column "category_origin_id", drop column "amount_problem";`);
  }

}
