// PostgreSQL without Redis charges quotas in the database: one guarded UPDATE per verification,
// each its own transaction, so one commit (a WAL flush) per counted verify. This function makes a
// batch of charges in one call and one transaction, in order, each the same guarded statement as
// consumeQuotaInSql (src/counters/sql-quota.ts), so a batch can never pass a limit either. It
// lives in the deployment's schema and finds api_keys through the caller's search_path. SQLite
// needs nothing (its writer thread runs the statements, see usage-thread-main.ts).
import { PostgresAdapter, sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create function keyward_charge_quotas(key_ids text[], costs bigint[], period_starts bigint[])
    returns table (allowed boolean, used bigint)
    language plpgsql as $$
    declare
      charged bigint;
    begin
      for i in 1 .. coalesce(array_length(key_ids, 1), 0) loop
        update api_keys
           set used_amount = (case when period_starts[i] is not null and coalesce(refill_period_start, 0) < period_starts[i] then 0 else used_amount end) + costs[i],
               refill_period_start = coalesce(period_starts[i], refill_period_start)
         where id = key_ids[i]
           and limited_amount is not null
           and (case when period_starts[i] is not null and coalesce(refill_period_start, 0) < period_starts[i] then 0 else used_amount end) + costs[i] <= limited_amount
        returning used_amount into charged;
        if found then
          allowed := true;
          used := charged;
        else
          allowed := false;
          select (case when period_starts[i] is not null and coalesce(refill_period_start, 0) < period_starts[i] then 0 else used_amount end)
            into used from api_keys where id = key_ids[i];
          used := coalesce(used, 0);
        end if;
        return next;
      end loop;
    end
    $$`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function keyward_charge_quotas(text[], bigint[], bigint[])`.execute(db);
}
