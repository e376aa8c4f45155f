// Quota admission as one guarded UPDATE (`… WHERE used + cost <= limit RETURNING`): atomic on
// SQLite and PostgreSQL alike, so no number of concurrent calls can admit more than the limit.
// A refilling quota starts from zero when the stored period start is older than the current one.
// On SQLite the server charges through the writer thread instead (usage-thread-main.ts), with a
// prepared copy of this statement; a test holds the two to the same answers.
import { sql } from 'kysely';
import type { DbOrTrx } from '../storage/database.js';
import { refillPeriodStart } from '../domain/quota.js';
import type { QuotaRequest, QuotaResult } from './counters.js';

export async function consumeQuotaInSql(db: DbOrTrx, request: QuotaRequest): Promise<QuotaResult> {
  const { keyId, cost, now, refill } = request;
  const periodStart = refill === null ? null : refillPeriodStart(refill, now);
  // Usage that counts in the current period: zero when the key's period is older than this one.
  const currentUsed =
    periodStart === null
      ? sql<number>`used_amount`
      : sql<number>`(case when coalesce(refill_period_start, 0) < ${periodStart} then 0 else used_amount end)`;
  const updated = await db
    .updateTable('api_keys')
    .set({
      used_amount: sql<number>`${currentUsed} + ${cost}`,
      refill_period_start: periodStart === null ? sql<number | null>`refill_period_start` : periodStart,
    })
    .where('id', '=', keyId)
    .where('limited_amount', 'is not', null)
    .where(sql<boolean>`${currentUsed} + ${cost} <= limited_amount`)
    .returning('used_amount')
    .executeTakeFirst();
  if (updated !== undefined) return { allowed: true, used: Number(updated.used_amount) };
  const row = await db
    .selectFrom('api_keys')
    .select(currentUsed.as('used'))
    .where('id', '=', keyId)
    .executeTakeFirst();
  return { allowed: false, used: row === undefined ? 0 : Number(row.used) };
}
