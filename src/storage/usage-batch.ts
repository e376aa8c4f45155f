// Usage-log entries on their way to the events table, kept in columns. Recording one costs a few
// typed-array stores and dictionary look-ups on the verify path, and a batch crosses to the writer
// thread as two typed arrays and small dictionaries (a copy of a few memory blocks, not of an
// object per entry; the batch stays intact for a retry if the write fails). Turning entries into
// rows (a row per run of one key's entries, see usageRows; hourly rollups) happens where the
// batch is written: in the SQLite writer thread, or on the main thread for PostgreSQL.
import { newId, randomUlidParts } from '../domain/ids.js';
import type { EventsTable, UsageRollupsTable } from './database.js';
import { chunkEntryId, type ChunkData, type Column } from './usage-chunk.js';

/** The type of every event a batch produces. */
export const USAGE_EVENT_TYPE = 'key.verified';

/** An events row as a batch produces it: every column but the generated ones. Always a
 * USAGE_EVENT_TYPE event (the SQLite writer thread's insert has the type as a constant). */
export type UsageEventRow = Omit<EventsTable, 'seq' | 'tx' | 'type'> & { type: typeof USAGE_EVENT_TYPE };

/** Who an entry belongs to: the verified key's owner chain. */
export interface UsageKey {
  id: string;
  workspaceId: string;
  projectId: string;
  accountId: string | null;
}

export interface UsageEntry {
  time: number;
  key: UsageKey;
  outcome: string;
  scopes: readonly string[] | undefined;
  host: string | undefined;
  ip: string | null;
  cost: number;
  latencyUs: number;
}

/** A key's usage since the last write: added to its count (0 for quota keys, whose count the
 * quota update wrote) and its lastUsedAt moved forward. */
export interface KeyUsageRow {
  keyId: string;
  count: number;
  lastUsedAt: number;
}

/** What a batch looks like in a message between threads. */
export interface UsageBatchMessage {
  length: number;
  numbers: Float64Array;
  refs: Int32Array;
  keys: UsageKey[];
  strings: string[];
  requests: { scopes: string | null; host: string | null }[];
}

/** Numbers per entry, in `numbers`: time, cost, latency. */
const NUMBERS = 3;
/** References per entry, in `refs`: key, outcome, ip, request (-1 = none). */
const REFS = 4;
const NONE = -1;
const HOUR = 3_600_000;
/** The longest time between a chunk's entries. Retention deletes whole rows once their newest
 * entry expires (it runs hourly anyway), so older entries of a chunk stay at most this much longer.
 * A batch spans about the flush interval (1 s by default, at most 60 s) unless a clock jumps. */
const MAX_CHUNK_SPAN = 60_000;

export class UsageBatch {
  length = 0;
  private readonly numbers: Float64Array;
  private readonly refs: Int32Array;
  private keys: UsageKey[] = [];
  private readonly keyIndex = new Map<string, number>();
  private strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  private requests: UsageBatchMessage['requests'] = [];
  private readonly requestIndex = new Map<string, number>();
  // The previous entry's key, outcome, ip and request and their refs: a server's entries mostly
  // repeat them (a busy key, VALID, the same caller and scopes), and comparing with the last one
  // costs less than a map look-up, or the JSON text of the scopes that the look-up needs.
  private lastKeyId: string | undefined;
  private lastKeyRef = NONE;
  private lastOutcome: string | undefined;
  private lastOutcomeRef = NONE;
  private lastIp: string | null | undefined;
  private lastIpRef = NONE;
  private lastScopes: readonly string[] | undefined;
  private lastHost: string | undefined;
  private lastRequestRef = NONE;

