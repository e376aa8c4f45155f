// Quota charges and rate-limit hits on PostgreSQL without Redis go in batches through
// keyward_charge_quotas and keyward_hit_rate_limits (migrations 0007 and 0009, 0008 and 0010): each must answer
// every case as the single statement does (consumeQuotaInSql, hitRateLimitInSql), leave the same
// rows behind, keep the order of a batch and never pass a limit.
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND, TEST_DATABASE_URL } from '../../test/helpers.js';
import { dropSchema, migrate, openPostgres, type Storage } from '../storage/storage.js';
import { createWorkspace } from '../workspaces/service.js';
import { loadMasterKey } from '../secrets/master-key.js';
import type { RefillInterval } from '../domain/quota.js';
import { chargeQuotasInPostgres, consumeQuotaInSql } from './sql-quota.js';
import { sqlCounters } from './sql.js';
import { hitRateLimitInSql, hitRateLimitsInPostgres, type RateLimitHit } from './sql-rate-limit.js';
import type { QuotaRequest } from './counters.js';
import type { Updateable } from 'kysely';
import type { ApiKeysTable } from '../storage/database.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh schema with one key (the workspace's admin key) given a quota: the store and the key's id. */
async function keyWithQuota(quota: { limited_amount: number | null; used_amount: number; refill_period_start: number | null }): Promise<{ storage: Storage; keyId: string }> {
  const schema = `t_quota_${randomBytes(5).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'keyward-quota-'));
  const storage = openPostgres(TEST_DATABASE_URL, schema, 4);
  cleanups.push(async () => {
    await storage.close();
    await dropSchema(TEST_DATABASE_URL, schema);
    rmSync(dir, { recursive: true, force: true });
  });
  await migrate(storage);
  await createWorkspace(storage.db, { name: 't', ownerEmail: 'owner@example.com', withAdminKey: true, now: Date.now(), masterKey: loadMasterKey(undefined, dir) });
  const { id } = await storage.db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow();
  await storage.db.updateTable('api_keys').set(quota).where('id', '=', id).execute();
  return { storage, keyId: id };
}

/** A second key: the first key's row under another id and name, with `changes`; its id. */
async function secondKey(storage: Storage, keyId: string, changes: Updateable<ApiKeysTable>): Promise<string> {
  const row = await storage.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
  const otherId = `${keyId.slice(0, -1)}${keyId.endsWith('0') ? '1' : '0'}`;
  await storage.db.insertInto('api_keys').values({ ...row, id: otherId, name: 'second', ...changes }).execute();
  return otherId;
}

type Charge = (storage: Storage, requests: QuotaRequest[]) => Promise<{ allowed: boolean; used: number }[]>;
/** The charges as the batch function makes them, and as the single statement does, one by one. */
const chargeInBatch: Charge = (storage, requests) => chargeQuotasInPostgres(storage.db, requests);
const chargeOneByOne: Charge = async (storage, requests) => {
  const outcomes = [];
  for (const request of requests) outcomes.push(await consumeQuotaInSql(storage.db, request));
  return outcomes;
};

describe.runIf(BACKEND === 'postgres')('quota charges in batches on PostgreSQL', () => {
  it('answers as consumeQuotaInSql does: limits, costs, a refill period starting over, no quota, no key', async () => {
    const now = Date.now();
    const monthly: RefillInterval = 'monthly';
    // Each inner list is one batch; the limit is dropped before the last.
    const batches: { cost: number; refill: RefillInterval | null; unknownKey?: true }[][] = [
      [{ cost: 3, refill: monthly }, { cost: 3, refill: monthly }, { cost: 2, refill: monthly }], // old period: from 0; 6 > 5 refused; 5
      [{ cost: 1, refill: null }, { cost: 1, refill: monthly, unknownKey: true }],
      [{ cost: 1, refill: null }],
    ];
    const run = async (charge: Charge) => {
      const { storage, keyId } = await keyWithQuota({ limited_amount: 5, used_amount: 4, refill_period_start: 0 });
      const outcomes = [];
      for (const [i, batch] of batches.entries()) {
        if (i === batches.length - 1) await storage.db.updateTable('api_keys').set({ limited_amount: null }).where('id', '=', keyId).execute();
        const requests = batch.map((step) => ({ keyId: step.unknownKey === true ? 'key_unknown' : keyId, cost: step.cost, limit: 5, refill: step.refill, now }));
        outcomes.push(...(await charge(storage, requests)));
      }
      const row = await storage.db.selectFrom('api_keys').select(['used_amount', 'refill_period_start']).where('id', '=', keyId).executeTakeFirstOrThrow();
      return { outcomes, row };
    };
    const batched = await run(chargeInBatch);
    const oneByOne = await run(chargeOneByOne);
    expect(batched).toEqual(oneByOne);
    expect(batched.outcomes).toEqual([
      { allowed: true, used: 3 },
      { allowed: false, used: 3 },
      { allowed: true, used: 5 },
      { allowed: false, used: 5 },
      { allowed: false, used: 0 },
      { allowed: false, used: 5 },
    ]);
  });

  it('answers as consumeQuotaInSql does when a batch mixes keys: random costs and refill periods, two keys and a gone one interleaved', async () => {
    const now = Date.now();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // The first key refills daily (its stored period is an old one, so it starts over), the second never.
    const refills: (RefillInterval | null)[] = ['daily', null, 'monthly'];
    const batches = Array.from({ length: 6 }, () =>
      Array.from({ length: 40 }, () => {
        const key = Math.floor(random() * 3);
        return { key, cost: Math.floor(random() * 4), refill: refills[key]! };
      }),
    );
    // First of all, a charge over the first key's whole limit in its new period: refused, and it
    // reports the new period's usage (0), not the old period's stored count.
    batches[0]!.unshift({ key: 0, cost: 100, refill: 'daily' });
    const run = async (charge: Charge) => {
      const { storage, keyId } = await keyWithQuota({ limited_amount: 60, used_amount: 25, refill_period_start: 0 });
      const otherId = await secondKey(storage, keyId, { limited_amount: 70, used_amount: 0, refill_period_start: null });
      const ids = [keyId, otherId, 'key_gone'];
      const outcomes = [];
      for (const batch of batches) {
        outcomes.push(...(await charge(storage, batch.map((step) => ({ keyId: ids[step.key]!, cost: step.cost, limit: 0, refill: step.refill, now })))));
      }
      const rows = await storage.db.selectFrom('api_keys').select(['id', 'used_amount', 'refill_period_start']).where('id', 'in', ids).execute();
      // In the order of `ids`: the second key's id sorts before or after the first's by chance (it
      // is the first's with its last character changed), which failed the comparison 1 run in 16.
      return { outcomes, rows: rows.map((r) => ({ ...r, id: ids.indexOf(r.id) })).sort((a, b) => a.id - b.id) };
    };
    const batched = await run(chargeInBatch);
    const oneByOne = await run(chargeOneByOne);
    expect(batched).toEqual(oneByOne);
    // The case mix the comparison rests on: admissions and refusals on each of the two keys.
    const steps = batches.flat();
    for (const key of [0, 1]) {
      const own = batched.outcomes.filter((_, i) => steps[i]!.key === key);
      expect(own.filter((outcome) => outcome.allowed).length, `key ${key}`).toBeGreaterThan(10);
      expect(own.filter((outcome) => !outcome.allowed).length, `key ${key}`).toBeGreaterThan(10);
    }
  });

  it('charges asked for at once in order, in batches, never past the limit, also from two nodes', async () => {
    const { storage, keyId } = await keyWithQuota({ limited_amount: 700, used_amount: 0, refill_period_start: null });
    const counters = sqlCounters(storage.db, () => undefined);
    const request = { keyId, cost: 1, limit: 700, refill: null, now: Date.now() };
    // More than one batch's worth (MAX_CHARGES): the rest follows in the next.
    const outcomes = await Promise.all(Array.from({ length: 600 }, () => counters.consumeQuota(request)));
    expect(outcomes).toEqual(Array.from({ length: 600 }, (_, i) => ({ allowed: true, used: i + 1 })));
    // A second node's counters on the same database, charging at the same time.
    const other = sqlCounters(storage.db, () => undefined);
    const both = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? counters : other).consumeQuota(request)));
    expect(both.filter((outcome) => outcome.allowed)).toHaveLength(100);
    const row = await storage.db.selectFrom('api_keys').select('used_amount').where('id', '=', keyId).executeTakeFirstOrThrow();
    expect(row.used_amount).toBe(700);
  });
});

describe.runIf(BACKEND === 'postgres')('rate-limit hits in batches on PostgreSQL', () => {
  it('answers as hitRateLimitInSql does: the limit, a new window, another window length; a key that is gone answers null', async () => {
    const now = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    // [window ms, time]: three hits and a refused one in one window, then a new window, then the
    // same key with another window length (its limit changed).
    const hits: [number, number][] = [[1_000, now], [1_000, now + 10], [1_000, now + 20], [1_000, now + 30], [1_000, now + 1_000], [60_000, now + 1_010]];
    const run = async (hit: (storage: Storage, keyId: string, windowMs: number, at: number) => Promise<unknown>) => {
      const { storage, keyId } = await keyWithQuota({ limited_amount: null, used_amount: 0, refill_period_start: null });
      const outcomes = [];
      for (const [windowMs, at] of hits) outcomes.push(await hit(storage, keyId, windowMs, at));
      const row = await storage.db.selectFrom('rate_windows').selectAll().executeTakeFirstOrThrow();
      return { outcomes, row: { ...row, key_id: row.key_id === keyId } };
    };
    const single = await run(async (storage, keyId, windowMs, at) => {
      const result = await hitRateLimitInSql(storage.db, keyId, 3, windowMs, at);
      return { allowed: result.allowed, remaining: result.remaining };
    });
    const batched = await run(async (storage, keyId, windowMs, at) => {
      const [counted] = await hitRateLimitsInPostgres(storage.db, [{ keyId, limit: 3, windowMs, start: at - (at % windowMs) }]);
      return { allowed: counted!.allowed, remaining: counted!.allowed ? 3 - counted!.count : 0 };
    });
    expect(batched).toEqual(single);
    expect(batched.outcomes).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      { allowed: false, remaining: 0 },
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 2 },
    ]);
    const { storage, keyId } = await keyWithQuota({ limited_amount: null, used_amount: 0, refill_period_start: null });
    const mixed = await hitRateLimitsInPostgres(storage.db, [
      { keyId: 'key_gone', limit: 3, windowMs: 1_000, start: now },
      { keyId, limit: 3, windowMs: 1_000, start: now },
    ]);
    expect(mixed).toEqual([null, { allowed: true, count: 1 }]);
    await expect(hitRateLimitInSql(storage.db, 'key_gone', 3, 1_000, now)).rejects.toThrow(/foreign key/);
  });

  it('answers as hitRateLimitInSql does when a batch mixes keys: random windows, two keys and a gone one interleaved', async () => {
    const base = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    let seed = 13;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // The first key: 5 per second; the second: 8 per minute, its limit changed to 4 per second
    // half-way. Time moves on by up to 0.4 s between batches, so windows end within the run.
    let at = base;
    const batches = Array.from({ length: 8 }, (_, b) => {
      at += Math.floor(random() * 400);
      return Array.from({ length: 30 }, () => {
        const key = Math.floor(random() * 3);
        const [limit, windowMs] = key === 0 ? [5, 1_000] : b < 4 ? [8, 60_000] : [4, 1_000];
        return { key, limit, windowMs, start: at - (at % windowMs) };
      });
    });
    const run = async (hit: (storage: Storage, hits: RateLimitHit[]) => Promise<({ allowed: boolean; count: number } | null)[]>) => {
      const { storage, keyId } = await keyWithQuota({ limited_amount: null, used_amount: 0, refill_period_start: null });
      const otherId = await secondKey(storage, keyId, {});
      const ids = [keyId, otherId, 'key_gone'];
      const outcomes = [];
      for (const batch of batches) outcomes.push(...(await hit(storage, batch.map((step) => ({ keyId: ids[step.key]!, limit: step.limit, windowMs: step.windowMs, start: step.start })))));
      // Ordered by the key's place in ids, not its id: the ids are random, so the two runs'
      // keys need not sort alike.
      const windows = await storage.db.selectFrom('rate_windows').selectAll().execute();
      const placed = windows.map((w) => ({ ...w, key_id: ids.indexOf(w.key_id) }));
      return { outcomes, windows: placed.sort((a, b) => a.key_id - b.key_id || Number(a.window_start) - Number(b.window_start)) };
    };
    const batched = await run((storage, hits) => hitRateLimitsInPostgres(storage.db, hits));
    const oneByOne = await run(async (storage, hits) => {
      const outcomes = [];
      for (const { keyId, limit, windowMs, start } of hits) {
        // A time inside the hit's window: hitRateLimitInSql works its window out from the time.
        const result = await hitRateLimitInSql(storage.db, keyId, limit, windowMs, start).catch(() => null);
        outcomes.push(result === null ? null : { allowed: result.allowed, count: result.allowed ? limit - result.remaining : 0 });
      }
      return outcomes;
    });
    expect(batched).toEqual(oneByOne);
    const steps = batches.flat();
    for (const key of [0, 1]) {
      const own = batched.outcomes.filter((_, i) => steps[i]!.key === key);
      expect(own.filter((outcome) => outcome?.allowed === true).length, `key ${key}`).toBeGreaterThan(5);
      expect(own.filter((outcome) => outcome?.allowed === false).length, `key ${key}`).toBeGreaterThan(5);
    }
    expect(batched.outcomes.filter((_, i) => steps[i]!.key === 2).every((outcome) => outcome === null)).toBe(true);
  });

  it('counts hits asked for at once in order, admits exactly the limit, and fails only the hit of a key that is gone', async () => {
    const { storage, keyId } = await keyWithQuota({ limited_amount: null, used_amount: 0, refill_period_start: null });
    const counters = sqlCounters(storage.db, () => undefined);
    const now = Date.now();
    const results = await Promise.allSettled([
      ...Array.from({ length: 200 }, () => counters.hitRateLimit(keyId, 50, 60_000, now)),
      counters.hitRateLimit('key_gone', 50, 60_000, now),
    ]);
    const answers = results.slice(0, 200).map((result) => (result.status === 'fulfilled' ? { allowed: result.value.allowed, remaining: result.value.remaining } : 'rejected'));
    expect(answers).toEqual([
      ...Array.from({ length: 50 }, (_, i) => ({ allowed: true, remaining: 49 - i })),
      ...Array.from({ length: 150 }, () => ({ allowed: false, remaining: 0 })),
    ]);
    expect(results[200]).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('is gone') } });
  });

  it('admits exactly the limit when two nodes start a key’s first window at the same time', async () => {
    const { storage, keyId } = await keyWithQuota({ limited_amount: null, used_amount: 0, refill_period_start: null });
    const nodes = [sqlCounters(storage.db, () => undefined), sqlCounters(storage.db, () => undefined)];
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 400 }, async (_, i) => nodes[i % 2]!.hitRateLimit(keyId, 100, 60_000, now)));
    expect(results.filter((result) => result.allowed)).toHaveLength(100);
    const window = await storage.db.selectFrom('rate_windows').select('count').where('key_id', '=', keyId).executeTakeFirstOrThrow();
    expect(window.count).toBe(100);
  });
});
