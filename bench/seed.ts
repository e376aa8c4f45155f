// Bulk seeding for the scale section: the real CLI (`keyward init`) makes the schema and the first
// workspace, then accounts and keys go straight into the SQLite file in a few large transactions
// (one HTTP call per key would take hours at a million). The rows are the ones KeyService writes
// (buildNewKey's columns, a real token whose SHA-256 is the key_secrets hash), so verify accepts
// them; unlike KeyService no audit entries or key.created events are written.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { ROOT_KEY } from './servers.js';
import type { RowsBatch, RowsRequest } from './seed-rows.js';

const ROOT = join(import.meta.dirname, '..');
/** Keys per transaction and per batch from the row worker. */
const BATCH_KEYS = 50_000;
const YEAR_MS = 365 * 86_400_000;

export interface SeededStore {
  projectId: string;
  keys: number;
  accounts: number;
  /** Wall time of the whole seeding: `keyward init`, making the rows and inserting them. */
  seedMs: number;
  /** Size of keyward.sqlite afterwards. */
  databaseBytes: number;
  /** Tokens of randomly chosen seeded keys (all of them when the store is smaller). */
  sampleTokens: string[];
}

/** Runs the row generator in a worker thread; `next()` asks for the following batch. */
function rowWorker(request: RowsRequest): { next(): Promise<RowsBatch | null>; stop(): Promise<number> } {
  // tsx's loader is registered per thread (and on Node 20 `--import tsx` in a worker's execArgv
  // comes too late for its entry module), so the worker starts as plain JS and imports through tsx.
  const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(new URL('./seed-rows.ts', import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(entry, { eval: true, workerData: request });
  let failure: Error | null = null;
  worker.once('error', (error) => (failure = error));
  return {
    next: () =>
      new Promise<RowsBatch | null>((resolve, reject) => {
        if (failure !== null) return reject(failure);
        const onError = (error: Error) => reject(error);
        worker.once('error', onError);
        worker.once('message', (batch: RowsBatch | null) => {
          worker.off('error', onError);
          resolve(batch);
        });
        worker.postMessage('next');
      }),
    stop: () => worker.terminate(),
  };
}

/** `keyward init` (schema, first workspace, owner, default project) on `dataDir`, then `keyCount` keys. */
export async function seedStore(dataDir: string, keyCount: number, sampleSize: number): Promise<SeededStore> {
  const started = performance.now();
  await promisify(execFile)(process.execPath, ['dist/main.js', 'init'], {
    cwd: ROOT,
    env: { ...process.env, KEYWARD_DATA_DIR: dataDir, KEYWARD_ROOT_KEY: ROOT_KEY, KEYWARD_LOG_LEVEL: 'warn' },
  });

  const file = new SQLite(join(dataDir, 'keyward.sqlite'));
  try {
    // A failed seed is thrown away, so no journal and no syncs; WAL is switched back on at the end
    // (the server sets it on open anyway). SQLite leaves WAL only for DELETE, hence two steps.
    file.pragma('journal_mode = DELETE');
    file.pragma('journal_mode = OFF');
    file.pragma('synchronous = OFF');
    file.pragma('cache_size = -1048576'); // up to 1 GiB (all of it at 1M keys): the key_secrets primary key is a random hash
    file.pragma('foreign_keys = ON');
    const project = file.prepare('select id, workspace_id, prefix, max_keys_per_account, recoverable from projects').get() as {
      id: string;
      workspace_id: string;
      prefix: string;
      max_keys_per_account: number;
      recoverable: number;
    };
    // Recoverable projects also keep a sealed copy of each token; the default project does not.
    if (project.recoverable !== 0) throw new Error('seeding expects a non-recoverable project');
    const insertAccount = file.prepare(
      `insert into accounts (id, workspace_id, email, name, role, password_hash, created_at, updated_at) values (?, ?, ?, ?, 'developer', null, ?, ?)`,
    );
    // Every column buildNewKey sets: a plain enabled token key, no expiry, host, quota or limits.
    const insertKey = file.prepare(
      `insert into api_keys (id, workspace_id, project_id, account_id, name, start, environment, type, username, scopes, enabled,
         expires_at, host, limited_amount, refill_interval, refill_period_start, rate_limit_limit, rate_limit_window_ms, meta,
         created_at, updated_at, last_used_at)
       values (?, ?, ?, ?, ?, ?, ?, 'token', null, ?, 1, null, null, null, null, null, null, null, null, ?, ?, null)`,
    );
    const insertSecret = file.prepare(`insert into key_secrets (hash, key_id, created_at, expires_at, encrypted_token) values (?, ?, ?, null, null)`);
    const insertBatch = file.transaction((batch: RowsBatch) => {
      for (const [id, email, name, at] of batch.accounts) insertAccount.run(id, project.workspace_id, email, name, at, at);
      for (const [keyId, accountId, name, start, environment, scopes, at, hash] of batch.keys) {
        insertKey.run(keyId, project.workspace_id, project.id, accountId, name, start, environment, scopes, at, at);
        insertSecret.run(hash, keyId, at);
      }
    });

    const perAccount = project.max_keys_per_account;
    const rows = rowWorker({
      keyCount,
      perAccount,
      prefix: project.prefix,
      // Creation times spread over the past year, strictly increasing (ids are ULIDs of that time).
      firstAt: Date.now() - YEAR_MS,
      stepMs: Math.max(1, Math.floor(YEAR_MS / (keyCount + Math.ceil(keyCount / perAccount) + 1))),
      batchKeys: BATCH_KEYS,
      sampleSize,
    });
    let accounts = 0;
    let sampleTokens: string[] = [];
    let pending = rows.next();
    try {
      for (let batch = await pending; batch !== null; batch = await pending) {
        pending = rows.next(); // the worker makes the next batch while this one is inserted
        insertBatch(batch);
        accounts += batch.accounts.length;
        if (batch.sampleTokens !== undefined) sampleTokens = batch.sampleTokens;
      }
    } finally {
      pending.catch(() => undefined); // when an insert failed, the batch asked for next is not wanted
      await rows.stop();
    }
    file.pragma('journal_mode = WAL');
    return {
      projectId: project.id,
      keys: keyCount,
      accounts,
      seedMs: Math.round(performance.now() - started),
      databaseBytes: statSync(join(dataDir, 'keyward.sqlite')).size,
      sampleTokens,
    };
  } finally {
    file.close();
  }
}