  constructor(readonly capacity: number) {
    this.numbers = new Float64Array(capacity * NUMBERS);
    this.refs = new Int32Array(capacity * REFS);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Empties the batch for reuse, its typed arrays kept (once it is written: a message sent
   * before shares the tables, not the arrays' contents, which were copied). */
  clear(): void {
    this.length = 0;
    this.keys = [];
    this.keyIndex.clear();
    this.strings = [];
    this.stringIndex.clear();
    this.requests = [];
    this.requestIndex.clear();
    this.lastKeyId = undefined;
    this.lastKeyRef = NONE;
    this.lastOutcome = undefined;
    this.lastOutcomeRef = NONE;
    this.lastIp = undefined;
    this.lastIpRef = NONE;
    this.lastScopes = undefined;
    this.lastHost = undefined;
    this.lastRequestRef = NONE;
  }

  add(entry: UsageEntry): void {
    const n = this.length * NUMBERS;
    this.numbers[n] = entry.time;
    this.numbers[n + 1] = entry.cost;
    this.numbers[n + 2] = entry.latencyUs;
    const r = this.length * REFS;
    const { key, outcome, ip, scopes, host } = entry;
    if (key.id !== this.lastKeyId) {
      this.lastKeyId = key.id;
      this.lastKeyRef = this.keyRef(key);
    }
    this.refs[r] = this.lastKeyRef;
    if (outcome !== this.lastOutcome) {
      this.lastOutcome = outcome;
      this.lastOutcomeRef = this.stringRef(outcome);
    }
    this.refs[r + 1] = this.lastOutcomeRef;
    if (ip !== this.lastIp) {
      this.lastIp = ip;
      this.lastIpRef = ip === null ? NONE : this.stringRef(ip);
    }
    this.refs[r + 2] = this.lastIpRef;
    if (host !== this.lastHost || !sameScopes(scopes, this.lastScopes)) {
      const hasScopes = scopes !== undefined && scopes.length > 0;
      this.lastRequestRef = !hasScopes && host === undefined ? NONE : this.requestRef(hasScopes ? JSON.stringify(scopes) : null, host ?? null);
      this.lastHost = host;
      this.lastScopes = scopes === undefined ? undefined : [...scopes]; // a copy: the caller's array is theirs to change
    }
    this.refs[r + 3] = this.lastRequestRef;
    this.length++;
  }

  get message(): UsageBatchMessage {
    return { length: this.length, numbers: this.numbers, refs: this.refs, keys: this.keys, strings: this.strings, requests: this.requests };
  }

  private keyRef(key: UsageKey): number {
    let index = this.keyIndex.get(key.id);
    if (index === undefined) {
      index = this.keys.length;
      // Only these four fields: the caller's object may hold much more (a KeyRecord does).
      this.keys.push({ id: key.id, workspaceId: key.workspaceId, projectId: key.projectId, accountId: key.accountId });
      this.keyIndex.set(key.id, index);
    }
    return index;
  }

  /** Callers mostly ask for the same few scopes and hosts: each pair is stored (and copied to the
   * writer thread) once per batch. */
  private requestRef(scopes: string | null, host: string | null): number {
    // A JSON text never holds a raw NUL, so the separator is unambiguous.
    const id = `${scopes === null ? 'n' : `s${scopes}`}\u0000${host === null ? 'n' : `h${host}`}`;
    let index = this.requestIndex.get(id);
    if (index === undefined) {
      index = this.requests.length;
      this.requests.push({ scopes, host });
      this.requestIndex.set(id, index);
    }
    return index;
  }

  private stringRef(text: string): number {
    let index = this.stringIndex.get(text);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(text);
      this.stringIndex.set(text, index);
    }
    return index;
  }
}

function sameScopes(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The events rows of a batch and its counts per key, hour and outcome. Each run of consecutive
 * entries of one key (within MAX_CHUNK_SPAN of the run's first) becomes one row: a usage-log
 * chunk (usage-chunk.ts) when the run has several entries, else a plain `key.verified` row.
 * Entries read back in the order they were recorded, so the stream (log pages, pushes) is in
 * verification order as before chunks; runs are what a busy key makes, while keys taking turns
 * entry by entry gain nothing.
 */
export function usageRows(batch: UsageBatchMessage): { events: UsageEventRow[]; rollups: UsageRollupsTable[] } {
  const { numbers, refs, keys } = batch;
  // A run is a range of consecutive entries: where each starts (the last ends with the batch).
  const runStarts: number[] = [];
  let runKey = NONE;
  let runStart = 0;
  const rollups = new Map<string, UsageRollupsTable>();
  // Each key's latest rollup: a key's entries mostly share one (an hour, an outcome), which then
  // costs neither a look-up nor the text of its id.
  const latest: (UsageRollupsTable | undefined)[] = new Array<UsageRollupsTable | undefined>(keys.length);
  const latestOutcome = new Int32Array(keys.length);
  for (let i = 0; i < batch.length; i++) {
    const time = numbers[i * NUMBERS]!;
    const keyRef = refs[i * REFS]!;
    if (keyRef !== runKey || Math.abs(time - runStart) > MAX_CHUNK_SPAN) {
      runKey = keyRef;
      runStart = time;
      runStarts.push(i);
    }
    const outcomeRef = refs[i * REFS + 1]!;
    const bucket = time - (time % HOUR);
    let rollup = latest[keyRef];
    if (rollup === undefined || rollup.bucket !== bucket || latestOutcome[keyRef] !== outcomeRef) {
      const id = `${keyRef} ${bucket} ${outcomeRef}`;
      rollup = rollups.get(id);
      if (rollup === undefined) {
        const key = keys[keyRef]!;
        rollups.set(id, (rollup = { key_id: key.id, project_id: key.projectId, bucket, outcome: batch.strings[outcomeRef]!, count: 0 }));
      }
      latest[keyRef] = rollup;
      latestOutcome[keyRef] = outcomeRef;
    }
    rollup.count++;
  }
  const events = new Array<UsageEventRow>(runStarts.length);
  for (let r = 0; r < runStarts.length; r++) {
    const from = runStarts[r]!;
    const to = r + 1 < runStarts.length ? runStarts[r + 1]! : batch.length;
    events[r] = to - from === 1 ? eventRow(batch, from) : chunkRow(batch, from, to);
  }
  return { events, rollups: [...rollups.values()] };
}

/** Entry `i` of the batch as a row of its own. */
function eventRow(batch: UsageBatchMessage, i: number): UsageEventRow {
  const { numbers, refs, strings, requests } = batch;
  const time = numbers[i * NUMBERS]!;
  const key = batch.keys[refs[i * REFS]!]!;
  const ipRef = refs[i * REFS + 2]!;
  const requestRef = refs[i * REFS + 3]!;
  const request = requestRef === NONE ? undefined : requests[requestRef]!;
  return {
    id: newId('evt', time),
    time,
    type: USAGE_EVENT_TYPE,
    workspace_id: key.workspaceId,
    project_id: key.projectId,
    key_id: key.id,
    account_id: key.accountId,
    outcome: strings[refs[i * REFS + 1]!]!,
    scopes: request?.scopes ?? null,
    host: request?.host ?? null,
    ip: ipRef === NONE ? null : strings[ipRef]!,
    cost: numbers[i * NUMBERS + 1]!,
    latency_us: numbers[i * NUMBERS + 2]!,
    data: null,
    entries: null,
    first_time: null,
  };
}

/** Entries `from` to `to` (exclusive), a run of one key's, as one chunk row. */
function chunkRow(batch: UsageBatchMessage, from: number, to: number): UsageEventRow {
  const { numbers, refs } = batch;
  const count = to - from;
  // The chunk's own strings and requests (the batch's tables also hold other keys').
  const strings: string[] = [];
  const stringRef = localRefs(batch.strings, strings, (text) => text);
  const requests: ChunkData['requests'] = [];
  const requestRef = localRefs(batch.requests, requests, ({ scopes, host }) => [scopes, host]);
  let oldest = Infinity;
  let newest = -Infinity;
  for (let i = from; i < to; i++) {
    const time = numbers[i * NUMBERS]!;
    if (time < oldest) oldest = time;
    if (time > newest) newest = time;
  }
  const times = new Array<number>(count);
  for (let j = 0; j < count; j++) times[j] = numbers[(from + j) * NUMBERS]! - oldest;
  const firstTime = numbers[from * NUMBERS]!;
  const key = batch.keys[refs[from * REFS]!]!;
  const id = randomUlidParts(count);
  const outcome = runColumn(refs, REFS, 1, from, to, stringRef);
  const data: ChunkData = {
    id,
    time: times,
    outcome,
    ip: runColumn(refs, REFS, 2, from, to, stringRef),
    request: runColumn(refs, REFS, 3, from, to, requestRef),
    cost: runColumn(numbers, NUMBERS, 1, from, to),
    latency: runColumn(numbers, NUMBERS, 2, from, to),
    strings,
    requests,
  };
  return {
    id: chunkEntryId(firstTime, id, 0),
    time: newest,
    type: USAGE_EVENT_TYPE,
    workspace_id: key.workspaceId,
    project_id: key.projectId,
    key_id: key.id,
    account_id: key.accountId,
    // Shared by all entries or none: lets a filter on the outcome skip the chunks without it.
    outcome: typeof outcome === 'number' ? strings[outcome]! : null,
    scopes: null,
    host: null,
    ip: null,
    cost: null,
    latency_us: null,
    data: JSON.stringify(data),
    entries: count,
    first_time: oldest,
  };
}

/** A chunk's ref for a ref into one of the batch's tables (`source`): its place in the chunk's own
 * table (`out`), which gets a copy of each entry the chunk uses, in the order of first use. NONE
 * stays NONE. */
function localRefs<S, T>(source: readonly S[], out: T[], copy: (entry: S) => T): (ref: number) => number {
  const places = new Int32Array(source.length).fill(NONE);
  return (ref) => {
    if (ref === NONE) return NONE;
    let local = places[ref]!;
    if (local === NONE) {
      places[ref] = local = out.length;
      out.push(copy(source[ref]!));
    }
    return local;
  };
}

/** Entries `from` to `to` (exclusive) of a column kept at `offset` of every `stride` values, refs
 * turned into the chunk's by `local`: the one value they all hold (most runs: a busy caller's
 * outcome, address, request, cost), else an array of them. */
function runColumn(values: Float64Array | Int32Array, stride: number, offset: number, from: number, to: number, local?: (ref: number) => number): Column {
  const first = values[from * stride + offset]!;
  let i = from + 1;
  while (i < to && values[i * stride + offset] === first) i++;
  if (i === to) return local === undefined ? first : local(first);
  const column = new Array<number>(to - from);
  for (let j = 0; j < column.length; j++) {
    const value = values[(from + j) * stride + offset]!;
    column[j] = local === undefined ? value : local(value);
  }
  return column;
}
