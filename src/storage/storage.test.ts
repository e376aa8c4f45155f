// Storage set-up on PostgreSQL when several nodes start at once on an empty schema: every node's
// schema creation and migration must succeed (`create schema if not exists` alone collides).
// A node whose schema was dropped under it. SQLite transactions against another connection
// committing in the middle of them; the SQLite read thread.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { BACKEND, TEST_DATABASE_URL } from '../../test/helpers.js';
import { sql } from 'kysely';
import { dropSchema, migrate, openPostgres, openSqlite, type Storage } from './storage.js';
import { migrations } from './migrations/index.js';
import { NAME_MATCHES } from './sqlite-functions.js';

describe('PostgreSQL set-up', () => {
  it.runIf(BACKEND === 'postgres')('five nodes creating and migrating one new schema at once all succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = `t_race_${randomBytes(5).toString('hex')}`;
      const nodes = Array.from({ length: 5 }, () => openPostgres(TEST_DATABASE_URL, schema, 2));
      try {
        const results = await Promise.allSettled(nodes.map((node) => migrate(node)));
        expect(results.filter((result) => result.status === 'rejected').map((result) => String((result).reason))).toEqual([]);
        const { rows } = await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')}`.execute(nodes[0]!.db);
        expect(rows.map((row) => row.name)).toEqual(Object.keys(migrations)); // each applied once
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
        await dropSchema(TEST_DATABASE_URL, schema);
      }
    }
  });

  it.runIf(BACKEND === 'postgres')('a node whose schema was dropped fails its writes instead of making tables in public', async () => {
    const schema = `t_gone_${randomBytes(5).toString('hex')}`;
    const node = openPostgres(TEST_DATABASE_URL, schema, 1);
    const table = `keyward_stray_${randomBytes(4).toString('hex')}`;
    try {
      await migrate(node);
      await sql`select count(*) from events`.execute(node.db); // found in its schema
      await dropSchema(TEST_DATABASE_URL, schema);
      await expect(sql`select count(*) from events`.execute(node.db)).rejects.toThrow(/does not exist/);
      await expect(sql`create table ${sql.id(table)} (x integer)`.execute(node.db)).rejects.toThrow(/no schema has been selected/);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name = ${table}`.execute(node.db);
      expect(rows[0]!.n).toBe(0);
    } finally {
      await node.close();
      await dropSchema(TEST_DATABASE_URL, schema);
      await cleanUp(`drop table if exists public.${table}`); // only there when the test failed
    }
  });
});

async function cleanUp(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('SQLite transactions', () => {
  /** A store on a new data dir for `run`, closed and removed afterwards. */
  async function withSqlite(run: (storage: Storage, dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-tx-'));
    const storage = openSqlite(dir);
    try {
      await run(storage, dir);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // The usage writer thread is such another connection: before, a key created while it committed
  // usage rows (the count of the account's keys read, then the insert) failed with
  // SQLITE_BUSY_SNAPSHOT and the API answered 500.
  it.runIf(BACKEND === 'sqlite')('a transaction that reads, then writes, is not failed by another connection writing in between', () =>
    withSqlite(async (storage, dir) => {
      const other = new SQLite(join(dir, 'keyward.sqlite'), { timeout: 0 });
      try {
        await sql`create table t (x integer not null)`.execute(storage.db);
        let otherWrite = 'not tried';
        await storage.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(trx);
          try {
            other.prepare('insert into t values (1)').run();
            otherWrite = 'committed';
          } catch (error) {
            otherWrite = (error as { code?: string }).code ?? String(error);
          }
          await sql`insert into t values (${rows[0]!.n + 100})`.execute(trx);
        });
        expect(otherWrite).toBe('SQLITE_BUSY'); // it waits for the transaction (here, with no busy timeout, it gives up)
        other.prepare('insert into t values (1)').run();
        expect(other.prepare('select x from t order by rowid').pluck().all()).toEqual([100, 1]);
      } finally {
        other.close();
      }
    }));

  it.runIf(BACKEND === 'sqlite')('the read thread sees every commit, runs the search function, and refuses writes and transactions', () =>
    withSqlite(async (storage) => {
      const readDb = storage.readDb;
      await sql`create table t (name text not null)`.execute(storage.db);
      const names = async () => (await sql<{ name: string }>`select name from t order by rowid`.execute(readDb)).rows.map((row) => row.name);
      expect(await names()).toEqual([]);
      await sql`insert into t values ('Checkout EU'), ('billing')`.execute(storage.db);
      expect(await names()).toEqual(['Checkout EU', 'billing']); // committed on the main connection, read on its own
      const matched = await sql<{ name: string }>`select name from t where ${sql.raw(NAME_MATCHES)}(${'chekout'}, name)`.execute(readDb);
      expect(matched.rows).toEqual([{ name: 'Checkout EU' }]);
      await expect(sql`insert into t values ('x')`.execute(readDb)).rejects.toThrow('the read thread only reads');
      await expect(readDb.transaction().execute(() => Promise.resolve())).rejects.toThrow('no transactions');
      await expect(sql`select nope from t`.execute(readDb)).rejects.toThrow(/no such column/);
      expect(await names()).toEqual(['Checkout EU', 'billing']); // and it still answers
    }));

  it.runIf(BACKEND === 'sqlite')('the main connection waits for locks, checks foreign keys and syncs at commits only in WAL checkpoints', () =>
    withSqlite(async (storage) => {
      const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(storage.db)).rows[0] as object)[0] as number;
      expect(await pragma('busy_timeout')).toBe(5000);
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('synchronous')).toBe(1); // NORMAL
    }));
});
