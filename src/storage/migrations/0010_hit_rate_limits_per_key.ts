// keyward_hit_rate_limits (migration 0008) ran one guarded upsert per hit; a busy key's hits all
// land on its one rate_windows row, as quota charges did on api_keys (see migration 0009). This
// version takes each key's window row once per batch (FOR UPDATE, keys in a fixed order; a key
// without a row gets one first, counting nothing, so two batches cannot both start it from
// nothing), decides that key's hits in the order asked with hitRateLimitInSql's rule (a new
// window or another window length starts over at 1; in the same window a hit counts while under
// the limit and a refused hit writes nothing) and writes the row once. A key that is gone answers
// null for each of its hits, as before. Answers come back in the order asked.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import * as perHit from './0008_hit_rate_limits_function.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create or replace function keyward_hit_rate_limits(p_key_ids text[], p_limits bigint[], p_window_ms bigint[], p_window_starts bigint[])
    returns table (allowed boolean, hits bigint)
    language plpgsql as $$
    declare
      n int := coalesce(array_length(p_key_ids, 1), 0);
      by_key int[];
      out_allowed boolean[] := array_fill(null::boolean, array[n]);
      out_hits bigint[] := array_fill(null::bigint, array[n]);
      g int := 1;
      i int;
      k text;
      key_exists boolean;
      w_start bigint;
      w_ms bigint;
      w_count bigint;
      changed boolean;
    begin
      if n = 0 then
        return;
      end if;
      -- Positions grouped by key, each key's in the order asked.
      select array_agg(o order by p_key_ids[o], o) into by_key from generate_series(1, n) as o;
      while g <= n loop
        k := p_key_ids[by_key[g]];
        perform 1 from api_keys where id = k;
        key_exists := found;
        if key_exists then
          select window_start, window_ms, count into w_start, w_ms, w_count from rate_windows where key_id = k for update;
          if not found then
            insert into rate_windows (key_id, window_start, window_ms, count) values (k, 0, 0, 0) on conflict (key_id) do nothing;
            select window_start, window_ms, count into w_start, w_ms, w_count from rate_windows where key_id = k for update;
          end if;
        end if;
        changed := false;
        while g <= n and p_key_ids[by_key[g]] = k loop
          i := by_key[g];
          if key_exists then
            if w_start = p_window_starts[i] and w_ms = p_window_ms[i] then
              if w_count < p_limits[i] then
                w_count := w_count + 1;
                changed := true;
                out_allowed[i] := true;
                out_hits[i] := w_count;
              else
                out_allowed[i] := false;
              end if;
            else
              w_start := p_window_starts[i];
              w_ms := p_window_ms[i];
              w_count := 1;
              changed := true;
              out_allowed[i] := true;
              out_hits[i] := 1;
            end if;
          end if;
          g := g + 1;
        end loop;
        if changed then
          update rate_windows set window_start = w_start, window_ms = w_ms, count = w_count where key_id = k;
        end if;
      end loop;
      return query select * from unnest(out_allowed, out_hits);
    end
    $$`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function keyward_hit_rate_limits(text[], bigint[], bigint[], bigint[])`.execute(db);
  await perHit.up(db);
}
