import { Migration } from '@mikro-orm/migrations';

export class Migration20261127201000_DetailPagingIndexes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index "submission_procore_project_id_index";`);
    this.addSql(`drop index "submission_status_created_at_index";`);

    this.addSql(`create index "submission_procore_project_id_created_at_id_index" on "submission" ("procore_project_id", "created_at", "id");`);
    this.addSql(`create index "submission_status_created_at_id_index" on "submission" ("status", "created_at", "id");`);
    this.addSql(`create index "submission_created_at_id_index" on "submission" ("created_at", "id");`);

    this.addSql(`create index "submission_row_flagged" on "submission_row" ("submission_id", "position") where jsonb_array_length("problems") > 0;`);
    this.addSql(`create index "submission_row_submission_id_position_index" on "submission_row" ("submission_id", "position");`);

    this.addSql(`create index "submission_line_flagged" on "submission_line" ("submission_id", "position") where jsonb_array_length("problems") > 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "submission_procore_project_id_created_at_id_index";`);
    this.addSql(`drop index "submission_status_created_at_id_index";`);
    this.addSql(`drop index "submission_created_at_id_index";`);

    this.addSql(`create index "submission_procore_project_id_index" on "submission" ("procore_project_id");`);
    this.addSql(`create index "submission_status_created_at_index" on "submission" ("status", "created_at");`);

    this.addSql(`drop index "submission_line_flagged";`);

    this.addSql(`drop index "submission_row_flagged";`);
    this.addSql(`drop index "submission_row_submission_id_position_index";`);
  }

}
