// The SQLite writer thread (see usage-thread.ts): a connection per store file, one transaction
// per request, an answer per request, in order.
import { parentPort } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { usageRows, type KeyUsageRow, type UsageBatchMessage } from './usage-batch.js';
import type { UsageThreadReply, UsageThreadRequest } from './usage-thread.js';

interface Store {
  file: SQLite.Database;
  appendEvents(batch: UsageBatchMessage): void;
  writeKeyUsage(rows: readonly KeyUsageRow[]): void;
}

const stores = new Map<string, Store>();

function open(path: string): Store {
  const file = new SQLite(path);
  // Per connection: the main thread's connection set WAL (kept in the file) and the same two.
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  const insertEvent = file.prepare(
    `insert into events (id, time, type, workspace_id, project_id, key_id, account_id, outcome, scopes, host, ip, cost, latency_us, data)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const addRollup = file.prepare(
    `insert into usage_rollups (key_id, bucket, outcome, count, project_id) values (@key_id, @bucket, @outcome, @count, @project_id)
     on conflict (key_id, bucket, outcome) do update set count = usage_rollups.count + excluded.count`,
  );
  const updateKey = file.prepare(
    `update api_keys set used_amount = used_amount + ?,
       last_used_at = case when last_used_at is null or last_used_at < ? then ? else last_used_at end
     where id = ?`,
  );
  const appendEvents = file.transaction((batch: UsageBatchMessage) => {
    const { events, rollups } = usageRows(batch);
    // Positional parameters: binding by name costs a look-up per column per row.
    for (const e of events) {
      insertEvent.run(e.id, e.time, e.type, e.workspace_id, e.project_id, e.key_id, e.account_id, e.outcome, e.scopes, e.host, e.ip, e.cost, e.latency_us, e.data);
    }
    for (const rollup of rollups) addRollup.run(rollup);
  });
  const writeKeyUsage = file.transaction((rows: readonly KeyUsageRow[]) => {
    for (const { keyId, count, lastUsedAt } of rows) updateKey.run(count, lastUsedAt, lastUsedAt, keyId);
  });
  // Immediate: take the write lock first (waiting for it through the busy timeout) rather than
  // fail on upgrading a read snapshot that another writer has since moved past.
  return {
    file,
    appendEvents: (batch) => appendEvents.immediate(batch),
    writeKeyUsage: (rows) => writeKeyUsage.immediate(rows),
  };
}

function handle(request: UsageThreadRequest): void {
  let store = stores.get(request.file);
  if (request.op === 'close') {
    store?.file.close();
    stores.delete(request.file);
    return;
  }
  if (store === undefined) {
    store = open(request.file);
    stores.set(request.file, store);
  }
  if (request.op === 'events') store.appendEvents(request.batch);
  else store.writeKeyUsage(request.rows);
}

parentPort!.on('message', (request: UsageThreadRequest) => {
  let reply: UsageThreadReply;
  try {
    handle(request);
    reply = { id: request.id };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
