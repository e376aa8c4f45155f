// Quota admission as one guarded UPDATE (`… WHERE used + cost <= limit RETURNING`): atomic on
// SQLite and PostgreSQL alike, so no number of concurrent calls can admit more than the limit.
// A refilling quota starts from zero when the stored period start is older than the current one.
// The server charges through copies of this statement made for batches: on SQLite in the writer
// thread (usage-thread-main.ts), on PostgreSQL in a function (migration 0007, chargeQuotasInPostgres
// below); tests hold them to this one's answers.
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

/**
 * consumeQuotaInSql for several requests on PostgreSQL, in order, in one call and one transaction
 * (one WAL flush instead of one per charge): keyward_charge_quotas (migration 0007) runs the same
 * guarded statement per request.
 */
export async function chargeQuotasInPostgres(db: DbOrTrx, requests: readonly QuotaRequest[]): Promise<QuotaResult[]> {
  const keyIds = requests.map((request) => request.keyId);
  const costs = requests.map((request) => request.cost);
  const periodStarts = requests.map((request) => (request.refill === null ? null : refillPeriodStart(request.refill, request.now)));
  const { rows } = await sql<{ allowed: boolean; used: number }>`
    select allowed, used from keyward_charge_quotas(${keyIds}::text[], ${costs}::bigint[], ${periodStarts}::bigint[])`.execute(db);
  return rows.map((row) => ({ allowed: row.allowed, used: Number(row.used) }));
}
