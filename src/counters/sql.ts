// Counters for PostgreSQL without Redis: quotas and rate limits both decided by guarded atomic
// statements in the shared database, so they are exact across any number of nodes.
import type { DbOrTrx } from '../storage/database.js';
import type { Counters } from './counters.js';
import { consumeQuotaInSql } from './sql-quota.js';
import { hitRateLimitInSql, resetRateLimitInSql } from './sql-rate-limit.js';

export function sqlCounters(db: DbOrTrx, onError: (error: unknown) => void): Counters {
  return {
    hitRateLimit: (keyId, limit, windowMs, now) => hitRateLimitInSql(db, keyId, limit, windowMs, now),
    consumeQuota: (request) => consumeQuotaInSql(db, request),
    resetRateLimit: (keyId) => void resetRateLimitInSql(db, keyId).catch(onError),
    resetQuota: () => undefined, // the database is the only copy
    close: () => Promise.resolve(),
  };
}
