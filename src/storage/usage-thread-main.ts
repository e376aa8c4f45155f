// The SQLite writer thread, and the read thread (see usage-thread.ts): a connection per store
// file, one transaction per write request, an answer per request, in order.
import { parentPort } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { connectionSettings } from './sqlite-settings.js';
import { registerSqliteFunctions } from './sqlite-functions.js';
import { ProjectNames } from './project-names.js';
import { USAGE_EVENT_TYPE, usageRows, type KeyUsageRow, type UsageBatchMessage, type UsageEventRow } from './usage-batch.js';
import type { QuotaCharge, QuotaOutcome, UsageThreadReply, UsageThreadRequest } from './usage-thread.js';

interface Store {
  file: SQLite.Database;
  appendEvents(batch: UsageBatchMessage): void;
  writeKeyUsage(rows: readonly KeyUsageRow[]): void;
  chargeQuotas(charges: readonly QuotaCharge[]): QuotaOutcome[];
}

/** The key's usage that counts in the current period (`@periodStart`, null without refill): zero
 * when the stored period is an older one. The same expression as consumeQuotaInSql's. */
const CURRENT_USED = `(case when @periodStart is not null and coalesce(refill_period_start, 0) < @periodStart then 0 else used_amount end)`;

/** A usage event's columns, and their values: `type` is the same for every one (see
 * UsageEventRow), so only the others are bound. */
