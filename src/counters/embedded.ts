// Counters for the embedded deployment: quotas in the database, rate limits in memory.
import type { DbOrTrx } from '../storage/database.js';
import type { Counters, QuotaRequest } from './counters.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import { consumeQuotaInSql } from './sql-quota.js';

export function embeddedCounters(db: DbOrTrx): Counters {
  const rateLimiter = new MemoryRateLimiter();
  return {
    hitRateLimit: (keyId, limit, windowMs, now) => rateLimiter.hit(keyId, limit, windowMs, now),
    consumeQuota: (request: QuotaRequest) => consumeQuotaInSql(db, request),
    resetRateLimit: (keyId) => rateLimiter.reset(keyId),
    resetQuota: () => undefined, // the database is the only copy
    close: () => {
      rateLimiter.close();
      return Promise.resolve();
    },
  };
}
