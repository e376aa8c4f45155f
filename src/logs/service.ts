// Reading usage logs (newest first, cursor-paged) and per-key usage aggregates (hourly rollups,
// summed per day on request). A caller without keys:manage_all sees only its own keys' logs.
import { sql } from 'kysely';
import type { Db, EventRow } from '../storage/database.js';
import { forbidden, notFound, validationError } from '../errors.js';
import { can, requireAny, type Actor } from '../domain/actor.js';
import { findProject } from '../projects/store.js';
import { findKey } from '../keys/store.js';
import type { ListLogsInput, UsageInput, UsageLogResource } from './schema.js';
import { rowEntries, type EventEntry } from '../storage/usage-chunk.js';
import { comparePositions, type Position } from '../storage/stream-position.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_BUCKETS = { hour: 24 * 93, day: 3 * 366 } as const;

export function toUsageLog(row: EventRow): UsageLogResource {
  return {
    id: row.id,
    time: new Date(Number(row.time)).toISOString(),
    keyId: row.key_id,
    outcome: row.outcome as UsageLogResource['outcome'],
    scopes: row.scopes === null ? [] : (JSON.parse(row.scopes) as string[]),
    host: row.host,
    ip: row.ip,
    cost: Number(row.cost ?? 0),
    latencyUs: Number(row.latency_us ?? 0),
  };
}

function range(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validationError(field, `${field} is not a valid date-time`);
  return ms;
}

export interface LogPage {
  logs: UsageLogResource[];
  nextCursor: string | null;
}

export class LogService {
  /** `readDb`: where the log pages are read (Storage.readDb): a filter that few entries match may
   * read a project's whole log. */
  constructor(private readonly deps: { db: Db; readDb: Db; clock: () => number }) {}

  async list(actor: Actor, projectId: string, query: ListLogsInput): Promise<LogPage> {
    const { db } = this.deps;
    requireAny(actor, 'logs:read');
    if ((await findProject(db, actor.workspaceId, projectId)) === undefined) throw notFound('Project');
    const all = can(actor, 'keys:manage_all');
    if (query.keyId !== undefined) {
      // A deleted key's logs stay until retention removes them, so an unknown id is just a filter
      // (without keys:manage_all it still only matches the caller's own entries).
      const key = await findKey(db, actor.workspaceId, query.keyId);
      const deletedWithLogs =
        key === undefined &&
        (await db.selectFrom('events').select('seq').where('project_id', '=', projectId).where('key_id', '=', query.keyId).limit(1).executeTakeFirst()) !== undefined;
      if ((key === undefined && !deletedWithLogs) || (key !== undefined && key.project_id !== projectId)) throw notFound('API key');
      if (key !== undefined && !all && key.account_id !== actor.accountId) {
        throw forbidden("Reading another account's logs needs the keys:manage_all permission");
      }
    }
    const from = range('from', query.from);
    const to = range('to', query.to);
    const { outcome } = query;
    let q = this.deps.readDb.selectFrom('events').selectAll().where('project_id', '=', projectId).where('type', '=', 'key.verified');
    if (query.keyId !== undefined) q = q.where('key_id', '=', query.keyId);
    if (!all) q = q.where('account_id', '=', actor.accountId);
    // A usage-log chunk (usage-chunk.ts) has the outcome column only when all its entries share
    // one, and spans first_time .. time: these pick the rows that may hold matching entries, and
    // each entry is checked below.
    if (outcome !== undefined) q = q.where((eb) => eb.or([eb('outcome', '=', outcome), eb.and([eb('entries', 'is not', null), eb('outcome', 'is', null)])]));
    if (from !== undefined) q = q.where('time', '>=', from);
    if (to !== undefined) q = q.where(sql<number>`coalesce(first_time, time)`, '<', to);
    const matches = (entry: EventEntry) =>
      (outcome === undefined || entry.outcome === outcome) && (from === undefined || entry.time >= from) && (to === undefined || entry.time < to);
    // Newest first in stream order (see stream-position.ts); the cursor is the last entry's
    // position, `tx.seq.index` (`tx.seq` from before chunks: index 0, the only entry of its row).
    let before: Position | undefined;
    if (query.cursor !== undefined) {
      const [tx, seq, index] = query.cursor.split('.').map(Number) as [number, number, number | undefined];
      before = { tx, seq, index: index ?? 0 };
    }
    const wanted = query.limit + 1;
    const found: EventEntry[] = [];
    // Rows are read a page at a time until a page's entries fill the page of logs: a row holds
    // one matching entry or more, or (a chunk) none.
    let rowsBefore: Position | undefined = before;
    let inclusive = before !== undefined;
    for (;;) {
      let page = q;
      if (rowsBefore !== undefined) {
        const { tx, seq } = rowsBefore;
        page = page.where(inclusive ? sql<boolean>`(tx, seq) <= (${tx}, ${seq})` : sql<boolean>`(tx, seq) < (${tx}, ${seq})`);
      }
      const rowLimit = wanted - found.length;
      const rows = await page.orderBy('tx', 'desc').orderBy('seq', 'desc').limit(rowLimit).execute();
      for (const row of rows) {
        const entries = rowEntries(row);
        for (let i = entries.count - 1; i >= 0 && found.length < wanted; i--) {
          const entry = entries.at(i);
          if (before !== undefined && comparePositions(entry, before) >= 0) continue;
          if (matches(entry)) found.push(entry);
        }
      }
      const last = rows[rows.length - 1];
      if (found.length >= wanted || rows.length < rowLimit || last === undefined) break;
      rowsBefore = { tx: Number(last.tx), seq: Number(last.seq), index: 0 };
      inclusive = false;
    }
    const logs = found.slice(0, query.limit);
    const last = logs[logs.length - 1];
    return {
      logs: logs.map(toUsageLog),
      nextCursor: found.length > query.limit && last !== undefined ? `${last.tx}.${last.seq}.${last.index}` : null,
    };
  }

