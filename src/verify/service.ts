// Verification, in DESIGN's order: checksum (no I/O) → hash → cache → checks → rate limit →
// quota → reply; usage is written behind. Returns a result, never throws for an invalid key.
import { digestHex, isWellFormedToken, tokenDigest, type Environment } from '../domain/token.js';
import { missingScopes } from '../domain/permissions.js';
import { normalizeRequestHost } from '../domain/host.js';
import { nextRefillAt } from '../domain/quota.js';
import { secondsUntil } from '../errors.js';
import type { Db } from '../storage/database.js';
import type { Counters, RateLimitResult } from '../counters/counters.js';
import type { KeyCache } from './cache.js';
import { loadKeyRecord, type KeyRecord, type VerifyReplyKey } from './record.js';
import type { UsageWriter } from './usage-writer.js';
import type { UsageLogWriter } from '../logs/writer.js';

export const VERIFY_CODES = [
  'VALID',
  'MALFORMED',
  'NOT_FOUND',
  'DISABLED',
  'EXPIRED',
  'FORBIDDEN_HOST',
  'INSUFFICIENT_SCOPE',
  'WRONG_ENVIRONMENT',
  'RATE_LIMITED',
  'USAGE_EXCEEDED',
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

export interface VerifyRequest {
  /** A token, or `username:password` of an identity key. */
  key: string;
  scopes?: readonly string[] | undefined;
  host?: string | undefined;
  environment?: Environment | undefined;
  /** Only keys of this project verify (others are NOT_FOUND). */
  projectId?: string | undefined;
  cost?: number | undefined;
}

export interface UsageInfo {
  limit: number;
  used: number;
  remaining: number;
  /** When a refilling quota starts again from zero (ISO 8601). */
  refillAt?: string;
}

export interface RateLimitInfo {
  limit: number;
  remaining: number;
  resetAt: string;
}

export interface VerifyResult {
  valid: boolean;
  code: VerifyCode;
  key?: VerifyReplyKey;
  /** Scopes the request asked for that the key lacks (INSUFFICIENT_SCOPE only). */
  missingScopes?: string[];
  usage?: UsageInfo;
  rateLimit?: RateLimitInfo;
  /** VALID only: how long a client (the SDK middleware) may reuse this answer without asking
   * again; 0 for keys with a quota or rate limit, whose every use must be counted here. */
  cacheForMs?: number;
  /** The record behind the answer (whenever the key was found), for in-process callers; never serialised. */
  record?: KeyRecord;
  /** RATE_LIMITED, and USAGE_EXCEEDED on a refilling quota: whole seconds until it may succeed (a
   * Retry-After for HTTP callers); never serialised. */
  retryAfterSeconds?: number;
}

export interface VerifyDeps {
  db: Db;
  cache: KeyCache;
  counters: Counters;
  usage: UsageWriter;
  logs: UsageLogWriter;
  clock: () => number;
  metrics?: { verified(code: string, seconds: number): void };
  /** Longest `cacheForMs` a VALID answer grants (KEYWARD_VERIFY_CACHE_HINT_MS). */
  cacheHintMs?: number;
}

const MALFORMED: VerifyResult = Object.freeze({ valid: false, code: 'MALFORMED' });
const NOT_FOUND: VerifyResult = Object.freeze({ valid: false, code: 'NOT_FOUND' });

/** A window's end as ISO 8601. Windows are aligned (every key with the same window length ends at
 * the same moment), so the last answer is kept: most calls reuse it. */
let lastIso = { time: Number.NaN, text: '' };
function isoTime(time: number): string {
  if (time !== lastIso.time) lastIso = { time, text: new Date(time).toISOString() };
  return lastIso.text;
}

export class VerifyService {
  private readonly inFlight = new Map<string, { generation: number; load: Promise<KeyRecord | null> }>();

  constructor(private readonly deps: VerifyDeps) {}

  /**
   * Verifies and records the outcome in the usage log (written behind). `ip` is the caller's
   * address. A key found in the cache without a quota or rate limit is decided without awaiting
   * anything (the hot path); loads and counters are awaited.
   */
  verify(request: VerifyRequest, ip: string | null = null): Promise<VerifyResult> {
    try {
      const decided = this.verifyNow(request, ip);
      return decided instanceof Promise ? decided : Promise.resolve(decided);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** verify() for the HTTP fast path: the result itself when it was decided without waiting (a
   * malformed key, a cache hit without counters), which saves a promise and a turn of the
   * microtask queue per request. May throw where verify() would reject. */
  verifyNow(request: VerifyRequest, ip: string | null = null): VerifyResult | Promise<VerifyResult> {
    const started = performance.now();
    const decided = this.decide(request);
    if (decided instanceof Promise) return decided.then((result) => this.recorded(request, ip, result, started));
    return this.recorded(request, ip, decided, started);
  }

  private recorded(request: VerifyRequest, ip: string | null, result: VerifyResult, started: number): VerifyResult {
    const seconds = (performance.now() - started) / 1000;
    this.deps.metrics?.verified(result.code, seconds);
    // Only outcomes tied to a stored key are logged, in that key's project. A token that matches
    // no key (MALFORMED, NOT_FOUND) belongs to no project, so no one could read its entry: it is
    // counted in /metrics by code instead. Verify needs no credentials, so storing those entries
    // would let anyone fill the disk with garbage tokens; and a claimed projectId on a made-up key
    // must not put entries into that project's logs and pushes.
    if (result.record === undefined) return result;
    this.deps.logs.record({
      time: this.deps.clock(),
      key: result.record,
      outcome: result.code,
      scopes: request.scopes,
      host: request.host,
      ip,
      cost: request.cost ?? 1,
      latencyUs: Math.round(seconds * 1e6),
    });
    return result;
  }

  private decide(request: VerifyRequest): VerifyResult | Promise<VerifyResult> {
    // 1. Split identity credentials; the password is a token like any other.
    let token = request.key;
    let username: string | null = null;
    const colon = token.indexOf(':');
    if (colon !== -1) {
      username = token.slice(0, colon);
      token = token.slice(colon + 1);
    }
    // 2. Checksum: made-up and mistyped keys end here, without I/O.
    if (!isWellFormedToken(token)) return MALFORMED;
    // 3. Hash → cache → database. The cache knows a token by its digest's bytes, the database by its hex.
    const now = this.deps.clock();
    const digest = tokenDigest(token);
    const cached = this.deps.cache.get(digest, now);
    if (cached !== undefined) return this.judge(request, username, cached, now);
    return this.load(digest, now).then((record) => this.judge(request, username, record, now));
  }

  private judge(request: VerifyRequest, username: string | null, record: KeyRecord | null, now: number): VerifyResult | Promise<VerifyResult> {
    if (record === null) return NOT_FOUND;
    if (username !== null && record.username !== username) return NOT_FOUND;
    if (request.projectId !== undefined && record.projectId !== request.projectId) return NOT_FOUND;
    // 4. Checks on the key itself, then on the request.
    const key = record.reply;
    if (!record.enabled) return { valid: false, code: 'DISABLED', key, record };
    if ((record.expiresAt !== null && record.expiresAt <= now) || (record.secretExpiresAt !== null && record.secretExpiresAt <= now)) {
      return { valid: false, code: 'EXPIRED', key, record };
    }
    if (request.environment !== undefined && request.environment !== record.environment) {
      return { valid: false, code: 'WRONG_ENVIRONMENT', key, record };
    }
    if (record.host !== null && (request.host === undefined || !record.host(normalizeRequestHost(request.host)))) {
      return { valid: false, code: 'FORBIDDEN_HOST', key, record };
    }
    if (request.scopes !== undefined && request.scopes.length > 0) {
      const missing = missingScopes(request.scopes, record.scopes);
      if (missing.length > 0) return { valid: false, code: 'INSUFFICIENT_SCOPE', key, record, missingScopes: missing };
    }
    if (record.rateLimit === null && record.limitedAmount === null) return this.accept(request, record, now);
    return this.count(request, record, now);
  }

  /** 5. and 6.: the counters of a key with a rate limit or a quota. A rate limit counted in this
   * process (the embedded deployment) answers at once, so a key with only a rate limit is decided
   * without a promise, like a key without counters. */
  private count(request: VerifyRequest, record: KeyRecord, now: number): VerifyResult | Promise<VerifyResult> {
    // 5. Rate limit before quota, so a throttled call burns no quota.
    if (record.rateLimit === null) return this.charge(request, record, now, undefined);
    const hit = this.deps.counters.hitRateLimit(record.id, record.rateLimit.limit, record.rateLimit.windowMs, now);
    if (hit instanceof Promise) return hit.then((result) => this.limited(request, record, now, result));
    return this.limited(request, record, now, hit);
  }

  private limited(request: VerifyRequest, record: KeyRecord, now: number, hit: RateLimitResult): VerifyResult | Promise<VerifyResult> {
    const rateLimit: RateLimitInfo = { limit: hit.limit, remaining: hit.remaining, resetAt: isoTime(hit.resetAt) };
    if (!hit.allowed) return { valid: false, code: 'RATE_LIMITED', key: record.reply, record, rateLimit, retryAfterSeconds: secondsUntil(hit.resetAt, now) };
    return this.charge(request, record, now, rateLimit);
  }

  /** 6. Quota: one atomic decide-and-charge, awaited; a key without one is accepted at once. */
  private charge(request: VerifyRequest, record: KeyRecord, now: number, rateLimit: RateLimitInfo | undefined): VerifyResult | Promise<VerifyResult> {
    const limit = record.limitedAmount;
    if (limit === null) return this.accept(request, record, now, undefined, rateLimit);
    return this.chargeQuota(request, record, limit, now, rateLimit);
  }

  private async chargeQuota(request: VerifyRequest, record: KeyRecord, limit: number, now: number, rateLimit: RateLimitInfo | undefined): Promise<VerifyResult> {
    const charged = await this.deps.counters.consumeQuota({ keyId: record.id, cost: request.cost ?? 1, limit, refill: record.refill, now });
    const usage: UsageInfo = { limit, used: charged.used, remaining: Math.max(0, limit - charged.used) };
    const refillAt = record.refill === null ? null : nextRefillAt(record.refill, now);
    if (refillAt !== null) usage.refillAt = new Date(refillAt).toISOString();
    if (!charged.allowed) {
      return { valid: false, code: 'USAGE_EXCEEDED', key: record.reply, record, usage, ...(rateLimit && { rateLimit }), ...(refillAt !== null && { retryAfterSeconds: secondsUntil(refillAt, now) }) };
    }
    return this.accept(request, record, now, usage, rateLimit);
  }

  /** 7. Written behind: lastUsedAt, and the count for keys without a quota. */
  private accept(request: VerifyRequest, record: KeyRecord, now: number, usage?: UsageInfo, rateLimit?: RateLimitInfo): VerifyResult {
    this.deps.usage.record(record.id, now, record.limitedAmount === null ? (request.cost ?? 1) : 0);
    const cacheForMs = record.limitedAmount !== null || record.rateLimit !== null ? 0 : this.cacheHint(record, now);
    const result: VerifyResult = { valid: true, code: 'VALID', key: record.reply, record, cacheForMs };
    if (usage !== undefined) result.usage = usage;
    if (rateLimit !== undefined) result.rateLimit = rateLimit;
    return result;
  }

  /** The hint, cut short so a cached answer never outlives the key's (or its secret's) expiry. */
  private cacheHint(record: KeyRecord, now: number): number {
    let ms = this.deps.cacheHintMs ?? 5_000;
    if (record.expiresAt !== null) ms = Math.min(ms, record.expiresAt - now);
    if (record.secretExpiresAt !== null) ms = Math.min(ms, record.secretExpiresAt - now);
    return Math.max(0, ms);
  }

  /** The record for a token digest not in the cache, loaded once however many callers ask at the same moment. */
  private load(digest: string, now: number): Promise<KeyRecord | null> {
    const generation = this.deps.cache.currentGeneration();
    const pending = this.inFlight.get(digest);
    // Join a load only if nothing changed since it started; otherwise its answer may be stale.
    if (pending !== undefined && pending.generation === generation) return pending.load;
    const load = loadKeyRecord(this.deps.db, digestHex(digest))
      .then((record) => {
        this.deps.cache.set(digest, record, now, generation);
        return record;
      })
      .finally(() => {
        if (this.inFlight.get(digest)?.load === load) this.inFlight.delete(digest);
      });
    this.inFlight.set(digest, { generation, load });
    return load;
  }
}
