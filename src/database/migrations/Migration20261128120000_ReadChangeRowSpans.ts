import { Migration } from '@mikro-orm/migrations';

/**
 * Row updates that only change what a row shows (its export state, error, written time…) — not
 * which submission or position it has, nor its problems — now notify `r:<submission>:<first>-<last>`
 * (the positions the statement changed, per submission, comma-separated) instead of `d:<ids>`, so
 * the API's read cache drops only the details answers whose rows page holds one of those positions
 * (an export's ledger updates a few rows at a time). Every other change to rows still notifies
 * `d:<ids>` (see Migration20261128010000_ReadChangeNotifications).
 */
export class Migration20261128120000_ReadChangeRowSpans extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function connector_reads_submission_row() returns trigger language plpgsql as $$
declare spans text;
begin
  -- Nested, not joined with and: old_rows exists only in the update trigger.
  if tg_op = 'UPDATE' then
    -- A set difference, not a join: the planner knows nothing of transition tables and would loop.
    if not exists (select id, submission_id, position, problems from new_rows
                   except all select id, submission_id, position, problems from old_rows) then
      select string_agg(submission_id || ':' || first || '-' || last, ',' order by submission_id) into spans
        from (select submission_id, min(position) as first, max(position) as last from new_rows group by submission_id) changed;
      if spans is null then return null; end if;
      perform pg_notify('connector_reads', case when length(spans) > 7000 then '*' else 'r:' || spans end);
      return null;
    end if;
  end if;
${NOTIFY_DETAILS}
end $$;`);
    // The update trigger now needs the rows as they were too.
    this.addSql(`drop trigger "submission_row_reads_update" on "submission_row";`);
    this.addSql(updateTrigger('old table as old_rows new table as new_rows'));
  }

  override async down(): Promise<void> {
    this.addSql(`create or replace function connector_reads_submission_row() returns trigger language plpgsql as $$
begin
${NOTIFY_DETAILS}
end $$;`);
    this.addSql(`drop trigger "submission_row_reads_update" on "submission_row";`);
    this.addSql(updateTrigger('new table as new_rows'));
  }
}

/** Any other change to rows: `d:<ids>`, as Migration20261128010000_ReadChangeNotifications notifies it. */
const NOTIFY_DETAILS = `  if tg_op = 'DELETE' then
    perform connector_notify_reads('d', array(select distinct submission_id from old_rows where submission_id is not null order by 1));
  else
    perform connector_notify_reads('d', array(select distinct submission_id from new_rows where submission_id is not null order by 1));
  end if;
  return null;`;

function updateTrigger(referencing: string): string {
  return `create trigger "submission_row_reads_update" after update on "submission_row" referencing ${referencing} for each statement execute function connector_reads_submission_row();`;
}
