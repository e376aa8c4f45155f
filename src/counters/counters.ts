// Quotas and rate limits: the counters that decide admission. One interface, two deployments:
// embedded (SQLite quota + in-process rate limiter) and distributed (Redis scripts, issue #5).
// Implementations decide and write in one atomic step; nothing here is read-modify-written.
import type { RefillInterval } from '../domain/quota.js';

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the current window ends. */
  resetAt: number;
}

export interface QuotaRequest {
  keyId: string;
  cost: number;
  limit: number;
  refill: RefillInterval | null;
  now: number;
}

export interface QuotaResult {
  allowed: boolean;
  /** Usage after this call (when allowed) or as it stands (when refused), in the current period. */
  used: number;
}

export interface Counters {
  /** Counts one hit in the key's current fixed window; refuses without counting past `limit`. */
  hitRateLimit(keyId: string, limit: number, windowMs: number, now: number): RateLimitResult | Promise<RateLimitResult>;
  /** Adds `cost` to the key's usage unless that would pass `limit` (then nothing is added). */
  consumeQuota(request: QuotaRequest): Promise<QuotaResult>;
  /** Forgets a key's rate-limit window (after its limit changed or it was deleted). */
  resetRateLimit(keyId: string): void;
  /** Drops any copy of a key's quota usage held outside the database (after its limit or refill
   * changed, or it was deleted), so the next charge starts from the stored value. */
  resetQuota(keyId: string): void;
  /** Current quota usage of the given keys where it is held outside the database (Redis), by
   * key id, as {used, period}; keys not held there are absent. */
  peekUsage?(keyIds: readonly string[]): Promise<Map<string, { used: number; period: number }>>;
  close(): Promise<void>;
}
