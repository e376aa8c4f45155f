// Enforces the log retention: events (usage logs and lifecycle events) older than the configured
// number of days are deleted in bounded batches; hourly rollups are kept for at least 400 days.
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';

const DAY = 86_400_000;
const BATCH = 5_000;

/**
 * The first seq whose event is at or after `cutoff`. Events are appended in time order (within the
 * second or so that usage logs are written behind), so seq order is time order and a binary search
 * over primary-key look-ups finds the boundary without an index on time.
 */
async function firstSeqAtOrAfter(db: Db, cutoff: number): Promise<number> {
  const bounds = await db.selectFrom('events').select([sql<number | null>`min(seq)`.as('low'), sql<number | null>`max(seq)`.as('high')]).executeTakeFirst();
  if (bounds?.low == null || bounds.high == null) return 0;
  let low = Number(bounds.low);
  let high = Number(bounds.high) + 1; // the answer lies in [low, high]
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    // Seqs may have gaps (earlier purges, rolled-back writes): look at the first event at or after `middle`.
    const row = await db.selectFrom('events').select(['seq', 'time']).where('seq', '>=', middle).orderBy('seq').limit(1).executeTakeFirst();
    if (row === undefined || Number(row.time) >= cutoff) high = middle;
    else low = Number(row.seq) + 1;
  }
  return low;
}

export async function purgeExpired(db: Db, retentionDays: number, now: number): Promise<number> {
  const cutoff = now - retentionDays * DAY;
  const boundary = await firstSeqAtOrAfter(db, cutoff);
  let deleted = 0;
  for (;;) {
    const result = await db
      .deleteFrom('events')
      .where('seq', 'in', db.selectFrom('events').select('seq').where('seq', '<', boundary).orderBy('seq').limit(BATCH))
      .executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < BATCH) break;
  }
  await db.deleteFrom('usage_rollups').where('bucket', '<', now - Math.max(retentionDays, 400) * DAY).execute();
  return deleted;
}

/** Runs purgeExpired hourly (first run a minute after start). */
export function scheduleRetention(db: Db, retentionDays: number, clock: () => number, onError: (error: unknown) => void): () => void {
  const run = () => void purgeExpired(db, retentionDays, clock()).catch(onError);
  const first = setTimeout(run, 60_000);
  const every = setInterval(run, 3_600_000);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
