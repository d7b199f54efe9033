import { Migration } from '@mikro-orm/migrations';

/**
 * Statistics on how many problems lines and rows carry. Without them PostgreSQL guesses that a
 * third of a budget's lines match `jsonb_array_length(problems) > 0` (its default for an
 * expression), plans the problems query of a 20,000-line budget for 6,667 flagged rows, and runs
 * it with parallel workers: about 200 ms, nearly all of it starting the workers, for a query that
 * reads the few flagged rows through the partial indexes in under a millisecond. With them it
 * knows flagged rows are rare and plans a plain index scan of `submission_row_flagged` /
 * `submission_line_flagged`. (The API's details page, the console's budget page and accept ask it.)
 */
export class Migration20261127221500_ProblemStatistics extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create statistics "submission_row_problem_count" on (jsonb_array_length("problems")) from "submission_row";`);
    this.addSql(`create statistics "submission_line_problem_count" on (jsonb_array_length("problems")) from "submission_line";`);
    this.addSql(`analyze "submission_row", "submission_line";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop statistics "submission_row_problem_count";`);
    this.addSql(`drop statistics "submission_line_problem_count";`);
  }
}
