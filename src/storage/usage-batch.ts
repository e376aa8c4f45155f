// Usage-log entries on their way to the events table, kept in columns. Recording one costs a few
// typed-array stores and dictionary look-ups on the verify path, and a batch crosses to the writer
// thread as two typed arrays and small dictionaries (a copy of a few memory blocks, not of an
// object per entry; the batch stays intact for a retry if the write fails). Turning entries into rows (an event id each, scopes as JSON, hourly rollups) happens
// where the batch is written: in the SQLite writer thread, or on the main thread for PostgreSQL.
import { newId } from '../domain/ids.js';
import type { EventsTable, UsageRollupsTable } from './database.js';

/** The type of every event a batch produces. */
export const USAGE_EVENT_TYPE = 'key.verified';

/** An events row as a batch produces it: every column but the generated ones. Always a
 * USAGE_EVENT_TYPE event without `data` (the SQLite writer thread's insert has both as constants). */
export type UsageEventRow = Omit<EventsTable, 'seq' | 'tx' | 'type' | 'data'> & { type: typeof USAGE_EVENT_TYPE; data: null };

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

export class UsageBatch {
  length = 0;
  private readonly numbers: Float64Array;
  private readonly refs: Int32Array;
  private readonly keys: UsageKey[] = [];
  private readonly keyIndex = new Map<string, number>();
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  private readonly requests: UsageBatchMessage['requests'] = [];
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

/** The `key.verified` events of a batch, in order, and their counts per key, hour and outcome. */
export function usageRows(batch: UsageBatchMessage): { events: UsageEventRow[]; rollups: UsageRollupsTable[] } {
  const { numbers, refs, keys, strings, requests } = batch;
  const events = new Array<UsageEventRow>(batch.length);
  const rollups = new Map<string, UsageRollupsTable>();
  for (let i = 0; i < batch.length; i++) {
    const time = numbers[i * NUMBERS]!;
    const keyRef = refs[i * REFS]!;
    const key = keys[keyRef]!;
    const ipRef = refs[i * REFS + 2]!;
    const requestRef = refs[i * REFS + 3]!;
    const request = requestRef === NONE ? undefined : requests[requestRef]!;
    const outcome = strings[refs[i * REFS + 1]!]!;
    events[i] = {
      id: newId('evt', time),
      time,
      type: USAGE_EVENT_TYPE,
      workspace_id: key.workspaceId,
      project_id: key.projectId,
      key_id: key.id,
      account_id: key.accountId,
      outcome,
      scopes: request?.scopes ?? null,
      host: request?.host ?? null,
      ip: ipRef === NONE ? null : strings[ipRef]!,
      cost: numbers[i * NUMBERS + 1]!,
      latency_us: numbers[i * NUMBERS + 2]!,
      data: null,
    };
    const bucket = time - (time % HOUR);
    const id = `${keyRef} ${bucket} ${outcome}`;
    const rollup = rollups.get(id);
    if (rollup === undefined) rollups.set(id, { key_id: key.id, project_id: key.projectId, bucket, outcome, count: 1 });
    else rollup.count++;
  }
  return { events, rollups: [...rollups.values()] };
}