const EVENT_COLUMNS = 'id, time, type, workspace_id, project_id, key_id, account_id, outcome, scopes, host, ip, cost, latency_us, data, entries, first_time';
const EVENT_VALUES = `(?, ?, '${USAGE_EVENT_TYPE}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** Rows per insert statement: one call into SQLite (and one set of parameters to bind) for that
 * many rows instead of one each. When usage rows were one per entry, the writer thread's CPU per
 * entry (2,000-entry batches into a fresh store, appendUsage alone, 120,000 entries, three runs
 * each) was 4.49-4.62 µs one row at a time and 3.80-4.00 with 50 rows per statement; 20 to 500
 * rows per statement measured alike. A batch now has a row per run of one key's entries
 * (usage-chunk.ts). */
const ROWS_PER_INSERT = 50;

/** The bound values of one row, in EVENT_VALUES' order. */
function pushEvent(params: unknown[], e: UsageEventRow): void {
  params.push(e.id, e.time, e.workspace_id, e.project_id, e.key_id, e.account_id, e.outcome, e.scopes, e.host, e.ip, e.cost, e.latency_us, e.data, e.entries, e.first_time);
}

const stores = new Map<string, Store>();

/** The read thread's connections: read-only, with the functions queries may call, and their
 * statements by text (an admin API's queries are few, but their parameters vary). */
interface Reader {
  file: SQLite.Database;
  statements: Map<string, SQLite.Statement>;
  /** Made at the first search count. */
  names: ProjectNames | null;
}
const readers = new Map<string, Reader>();
const MAX_STATEMENTS = 200;

function reader(path: string): Reader {
  let reader = readers.get(path);
  if (reader === undefined) {
    const file = new SQLite(path, { readonly: true, fileMustExist: true });
    connectionSettings(file);
    registerSqliteFunctions(file);
    readers.set(path, (reader = { file, statements: new Map(), names: null }));
  }
  return reader;
}

function countNames(path: string, projectId: string, query: string): number | null {
  const opened = reader(path);
  opened.names ??= new ProjectNames(opened.file);
  return opened.names.count(projectId, query);
}

function read(path: string, sqlText: string, parameters: readonly unknown[]): unknown[] {
  const opened = reader(path);
  let statement = opened.statements.get(sqlText);
  if (statement === undefined) {
    statement = opened.file.prepare(sqlText);
    if (!statement.reader) throw new Error('the read thread only reads');
    if (opened.statements.size >= MAX_STATEMENTS) opened.statements.delete(opened.statements.keys().next().value!);
    opened.statements.set(sqlText, statement);
  }
  return statement.all(...parameters);
}

function open(path: string): Store {
  const file = new SQLite(path);
  connectionSettings(file);
  const insertEvents = (rows: number) => file.prepare(`insert into events (${EVENT_COLUMNS}) values ${Array<string>(rows).fill(EVENT_VALUES).join(', ')}`);
  const insertEvent = insertEvents(1);
  const insertManyEvents = insertEvents(ROWS_PER_INSERT);
  const params: unknown[] = [];
  const addRollup = file.prepare(
    `insert into usage_rollups (key_id, bucket, outcome, count, project_id) values (@key_id, @bucket, @outcome, @count, @project_id)
     on conflict (key_id, bucket, outcome) do update set count = usage_rollups.count + excluded.count`,
  );
  const updateKey = file.prepare(
    `update api_keys set used_amount = used_amount + ?,
       last_used_at = case when last_used_at is null or last_used_at < ? then ? else last_used_at end
     where id = ?`,
  );
  // consumeQuotaInSql (sql-quota.ts) as two prepared statements: the guarded charge, and on
  // refusal the usage as it stands.
  const charge = file
    .prepare(
      `update api_keys set used_amount = ${CURRENT_USED} + @cost, refill_period_start = coalesce(@periodStart, refill_period_start)
       where id = @keyId and limited_amount is not null and ${CURRENT_USED} + @cost <= limited_amount
       returning used_amount`,
    )
    .pluck();
  const usedNow = file.prepare(`select ${CURRENT_USED} from api_keys where id = @keyId`).pluck();
  const appendEvents = file.transaction((batch: UsageBatchMessage) => {
    const { events, rollups } = usageRows(batch);
    // Positional parameters (binding by name costs a look-up per column per row), as many rows
    // per statement as fit.
    let i = 0;
    for (; i + ROWS_PER_INSERT <= events.length; i += ROWS_PER_INSERT) {
      params.length = 0;
      for (let j = i; j < i + ROWS_PER_INSERT; j++) pushEvent(params, events[j]!);
      insertManyEvents.run(params);
    }
    for (; i < events.length; i++) {
      params.length = 0;
      pushEvent(params, events[i]!);
      insertEvent.run(params);
    }
    for (const rollup of rollups) addRollup.run(rollup);
  });
  const writeKeyUsage = file.transaction((rows: readonly KeyUsageRow[]) => {
    for (const { keyId, count, lastUsedAt } of rows) updateKey.run(count, lastUsedAt, lastUsedAt, keyId);
  });
  const chargeQuotas = file.transaction((charges: readonly QuotaCharge[]) =>
    charges.map(({ keyId, cost, periodStart }): QuotaOutcome => {
      const used = charge.get({ keyId, cost, periodStart }) as number | undefined;
      if (used !== undefined) return { allowed: true, used };
      return { allowed: false, used: (usedNow.get({ keyId, periodStart }) as number | undefined) ?? 0 };
    }),
  );
  // Immediate: take the write lock first (waiting for it through the busy timeout) rather than
  // fail on upgrading a read snapshot that another writer has since moved past.
  return {
    file,
    appendEvents: (batch) => appendEvents.immediate(batch),
    writeKeyUsage: (rows) => writeKeyUsage.immediate(rows),
    chargeQuotas: (charges) => chargeQuotas.immediate(charges),
  };
}

/** Does the request; its answer: quota charges' outcomes, a read's rows, a count of names, else nothing. */
function handle(request: UsageThreadRequest): Omit<UsageThreadReply, 'id'> {
  if (request.op === 'read') return { rows: read(request.file, request.sql, request.parameters) };
  if (request.op === 'countNames') return { count: countNames(request.file, request.projectId, request.query) };
  let store = stores.get(request.file);
  if (request.op === 'close') {
    store?.file.close();
    stores.delete(request.file);
    readers.get(request.file)?.file.close();
    readers.delete(request.file);
    return {};
  }
  if (store === undefined) {
    store = open(request.file);
    stores.set(request.file, store);
  }
  if (request.op === 'events') store.appendEvents(request.batch);
  else if (request.op === 'keyUsage') store.writeKeyUsage(request.rows);
  else return { outcomes: store.chargeQuotas(request.charges) };
  return {};
}

parentPort!.on('message', (request: UsageThreadRequest) => {
  let reply: UsageThreadReply;
  try {
    reply = { id: request.id, ...handle(request) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
