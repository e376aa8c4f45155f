// Counters in Redis for clusters: each decision is one Lua script (atomic on the Redis server),
// so across any number of nodes a quota of N admits exactly N and a rate limit of R admits at
// most R per window. Quota usage lives in Redis and is written back to the database behind (at
// most every second, never backwards within a refill period); a key missing from Redis (first
// use, or Redis lost its data) is seeded from the database first.
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';
import { refillPeriodStart } from '../domain/quota.js';
import type { Counters, QuotaRequest, QuotaResult, RateLimitResult } from './counters.js';

const RATE_LIMIT = `
local state = redis.call('HMGET', KEYS[1], 's', 'w', 'c')
local count = 0
if state[1] == ARGV[1] and state[2] == ARGV[2] then count = tonumber(state[3]) end
if count >= tonumber(ARGV[3]) then return {0, count} end
count = count + 1
redis.call('HSET', KEYS[1], 's', ARGV[1], 'w', ARGV[2], 'c', count)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, count}`;

// u = usage in period p (p = 0 without refill). Returns {allowed, used, period}; {-1} = not seeded.
const QUOTA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0, 0} end
local used = tonumber(redis.call('HGET', KEYS[1], 'u'))
local period = tonumber(redis.call('HGET', KEYS[1], 'p'))
local now = tonumber(ARGV[3])
if now > period then used = 0; period = now end
local cost = tonumber(ARGV[1])
if used + cost > tonumber(ARGV[2]) then return {0, used, period} end
used = used + cost
redis.call('HSET', KEYS[1], 'u', used, 'p', period)
return {1, used, period}`;

const SEED = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'u', ARGV[1], 'p', ARGV[2]) end
return 1`;

interface ScriptedRedis extends Redis {
  keywardRateLimit(key: string, start: string, windowMs: string, limit: string, ttlMs: string): Promise<[number, number]>;
  keywardQuota(key: string, cost: string, limit: string, period: string): Promise<[number, number, number]>;
  keywardSeed(key: string, used: string, period: string): Promise<number>;
}

export interface RedisCountersOptions {
  url: string;
  prefix: string;
  flushIntervalMs: number;
  onError: (error: unknown) => void;
}

export class RedisCounters implements Counters {
  private readonly redis: ScriptedRedis;
  /** Latest usage seen per key, to write back: {used, period}. */
  private dirty = new Map<string, { used: number; period: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly options: RedisCountersOptions,
  ) {
    const redis = new Redis(options.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
    redis.on('error', () => undefined); // failed commands reject; the caller reports them
    redis.defineCommand('keywardRateLimit', { numberOfKeys: 1, lua: RATE_LIMIT });
    redis.defineCommand('keywardQuota', { numberOfKeys: 1, lua: QUOTA });
    redis.defineCommand('keywardSeed', { numberOfKeys: 1, lua: SEED });
    this.redis = redis as ScriptedRedis;
    this.timer = setInterval(() => void this.flush().catch(options.onError), options.flushIntervalMs);
    this.timer.unref();
  }

  async hitRateLimit(keyId: string, limit: number, windowMs: number, now: number): Promise<RateLimitResult> {
    const start = now - (now % windowMs);
    const [allowed, count] = await this.redis.keywardRateLimit(this.key('rl', keyId), String(start), String(windowMs), String(limit), String(windowMs * 2));
    return { allowed: allowed === 1, limit, remaining: Math.max(0, limit - count), resetAt: start + windowMs };
  }

  async consumeQuota(request: QuotaRequest): Promise<QuotaResult> {
    const key = this.key('q', request.keyId);
    const period = request.refill === null ? 0 : refillPeriodStart(request.refill, request.now);
    const args = [String(request.cost), String(request.limit), String(period)] as const;
    let [status, used, usedPeriod] = await this.redis.keywardQuota(key, ...args);
    if (status === -1) {
      await this.seed(request.keyId, key);
      [status, used, usedPeriod] = await this.redis.keywardQuota(key, ...args);
    }
    if (status === 1) this.dirty.set(request.keyId, { used, period: usedPeriod });
    return { allowed: status === 1, used };
  }

  resetRateLimit(keyId: string): void {
    this.redis.del(this.key('rl', keyId)).catch(this.options.onError);
  }

  resetQuota(keyId: string): void {
    this.dirty.delete(keyId);
    this.redis.del(this.key('q', keyId)).catch(this.options.onError);
  }

  async peekUsage(keyIds: readonly string[]): Promise<Map<string, { used: number; period: number }>> {
    const usage = new Map<string, { used: number; period: number }>();
    if (keyIds.length === 0) return usage;
    const pipeline = this.redis.pipeline();
    for (const keyId of keyIds) pipeline.hmget(this.key('q', keyId), 'u', 'p');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, value], i) => {
      const [used, period] = (value ?? []) as (string | null)[];
      if (error === null && used != null && period != null) usage.set(keyIds[i]!, { used: Number(used), period: Number(period) });
    });
    return usage;
  }

  /** Writes the latest usage seen back to the database: later periods win, and within a period
   * a larger count wins, so nodes writing in any order converge to Redis's value. */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Map();
    for (const [keyId, { used, period }] of batch) {
      await this.db
        .updateTable('api_keys')
        .set({ used_amount: used, refill_period_start: period === 0 ? sql<number | null>`refill_period_start` : period })
        .where('id', '=', keyId)
        .where(
          sql<boolean>`(coalesce(refill_period_start, 0) < ${period} or (coalesce(refill_period_start, 0) = ${period} and used_amount < ${used}) or (${period} = 0 and used_amount < ${used}))`,
        )
        .execute();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(this.options.onError);
    await this.redis.quit().catch(() => undefined);
  }

  /** Seeds Redis from the database's stored usage (only if no other node did meanwhile). */
  private async seed(keyId: string, key: string): Promise<void> {
    const row = await this.db.selectFrom('api_keys').select(['used_amount', 'refill_period_start']).where('id', '=', keyId).executeTakeFirst();
    await this.redis.keywardSeed(key, String(Number(row?.used_amount ?? 0)), String(Number(row?.refill_period_start ?? 0)));
  }

  private key(kind: 'q' | 'rl', keyId: string): string {
    return `${this.options.prefix}:${kind}:${keyId}`;
  }
}
