// Counters for the embedded deployment: quotas in the database, rate limits in memory.
import type { DbOrTrx } from '../storage/database.js';
import type { Storage } from '../storage/storage.js';
import { refillPeriodStart } from '../domain/quota.js';
import type { Counters, QuotaRequest, QuotaResult } from './counters.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import { consumeQuotaInSql } from './sql-quota.js';

/** `chargeQuota`: the store's own way to charge (SQLite's writer thread, see storage.ts); without
 * it the charge is consumeQuotaInSql on `db`. Both run the same guarded statement. */
export function embeddedCounters(db: DbOrTrx, chargeQuota?: Storage['chargeQuota']): Counters {
  const rateLimiter = new MemoryRateLimiter();
  const consumeQuota =
    chargeQuota === undefined
      ? (request: QuotaRequest) => consumeQuotaInSql(db, request)
      : (request: QuotaRequest): Promise<QuotaResult> =>
          chargeQuota({ keyId: request.keyId, cost: request.cost, periodStart: request.refill === null ? null : refillPeriodStart(request.refill, request.now) });
  return {
    hitRateLimit: (keyId, limit, windowMs, now) => rateLimiter.hit(keyId, limit, windowMs, now),
    consumeQuota,
    resetRateLimit: (keyId) => rateLimiter.reset(keyId),
    resetQuota: () => undefined, // the database is the only copy
    close: () => {
      rateLimiter.close();
      return Promise.resolve();
    },
  };
}
