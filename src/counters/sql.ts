// Counters for PostgreSQL without Redis: quotas and rate limits both decided by guarded atomic
// statements in the shared database, so they are exact across any number of nodes.
import type { DbOrTrx } from '../storage/database.js';
import type { Counters } from './counters.js';
import { chargeQuotasInPostgres } from './sql-quota.js';
import { batchPerTurn } from '../storage/turn-batcher.js';
import { MAX_CHARGES } from '../storage/storage.js';
import { hitRateLimitInSql, resetRateLimitInSql } from './sql-rate-limit.js';

export function sqlCounters(db: DbOrTrx, onError: (error: unknown) => void): Counters {
  return {
    hitRateLimit: (keyId, limit, windowMs, now) => hitRateLimitInSql(db, keyId, limit, windowMs, now),
    // The charges of one turn in one call and one transaction (see chargeQuotasInPostgres).
    consumeQuota: batchPerTurn((requests) => chargeQuotasInPostgres(db, requests), MAX_CHARGES),
    resetRateLimit: (keyId) => void resetRateLimitInSql(db, keyId).catch(onError),
    resetQuota: () => undefined, // the database is the only copy
    close: () => Promise.resolve(),
  };
}
