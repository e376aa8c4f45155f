// keyward_charge_quotas (migration 0007) ran one guarded UPDATE per charge. A busy quota key gets
// hundreds of charges per batch, all on one row: each UPDATE found the row again through the
// chain of versions the batch's earlier UPDATEs left, and the batch held the row's lock all the
// while (one PostgreSQL node, one quota key under load: about 160 µs of PostgreSQL CPU per
// verification). This version takes each key's row once (FOR UPDATE, keys in a fixed order so two
// batches never wait on each other in a cycle), decides that key's charges in the order asked
// with the same rule as consumeQuotaInSql (src/counters/sql-quota.ts: the refill period starting
// over, the limit, a refused charge leaving the row alone, a key without a quota or without a row
// refused), and writes the row once. Answers come back in the order asked, as before.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import * as perCharge from './0007_charge_quotas_function.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create or replace function keyward_charge_quotas(key_ids text[], costs bigint[], period_starts bigint[])
    returns table (allowed boolean, used bigint)
    language plpgsql as $$
    declare
      n int := coalesce(array_length(key_ids, 1), 0);
      by_key int[];
      out_allowed boolean[] := array_fill(false, array[n]);
      out_used bigint[] := array_fill(0::bigint, array[n]);
      g int := 1;
      i int;
      k text;
      has_row boolean;
      key_limit bigint;
      key_used bigint;
      key_start bigint;
      changed boolean;
      current_used bigint;
    begin
      if n = 0 then
        return;
      end if;
      -- Positions grouped by key, each key's in the order asked.
      select array_agg(o order by key_ids[o], o) into by_key from generate_series(1, n) as o;
      while g <= n loop
        k := key_ids[by_key[g]];
        select limited_amount, used_amount, refill_period_start into key_limit, key_used, key_start
          from api_keys where id = k for update;
        has_row := found;
        changed := false;
        while g <= n and key_ids[by_key[g]] = k loop
          i := by_key[g];
          if has_row then
            current_used := case when period_starts[i] is not null and coalesce(key_start, 0) < period_starts[i] then 0 else key_used end;
            if key_limit is not null and current_used + costs[i] <= key_limit then
              key_used := current_used + costs[i];
              key_start := coalesce(period_starts[i], key_start);
              changed := true;
              out_allowed[i] := true;
            end if;
            out_used[i] := case when out_allowed[i] then key_used else coalesce(current_used, 0) end;
          end if;
          g := g + 1;
        end loop;
        if changed then
          update api_keys set used_amount = key_used, refill_period_start = key_start where id = k;
        end if;
      end loop;
      return query select * from unnest(out_allowed, out_used);
    end
    $$`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function keyward_charge_quotas(text[], bigint[], bigint[])`.execute(db);
  await perCharge.up(db);
}
