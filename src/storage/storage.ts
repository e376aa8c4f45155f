// Opens the database the config asks for and brings its schema up to date.
// Embedded default: one SQLite file under the data dir (WAL, foreign keys on). Distributed:
// PostgreSQL through a pg pool (DATABASE_URL), optionally in its own schema.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import type { Database, Db } from './database.js';
import { usageRows, type KeyUsageRow, type UsageBatch } from './usage-batch.js';
import { UsageThread, type QuotaCharge, type QuotaOutcome } from './usage-thread.js';
import { batchPerTurn } from './turn-batcher.js';
import { migrations } from './migrations/index.js';
import { registerSqliteFunctions } from './sqlite-functions.js';
import { connectionSettings } from './sqlite-settings.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Storage {
  db: Db;
  dialect: Dialect;
  /** Appends a batch of usage-log entries as events and adds their counts to the hourly rollups,
   * atomically. On SQLite in a writer thread of its own (usage-thread.ts: better-sqlite3 blocks
   * the thread it runs on); elsewhere it is ordinary asynchronous Kysely. */
  appendUsage(batch: UsageBatch): Promise<void>;
  /** Adds keys' usage counts and moves their lastUsedAt forward, atomically (the write-behind of
   * verify); on SQLite in the same writer thread. */
  writeKeyUsage(rows: readonly KeyUsageRow[]): Promise<void>;
  /** SQLite only: a quota charge, made by the writer thread in a batch (see openSqlite). */
  chargeQuota?(charge: QuotaCharge): Promise<QuotaOutcome>;
  /** The database for long reads that need no transaction (key lists and searches, log pages). On
   * SQLite they run on a thread of their own, so the main thread (every verification) does not
   * wait while one scans a project's keys; on PostgreSQL it is `db`, whose queries never block. */
  readDb: Db;
  /** SQLite only: how many of the project's keys the fuzzy search `query` finds, counted on the
   * read thread in its copy of the project's names (project-names.ts); null when it cannot tell,
   * and the caller counts in SQL. */
  countNameMatches?: (projectId: string, query: string) => Promise<number | null>;
  /** Creates what must exist before migrations run (the PostgreSQL schema). */
  prepare(): Promise<void>;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** How to open more connections to the same database (LISTEN/NOTIFY); PostgreSQL only. */
  postgres?: { connectionString: string; schema: string | undefined };
}

export interface StorageOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  /** PostgreSQL schema to use (created if missing); the default search_path otherwise. */
  schema?: string | undefined;
  poolSize?: number | undefined;
}

export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function openSqlite(dataDir: string): Storage {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'keyward.sqlite');
  const file = new SQLite(path);
  file.pragma('journal_mode = WAL');
  file.pragma('foreign_keys = ON');
  connectionSettings(file);
  registerSqliteFunctions(file);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(file) }) });
  const usageThread = new UsageThread(path);
  const readDb = new Kysely<Database>({ dialect: new ReadThreadDialect((query) => usageThread.read(query.sql, query.parameters)) });
  return {
    db,
    readDb,
    countNameMatches: (projectId, query) => usageThread.countNames(projectId, query),
    dialect: 'sqlite',
    appendUsage: (batch) => usageThread.run({ op: 'events', batch: batch.message }),
    writeKeyUsage: (rows) => usageThread.run({ op: 'keyUsage', rows }),
    // Every charge is a write: on the main thread each would commit on its own, and wait (blocking
    // the event loop, as better-sqlite3 does) whenever the writer thread holds the write lock for a
    // batch of usage-log rows. The writer thread makes them between its batches instead: those
    // asked for in one turn in one message and one transaction, each still the guarded statement.
    chargeQuota: batchPerTurn((charges: readonly QuotaCharge[]) => usageThread.chargeQuotas(charges), MAX_CHARGES),
    prepare: () => Promise.resolve(),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await usageThread.close();
      await db.destroy();
    },
  };
}

/** SQLite's dialect with every query sent to `read` (the read thread): queries only, no
 * transactions. */
class ReadThreadDialect extends SqliteDialect {
  constructor(private readonly read: (query: CompiledQuery) => Promise<unknown[]>) {
    super({ database: () => Promise.reject(new Error('the read thread has no local database')) });
  }

  override createDriver(): Driver {
    const connection: DatabaseConnection = {
      executeQuery: async <R>(query: CompiledQuery) => ({ rows: (await this.read(query)) as R[] }),
      // eslint-disable-next-line require-yield
      streamQuery: async function* () {
        throw new Error('the read thread does not stream');
      },
    };
    const noTransactions = () => Promise.reject(new Error('the read thread runs no transactions'));
    return {
      init: () => Promise.resolve(),
      acquireConnection: () => Promise.resolve(connection),
      beginTransaction: noTransactions,
      commitTransaction: noTransactions,
      rollbackTransaction: noTransactions,
      releaseConnection: () => Promise.resolve(),
      destroy: () => Promise.resolve(),
    };
  }
}

