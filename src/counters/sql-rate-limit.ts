// Fixed-window rate limiting in the database: one guarded upsert per call, so any number of nodes
// sharing the database admit at most `limit` calls per window, and a refused call writes nothing.
import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.js';
import type { RateLimitResult } from './counters.js';

export async function hitRateLimitInSql(db: DbOrTrx, keyId: string, limit: number, windowMs: number, now: number): Promise<RateLimitResult> {
  const start = now - (now % windowMs);
  const resetAt = start + windowMs;
  const sameWindow = sql<boolean>`rate_windows.window_start = ${start} and rate_windows.window_ms = ${windowMs}`;
  const row = await db
    .insertInto('rate_windows')
    .values({ key_id: keyId, window_start: start, window_ms: windowMs, count: 1 })
    .onConflict((oc) =>
      oc
        .column('key_id')
        .doUpdateSet({
          count: sql<number>`case when ${sameWindow} then rate_windows.count + 1 else 1 end`,
          window_start: start,
          window_ms: windowMs,
        })
        .where(sql<boolean>`not (${sameWindow}) or rate_windows.count < ${limit}`),
    )
    .returning('count')
    .executeTakeFirst();
  if (row === undefined) return { allowed: false, limit, remaining: 0, resetAt };
  return { allowed: true, limit, remaining: Math.max(0, limit - Number(row.count)), resetAt };
}

/** One hit for hitRateLimitsInPostgres: the key's window of `windowMs` starting at `start`. */
export interface RateLimitHit {
  keyId: string;
  limit: number;
  windowMs: number;
  start: number;
}

/**
 * hitRateLimitInSql for several hits on PostgreSQL, in order, in one call and one transaction (one
 * WAL flush instead of one per hit): keyward_hit_rate_limits (migrations 0008, 0010) decides each by
 * the same rule. Per hit: the window's count after it, or 0 when refused; null for a key that is gone.
 */
export async function hitRateLimitsInPostgres(db: DbOrTrx, hits: readonly RateLimitHit[]): Promise<({ allowed: boolean; count: number } | null)[]> {
  const { rows } = await sql<{ allowed: boolean | null; hits: number | null }>`
    select allowed, hits from keyward_hit_rate_limits(
      ${hits.map((hit) => hit.keyId)}::text[], ${hits.map((hit) => hit.limit)}::bigint[],
      ${hits.map((hit) => hit.windowMs)}::bigint[], ${hits.map((hit) => hit.start)}::bigint[])`.execute(db);
  return rows.map((row) => (row.allowed === null ? null : { allowed: row.allowed, count: row.hits === null ? 0 : Number(row.hits) }));
}

export async function resetRateLimitInSql(db: DbOrTrx, keyId: string): Promise<void> {
  await db.deleteFrom('rate_windows').where('key_id', '=', keyId).execute();
}
