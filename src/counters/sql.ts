// Counters for PostgreSQL without Redis: quotas and rate limits both decided by guarded atomic
// statements in the shared database, so they are exact across any number of nodes. A node sends
// what one turn of its event loop asks for in one call (one transaction, one WAL flush).
import type { DbOrTrx } from '../storage/database.js';
import type { Counters } from './counters.js';
import { chargeQuotasInPostgres } from './sql-quota.js';
import { batchPerTurn } from '../storage/turn-batcher.js';
import { MAX_CHARGES } from '../storage/storage.js';
import { hitRateLimitsInPostgres, resetRateLimitInSql, type RateLimitHit } from './sql-rate-limit.js';

export function sqlCounters(db: DbOrTrx, onError: (error: unknown) => void): Counters {
  // The hits of one turn in one call and one transaction (see hitRateLimitsInPostgres).
  const hit = batchPerTurn((hits: readonly RateLimitHit[]) => hitRateLimitsInPostgres(db, hits), MAX_CHARGES);
  return {
    async hitRateLimit(keyId, limit, windowMs, now) {
      const start = now - (now % windowMs);
      const resetAt = start + windowMs;
      const counted = await hit({ keyId, limit, windowMs, start });
      if (counted === null) throw new Error(`key ${keyId} is gone: no rate-limit window for it`);
      return { allowed: counted.allowed, limit, remaining: counted.allowed ? Math.max(0, limit - counted.count) : 0, resetAt };
    },
    // The charges of one turn in one call and one transaction (see chargeQuotasInPostgres).
    consumeQuota: batchPerTurn((requests) => chargeQuotasInPostgres(db, requests), MAX_CHARGES),
    resetRateLimit: (keyId) => void resetRateLimitInSql(db, keyId).catch(onError),
    resetQuota: () => undefined, // the database is the only copy
    close: () => Promise.resolve(),
  };
}