/**
 * Kysely begins SQLite transactions with a plain (deferred) `begin`: the transaction reads from a
 * snapshot and asks for the write lock only at its first write. The usage writer thread is a second
 * connection to the same file; when it commits between a transaction's first read and its first
 * write (a key created while verifications are logged: count the account's keys, then insert),
 * SQLite cannot move the snapshot forward and fails the write with SQLITE_BUSY_SNAPSHOT at once,
 * which the busy timeout does not wait out, and the request answered 500. `begin immediate` takes
 * the write lock first (waiting, within the busy timeout, for the writer thread's batch), so what a
 * transaction reads stays current until it commits.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Most quota charges or rate-limit hits in one batch (one message to the writer thread, or one
 * round trip to PostgreSQL). */
export const MAX_CHARGES = 500;

/**
 * Kysely's SQLite driver prepares every statement it runs anew; preparing costs about as much as
 * running a short query. Our queries come from a fixed set of builders, so the same SQL text
 * recurs: keep the prepared statements (bounded, oldest dropped first). Never used for iterate()
 * (Kysely's stream()), which would hold a statement busy.
 */
export function withStatementCache(file: SQLite.Database, maxStatements = 500): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => file.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (statement === undefined) {
        statement = file.prepare(sqlText);
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value!);
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
}

const INSERT_SLICE = 500;

/** The portable appendUsage, for dialects whose driver does not block the event loop. */
export async function appendUsageWithKysely(db: Db, batch: UsageBatch): Promise<void> {
  const { events, rollups } = usageRows(batch.message);
  await db.transaction().execute(async (trx) => {
    // In slices: building and compiling a statement runs on the event loop, and stays short.
    for (let i = 0; i < events.length; i += INSERT_SLICE) {
      await trx.insertInto('events').values(events.slice(i, i + INSERT_SLICE)).execute();
    }
    if (rollups.length > 0) {
      await trx
        .insertInto('usage_rollups')
        .values([...rollups])
        .onConflict((oc) => oc.columns(['key_id', 'bucket', 'outcome']).doUpdateSet({ count: sql<number>`usage_rollups.count + excluded.count` }))
        .execute();
    }
  });
}

async function writeKeyUsageWithKysely(db: Db, rows: readonly KeyUsageRow[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const { keyId, count, lastUsedAt } of rows) {
      await trx
        .updateTable('api_keys')
        .set({
          used_amount: sql<number>`used_amount + ${count}`,
          last_used_at: sql<number>`case when last_used_at is null or last_used_at < ${lastUsedAt} then ${lastUsedAt} else last_used_at end`,
        })
        .where('id', '=', keyId)
        .execute();
    }
  });
}

// 64-bit integers and numerics come back as numbers: every value we store (epoch ms, counts,
// sequence numbers) stays below 2^53.
const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (value: string): number => Number(value);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? toNumber : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

export function openPostgres(connectionString: string, schema?: string, poolSize = 10): Storage {
  if (schema !== undefined && !SCHEMA_PATTERN.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    types,
    // Our schema alone. With `public` after it, a node whose schema was dropped under it (a
    // deployment removed, a test's schema dropped while a node still ran) created and wrote its
    // tables in `public` instead of failing. Nothing needs `public` on the path: the one extension
    // object used, pg_trgm's operator class, is named with its schema (migration 0003).
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  pool.on('error', () => undefined); // an idle client's connection dropped: the pool replaces it
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let created = schema === undefined;
  return {
    db,
    readDb: db,
    dialect: 'postgres',
    postgres: { connectionString, schema },
    appendUsage: (batch) => appendUsageWithKysely(db, batch),
    writeKeyUsage: (rows) => writeKeyUsageWithKysely(db, rows),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
    async prepare() {
      if (created) return;
      // `create schema if not exists` is not safe against itself: nodes starting at once can
      // collide on the catalog's unique index. Serialise it; the lock ends with the transaction.
      await db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext(${`keyward:schema:${schema!}`}))`.execute(trx);
        await sql`create schema if not exists ${sql.id(schema!)}`.execute(trx);
      });
      created = true;
    },
  };
}

export function openStorage(options: StorageOptions): Storage {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    return openPostgres(options.databaseUrl, options.schema, options.poolSize);
  }
  return openSqlite(options.dataDir);
}

/**
 * Taken shared while a node migrates and exclusively by whoever drops a Keyward schema: Kysely's
 * migrator reads the catalog of the whole database, and a schema dropped by another deployment (or
 * test) in the middle of that read fails it with "schema … does not exist".
 */
export const DDL_LOCK = 'keyward:ddl';

/** Drops a Keyward schema without breaking migrations running next to it (tests, benchmarks). */
export async function dropSchema(connectionString: string, schema: string): Promise<void> {
  if (!SCHEMA_PATTERN.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [DDL_LOCK]);
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.query('commit');
  } finally {
    await client.end();
  }
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrate(storage: Storage): Promise<string[]> {
  await storage.prepare();
  if (storage.postgres === undefined) return migrateToLatest(storage.db);
  const lock = new pg.Client({ connectionString: storage.postgres.connectionString });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock_shared(hashtext($1))', [DDL_LOCK]);
    return await migrateToLatest(storage.db, storage.postgres.schema);
  } finally {
    await lock.end(); // ends the session, and with it the lock
  }
}

/** `schema`: where the migration bookkeeping tables live (our own schema, when we have one). */
export async function migrateToLatest(db: Db, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    ...(schema !== undefined && { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined) {
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
