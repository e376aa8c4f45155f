// Usage-log chunks: a run of one key's consecutive entries in a batch, stored as a single
// `key.verified` events row. The row keeps the columns the indexes and filters use (project, key,
// account, the newest entry's time in `time`, the oldest in `first_time`, the outcome when all
// entries share it) and `entries`, the count; each entry's own values are in `data`, column by
// column (ChunkData). One row and one entry in each of the three events indexes per chunk instead
// of per entry: on the writer thread this is most of a verification's cost with usage logs on.
//
// Readers never see a chunk: rowEntries turns every stored row into its entries, each shaped as
// a one-entry row of its own, with its place in the row as `index`. A row without `entries` (any
// other event, a run of one entry, and every usage row written before chunks) is one entry at
// index 0. Stream positions (stream-position.ts) and log cursors count entries by (tx, seq, index).
import { encodeUlid } from '../domain/ids.js';
import type { EventRow } from './database.js';

/** A stored event as readers see it: one entry, with its place in its row. */
export type EventEntry = EventRow & { index: number };

/** Per entry: `values[i]`; a number alone when every entry has that one. */
export type Column = number | number[];

/** The `data` of a chunk row. Refs index `strings` (outcome, ip) and `requests`; -1 is none. */
export interface ChunkData {
  /** The random part of the first entry's id (two 40-bit halves); entry i adds i to the low one. */
  id: [number, number];
  /** Entry times minus the row's `first_time`. */
  time: number[];
  outcome: Column;
  ip: Column;
  request: Column;
  cost: Column;
  latency: Column;
  strings: string[];
  /** Requested scopes (JSON text) and host. */
  requests: [string | null, string | null][];
}

function at(column: Column, i: number): number {
  return typeof column === 'number' ? column : column[i]!;
}

/** The public id of a chunk's entry. */
export function chunkEntryId(time: number, id: [number, number], index: number): string {
  return `evt_${encodeUlid(time, id[0], id[1] + index)}`;
}

/** The entries of a stored events row, oldest first: how many, and each by its index (built on
 * request, so a reader that needs a few of a chunk's entries builds only those). */
export function rowEntries(row: EventRow): { count: number; at(index: number): EventEntry } {
  if (row.entries === null) return { count: 1, at: () => ({ ...row, index: 0 }) };
  const data = JSON.parse(row.data!) as ChunkData;
  const first = Number(row.first_time);
  return {
    count: Number(row.entries),
    at(i: number): EventEntry {
      const time = first + data.time[i]!;
      const ip = at(data.ip, i);
      const request = at(data.request, i);
      return {
        seq: row.seq,
        tx: row.tx,
        index: i,
        id: chunkEntryId(time, data.id, i),
        time,
        type: row.type,
        workspace_id: row.workspace_id,
        project_id: row.project_id,
        key_id: row.key_id,
        account_id: row.account_id,
        outcome: data.strings[at(data.outcome, i)]!,
        scopes: request < 0 ? null : data.requests[request]![0],
        host: request < 0 ? null : data.requests[request]![1],
        ip: ip < 0 ? null : data.strings[ip]!,
        cost: at(data.cost, i),
        latency_us: at(data.latency, i),
        data: null,
        entries: null,
        first_time: null,
      };
    },
  };
}

/** The entries of stored events rows, in order. */
export function expandEvents(rows: readonly EventRow[]): EventEntry[] {
  const entries: EventEntry[] = [];
  for (const row of rows) {
    const inRow = rowEntries(row);
    for (let i = 0; i < inRow.count; i++) entries.push(inRow.at(i));
  }
  return entries;
}