  /** Counts per hour or day by outcome; buckets without traffic are left out. */
  async usage(actor: Actor, keyId: string, query: UsageInput) {
    const { db, clock } = this.deps;
    requireAny(actor, 'logs:read');
    const key = await findKey(db, actor.workspaceId, keyId);
    if (key === undefined) throw notFound('API key');
    if (key.account_id !== actor.accountId && !can(actor, 'keys:manage_all')) {
      throw forbidden("Reading another account's usage needs the keys:manage_all permission");
    }
    const step = query.granularity === 'day' ? DAY : HOUR;
    // By default the window ends with the current hour or day, so it includes the traffic of now.
    const now = clock();
    const to = range('to', query.to) ?? now - (now % step) + step;
    const from = range('from', query.from) ?? to - (query.granularity === 'day' ? 30 * DAY : DAY);
    if (from >= to) throw validationError('from', 'from must be before to');
    if ((to - from) / step > MAX_BUCKETS[query.granularity]) {
      throw validationError('from', `at most ${MAX_BUCKETS[query.granularity]} ${query.granularity} buckets per request`);
    }
    // The step is inlined (it is one of two constants): PostgreSQL matches GROUP BY to the select
    // list by expression, and two bound parameters are two different expressions to it.
    const bucket = sql<number>`(bucket - (bucket % ${sql.lit(step)}))`;
    const rows = await db
      .selectFrom('usage_rollups')
      .select([bucket.as('time'), 'outcome', sql<number>`sum(count)`.as('count')])
      .where('key_id', '=', keyId)
      .where('bucket', '>=', from - (from % HOUR))
      .where('bucket', '<', to)
      .groupBy([bucket, 'outcome'])
      .orderBy('time')
      .execute();
    const buckets = new Map<number, { time: string; total: number; outcomes: Record<string, number> }>();
    for (const row of rows) {
      const time = Number(row.time);
      let entry = buckets.get(time);
      if (entry === undefined) buckets.set(time, (entry = { time: new Date(time).toISOString(), total: 0, outcomes: {} }));
      entry.outcomes[row.outcome] = Number(row.count);
      entry.total += Number(row.count);
    }
    return { usage: [...buckets.values()] };
  }
}
