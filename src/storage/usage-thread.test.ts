// The SQLite writer thread (usage-thread.ts) at the storage level: its writes land in the store
// the main thread reads, it shares a file between stores of one process, it answers a failed
// write with the error (and writes again once it can), and main-thread writes made while it
// holds the write lock wait their turn instead of failing. Its quota charges answer as the
// main-thread statement does, in order, batched, and fail together when they cannot be made.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { BACKEND } from '../../test/helpers.js';
import { migrate, openSqlite, type Storage } from './storage.js';
import { UsageBatch, usageRows } from './usage-batch.js';
import { expandEvents } from './usage-chunk.js';
import { createWorkspace } from '../workspaces/service.js';
import { loadMasterKey } from '../secrets/master-key.js';
import { consumeQuotaInSql } from '../counters/sql-quota.js';
import { refillPeriodStart, type RefillInterval } from '../domain/quota.js';

const dirs: string[] = [];
const open: Storage[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((storage) => storage.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function store(dir?: string): Promise<{ storage: Storage; dir: string }> {
  if (dir === undefined) dirs.push((dir = mkdtempSync(join(tmpdir(), 'keyward-thread-'))));
  const storage = openSqlite(dir);
  open.push(storage);
  await migrate(storage);
  return { storage, dir };
}

function batchOf(costs: number[]): UsageBatch {
  const batch = new UsageBatch(Math.max(1, costs.length));
  const key = { id: 'key_thread', workspaceId: 'wks_thread', projectId: 'prj_thread', accountId: null };
  for (const cost of costs) batch.add({ time: Date.now(), key, outcome: 'VALID', scopes: undefined, host: undefined, ip: null, cost, latencyUs: 1 });
  return batch;
}

async function costs(storage: Storage): Promise<number[]> {
  const rows = await storage.db.selectFrom('events').selectAll().orderBy('seq').execute();
  return expandEvents(rows).map((entry) => entry.cost!);
}

describe.runIf(BACKEND === 'sqlite')('the SQLite writer thread', () => {
  it('writes batches the main thread then reads, in order', async () => {
    const { storage } = await store();
    await Promise.all([storage.appendUsage(batchOf([1, 2])), storage.appendUsage(batchOf([3])), storage.appendUsage(batchOf([4, 5]))]);
    expect(await costs(storage)).toEqual([1, 2, 3, 4, 5]);
  });

  it('serves two stores on one file; closing one leaves the other writing, and a closed one refuses', async () => {
    const { storage: first, dir } = await store();
    const { storage: second } = await store(dir);
    await first.appendUsage(batchOf([1]));
    await second.appendUsage(batchOf([2]));
    await first.close();
    await second.appendUsage(batchOf([3]));
    expect(await costs(second)).toEqual([1, 2, 3]);
    await expect(first.appendUsage(batchOf([4]))).rejects.toThrow('the store is closed');
  });

  it('stores every row of a batch as usageRows makes it, many rows per statement and the rest one by one', async () => {
    const { storage } = await store();
    // 123 rows (two statements of 50 rows and 23 single rows): runs of one key's entries, keys
    // taking turns, every third run a chunk of three; every column varies.
    const keys = [
      { id: 'key_a', workspaceId: 'wks_a', projectId: 'prj_a', accountId: 'acc_a' },
      { id: 'key_b', workspaceId: 'wks_b', projectId: 'prj_b', accountId: null },
    ];
    const runs = Array.from({ length: 123 }, (_, run): number => (run % 3 === 0 ? 3 : 1));
    const batch = new UsageBatch(runs.reduce((a, b) => a + b));
    const start = Date.UTC(2026, 0, 1);
    let i = 0;
    runs.forEach((length, run) => {
      for (let j = 0; j < length; j++, i++) {
        batch.add({
          time: start + i * 1_000,
          key: keys[run % 2]!,
          outcome: i % 3 === 0 ? 'VALID' : 'RATE_LIMITED',
          scopes: i % 4 === 0 ? undefined : [`scope${i}`],
          host: i % 5 === 0 ? `h${i}.example.com` : undefined,
          ip: i % 6 === 0 ? null : `10.0.0.${i}`,
          cost: i + 1,
          latencyUs: 1_000 + i,
        });
      }
    });
    const made = usageRows(structuredClone(batch.message)).events;
    expect(made).toHaveLength(123);
    await storage.appendUsage(batch);
    const rows = await storage.db.selectFrom('events').selectAll().orderBy('seq').execute();
    expect(rows).toHaveLength(123);
    // Chunks draw random ids: every column but those as made, and every entry as recorded.
    const withoutIds = (row: (typeof made)[number]) => ({ ...row, id: undefined, data: row.data === null ? null : { ...JSON.parse(row.data), id: undefined } });
    expect(rows.map(({ seq: _seq, tx: _tx, ...row }) => withoutIds({ ...row, time: Number(row.time), type: 'key.verified' }))).toEqual(made.map(withoutIds));
    expect(rows.filter((row) => row.entries !== null)).toHaveLength(41);
    const entries = expandEvents(rows);
    expect(entries.map((entry) => entry.cost)).toEqual(Array.from({ length: i }, (_, n) => n + 1));
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(i);
    expect(entries.every((entry) => /^evt_/.test(entry.id))).toBe(true);
  });

  it('answers a write it cannot make with the error, and writes again once it can', async () => {
    const { storage } = await store();
    await sql`alter table events rename to events_away`.execute(storage.db);
    await expect(storage.appendUsage(batchOf([1]))).rejects.toThrow(/events/);
    await sql`alter table events_away rename to events`.execute(storage.db);
    await storage.appendUsage(batchOf([2]));
    expect(await costs(storage)).toEqual([2]);
  });

  it("adds keys' counts and only ever moves lastUsedAt forward; a deleted key's usage is dropped", async () => {
    const { storage, dir } = await store();
    const { db } = storage;
    const now = Date.now();
    await createWorkspace(db, { name: 't', ownerEmail: 'owner@example.com', withAdminKey: true, now, masterKey: loadMasterKey(undefined, dir) });
    const { id: keyId } = await db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow();
    await storage.writeKeyUsage([{ keyId, count: 2, lastUsedAt: now }, { keyId: 'key_gone', count: 5, lastUsedAt: now }]);
    await storage.writeKeyUsage([{ keyId, count: 3, lastUsedAt: now - 1_000 }]);
    const row = await db.selectFrom('api_keys').select(['used_amount', 'last_used_at']).where('id', '=', keyId).executeTakeFirstOrThrow();
    expect(row).toEqual({ used_amount: 5, last_used_at: now });
  });

  it('makes a main-thread write wait for the write lock the thread holds, then succeed', async () => {
    const { storage, dir } = await store();
    await storage.appendUsage(batchOf([0])); // the thread is up
    const big = Array.from({ length: 20_000 }, (_, i) => i + 1);
    const writing = storage.appendUsage(batchOf(big));
    // Another connection that never waits tells when the thread holds the write lock.
    const probe = new SQLite(join(dir, 'keyward.sqlite'), { timeout: 0 });
    try {
      while (lockIsFree(probe)) await new Promise((resolve) => setTimeout(resolve, 1));
    } finally {
      probe.close();
    }
    await sql`insert into settings (name, value) values ('during', 'x')`.execute(storage.db);
    // The insert could commit only after the thread's batch did.
    expect(await costs(storage)).toHaveLength(big.length + 1);
    await writing;
    const saved = await storage.db.selectFrom('settings').select('value').where('name', '=', 'during').executeTakeFirst();
    expect(saved?.value).toBe('x');
  });
});

/** A store with one key (the workspace's admin key), given a quota: its id. */
async function keyWithQuota(storage: Storage, dir: string, quota: { limited_amount: number | null; used_amount: number; refill_period_start: number | null }): Promise<string> {
  const { db } = storage;
  await createWorkspace(db, { name: 't', ownerEmail: 'owner@example.com', withAdminKey: true, now: Date.now(), masterKey: loadMasterKey(undefined, dir) });
  const { id } = await db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow();
  await db.updateTable('api_keys').set(quota).where('id', '=', id).execute();
  return id;
}

describe.runIf(BACKEND === 'sqlite')('quota charges in the SQLite writer thread', () => {
  // The thread runs its own prepared copy of consumeQuotaInSql's statement: both must answer
  // every case alike and leave the same row behind.
  it('answers as consumeQuotaInSql does: limits, costs, a refill period starting over, no quota, no key', async () => {
    const now = Date.now();
    const refill: RefillInterval = 'monthly';
    const steps: { cost: number; refill: RefillInterval | null; unknownKey?: true; dropLimit?: true }[] = [
      { cost: 3, refill }, // the stored period is an old one: counts from 0
      { cost: 3, refill }, // 6 > 5: refused
      { cost: 2, refill },
      { cost: 1, refill: null }, // at the limit
      { cost: 1, refill, unknownKey: true },
      { cost: 1, refill: null, dropLimit: true }, // no quota: refused, usage as it stands
    ];
    type Charge = (storage: Storage, keyId: string, step: (typeof steps)[number]) => Promise<{ allowed: boolean; used: number }>;
    const run = async (charge: Charge) => {
      const { storage, dir } = await store();
      const keyId = await keyWithQuota(storage, dir, { limited_amount: 5, used_amount: 4, refill_period_start: 0 });
      const outcomes = [];
      for (const step of steps) {
        if (step.dropLimit === true) await storage.db.updateTable('api_keys').set({ limited_amount: null }).where('id', '=', keyId).execute();
        outcomes.push(await charge(storage, step.unknownKey === true ? 'key_unknown' : keyId, step));
      }
      const row = await storage.db.selectFrom('api_keys').select(['used_amount', 'refill_period_start']).where('id', '=', keyId).executeTakeFirstOrThrow();
      return { outcomes, row };
    };
    const inThread = await run((storage, keyId, step) =>
      storage.chargeQuota!({ keyId, cost: step.cost, periodStart: step.refill === null ? null : refillPeriodStart(step.refill, now) }),
    );
    const onMain = await run((storage, keyId, step) => consumeQuotaInSql(storage.db, { keyId, cost: step.cost, limit: 5, refill: step.refill, now }));
    expect(inThread).toEqual(onMain);
    expect(inThread.outcomes).toEqual([
      { allowed: true, used: 3 },
      { allowed: false, used: 3 },
      { allowed: true, used: 5 },
      { allowed: false, used: 5 },
      { allowed: false, used: 0 },
      { allowed: false, used: 5 },
    ]);
    expect(inThread.row).toEqual({ used_amount: 5, refill_period_start: refillPeriodStart(refill, now) });
  });

  it('charges asked for at once in order, in batches, never past the limit', async () => {
    const { storage, dir } = await store();
    const keyId = await keyWithQuota(storage, dir, { limited_amount: 700, used_amount: 0, refill_period_start: null });
    // More than one message's worth (MAX_CHARGES in storage.ts): the rest follows in the next.
    const outcomes = await Promise.all(Array.from({ length: 1_200 }, () => storage.chargeQuota!({ keyId, cost: 1, periodStart: null })));
    expect(outcomes.slice(0, 700)).toEqual(Array.from({ length: 700 }, (_, i) => ({ allowed: true, used: i + 1 })));
    expect(outcomes.slice(700)).toEqual(Array.from({ length: 500 }, () => ({ allowed: false, used: 700 })));
    const row = await storage.db.selectFrom('api_keys').select('used_amount').where('id', '=', keyId).executeTakeFirstOrThrow();
    expect(row.used_amount).toBe(700);
  });

  it('fails every charge of a batch it cannot make, and a closed store refuses charges', async () => {
    const { storage, dir } = await store();
    const keyId = await keyWithQuota(storage, dir, { limited_amount: 10, used_amount: 0, refill_period_start: null });
    await sql`alter table api_keys rename column used_amount to used_away`.execute(storage.db);
    const failing = [1, 2].map(() => storage.chargeQuota!({ keyId, cost: 1, periodStart: null }));
    for (const charge of failing) await expect(charge).rejects.toThrow(/used_amount/);
    await sql`alter table api_keys rename column used_away to used_amount`.execute(storage.db);
    expect(await storage.chargeQuota!({ keyId, cost: 1, periodStart: null })).toEqual({ allowed: true, used: 1 });
    await storage.close();
    await expect(storage.chargeQuota!({ keyId, cost: 1, periodStart: null })).rejects.toThrow('the store is closed');
  });
});

function lockIsFree(probe: SQLite.Database): boolean {
  try {
    probe.exec('begin immediate');
    probe.exec('rollback');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw error;
  }
}
