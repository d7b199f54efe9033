import { Migration } from '@mikro-orm/migrations';

/**
 * What the API's read cache (src/budgets/api/read-cache.ts) needs to know: whenever a transaction
 * commits a change to what a budget's list or details show, PostgreSQL notifies channel
 * `connector_reads` (one statement-level trigger per table and event, so a 20,000-row insert sends
 * one notification). Payloads: `s:<ids>` a submission changed (its details and every list),
 * `d:<ids>` a submission's lines, rows or history changed (its details), `t` an API token changed
 * (the bearer guard's lookups), `u` a user changed (names are shown everywhere; users own tokens),
 * `*` a table was truncated (everything). PostgreSQL delivers them in commit
 * order to listeners only, after the commit; writers take no lock for them but the notify queue's.
 */
export class Migration20261128010000_ReadChangeNotifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function connector_notify_reads(kind text, ids bigint[]) returns void language plpgsql as $$
declare payload text := kind || ':' || array_to_string(ids, ',');
begin
  if cardinality(ids) = 0 then return; end if;
  -- A notification carries at most 8,000 bytes: beyond that, every submission of the kind.
  if length(payload) > 7000 then payload := '*'; end if;
  perform pg_notify('connector_reads', payload);
end $$;`);
    for (const [table, kind, column] of CHANGES) {
      this.addSql(`create function connector_reads_${table}() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    perform connector_notify_reads('${kind}', array(select distinct ${column} from old_rows where ${column} is not null order by 1));
  else
    perform connector_notify_reads('${kind}', array(select distinct ${column} from new_rows where ${column} is not null order by 1));
  end if;
  return null;
end $$;`);
      for (const event of ['insert', 'update', 'delete'] as const) {
        const rows = event === 'delete' ? 'old table as old_rows' : 'new table as new_rows';
        this.addSql(`create trigger "${table}_reads_${event}" after ${event} on "${table}" referencing ${rows} for each statement execute function connector_reads_${table}();`);
      }
    }
    this.addSql(`create function connector_reads_everything() returns trigger language plpgsql as $$
begin
  perform pg_notify('connector_reads', case when tg_op = 'TRUNCATE' then '*' when tg_table_name = 'api_token' then 't' else 'u' end);
  return null;
end $$;`);
    for (const table of ['app_user', 'api_token']) {
      this.addSql(`create trigger "${table}_reads" after insert or update or delete on "${table}" for each statement execute function connector_reads_everything();`);
    }
    for (const table of TABLES) {
      this.addSql(`create trigger "${table}_reads_truncate" after truncate on "${table}" for each statement execute function connector_reads_everything();`);
    }
  }

  override async down(): Promise<void> {
    for (const table of TABLES) this.addSql(`drop trigger if exists "${table}_reads_truncate" on "${table}";`);
    for (const table of ['app_user', 'api_token']) this.addSql(`drop trigger if exists "${table}_reads" on "${table}";`);
    this.addSql(`drop function if exists connector_reads_everything();`);
    for (const [table] of CHANGES) {
      for (const event of ['insert', 'update', 'delete']) this.addSql(`drop trigger if exists "${table}_reads_${event}" on "${table}";`);
      this.addSql(`drop function if exists connector_reads_${table}();`);
    }
    this.addSql(`drop function if exists connector_notify_reads(text, bigint[]);`);
  }
}

/** Table, notification kind, the column naming the submission. */
const CHANGES = [
  ['submission', 's', 'id'],
  ['submission_line', 'd', 'submission_id'],
  ['submission_row', 'd', 'submission_id'],
  ['audit_event', 'd', 'submission_id'],
] as const;

const TABLES = ['submission', 'submission_line', 'submission_row', 'audit_event', 'app_user', 'api_token'];
