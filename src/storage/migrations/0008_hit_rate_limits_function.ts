// PostgreSQL without Redis counts rate limits in the database: one guarded upsert per
// verification, each its own transaction (a WAL flush each). Like keyward_charge_quotas
// (migration 0007), this function counts a batch of hits in one call and one transaction, in
// order, each the same guarded upsert as hitRateLimitInSql (src/counters/sql-rate-limit.ts). A
// hit for a key that is gone (deleted while a node still had it cached) counts nothing and answers
// null, where the single upsert would fail on the foreign key; it must not fail the whole batch.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create function keyward_hit_rate_limits(p_key_ids text[], p_limits bigint[], p_window_ms bigint[], p_window_starts bigint[])
    returns table (allowed boolean, hits bigint)
    language plpgsql as $$
    declare
      counted bigint;
    begin
      for i in 1 .. coalesce(array_length(p_key_ids, 1), 0) loop
        if not exists (select 1 from api_keys where id = p_key_ids[i]) then
          allowed := null;
          hits := null;
          return next;
          continue;
        end if;
        insert into rate_windows as w (key_id, window_start, window_ms, count)
          values (p_key_ids[i], p_window_starts[i], p_window_ms[i], 1)
        on conflict (key_id) do update
          set count = case when w.window_start = p_window_starts[i] and w.window_ms = p_window_ms[i] then w.count + 1 else 1 end,
              window_start = p_window_starts[i],
              window_ms = p_window_ms[i]
          where not (w.window_start = p_window_starts[i] and w.window_ms = p_window_ms[i]) or w.count < p_limits[i]
        returning w.count into counted;
        allowed := found;
        hits := case when found then counted end;
        return next;
      end loop;
    end
    $$`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function keyward_hit_rate_limits(text[], bigint[], bigint[], bigint[])`.execute(db);
}
