// Usage-log entries in columns (usage-batch.ts): what goes in comes out, read back through
// usage-chunk.ts, as the same entries in the same order (a row per run of one key), and as
// hourly rollups.
import { describe, expect, it } from 'vitest';
import { UsageBatch, usageRows, type UsageBatchMessage, type UsageEntry, type UsageKey } from './usage-batch.js';
import { expandEvents } from './usage-chunk.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const KEY_A: UsageKey = { id: 'key_a', workspaceId: 'wks_1', projectId: 'prj_1', accountId: 'acc_1' };
const KEY_B: UsageKey = { id: 'key_b', workspaceId: 'wks_1', projectId: 'prj_2', accountId: 'acc_2' };

function entry(overrides: Partial<UsageEntry>): UsageEntry {
  return { time: T0, key: KEY_A, outcome: 'VALID', scopes: undefined, host: undefined, ip: '10.0.0.1', cost: 1, latencyUs: 12, ...overrides };
}

/** The batch's entries as readers get them back from its rows (stored in this order). */
function stored(message: UsageBatchMessage) {
  return readBack(usageRows(message).events);
}

function readBack(rows: ReturnType<typeof usageRows>['events']) {
  return expandEvents(rows.map((row, i) => ({ ...row, seq: i + 1, tx: 0 })));
}

describe('UsageBatch', () => {
  it('stores a row per run of one key, and every entry reads back in order, as recorded', () => {
    const batch = new UsageBatch(10);
    batch.add(entry({}));
    batch.add(entry({ time: T0 + 5, outcome: 'DISABLED', ip: null, cost: 3, latencyUs: 7 }));
    batch.add(entry({ time: T0 + 9, key: KEY_B, outcome: 'INSUFFICIENT_SCOPE', scopes: ['read', 'write'], host: 'api.example.com', ip: '10.0.0.2' }));
    batch.add(entry({ time: T0 + 10, scopes: [], ip: '10.0.0.1' }));
    const { events } = usageRows(batch.message);
    // key_a's first two entries are one chunk (their outcomes differ: none on the row); the others plain rows.
    expect(events.map(({ time, key_id, outcome, entries, first_time }) => ({ time, key_id, outcome, entries, first_time }))).toEqual([
      { time: T0 + 5, key_id: 'key_a', outcome: null, entries: 2, first_time: T0 },
      { time: T0 + 9, key_id: 'key_b', outcome: 'INSUFFICIENT_SCOPE', entries: null, first_time: null },
      { time: T0 + 10, key_id: 'key_a', outcome: 'VALID', entries: null, first_time: null },
    ]);
    const entries = readBack(events);
    const common = { type: 'key.verified', workspace_id: 'wks_1', data: null, entries: null, first_time: null, tx: 0 };
    const a = { ...common, project_id: 'prj_1', key_id: 'key_a', account_id: 'acc_1' };
    expect(entries.map(({ id: _id, ...row }) => row)).toEqual([
      { ...a, seq: 1, index: 0, time: T0, outcome: 'VALID', scopes: null, host: null, ip: '10.0.0.1', cost: 1, latency_us: 12 },
      { ...a, seq: 1, index: 1, time: T0 + 5, outcome: 'DISABLED', scopes: null, host: null, ip: null, cost: 3, latency_us: 7 },
      { ...common, project_id: 'prj_2', key_id: 'key_b', account_id: 'acc_2', seq: 2, index: 0, time: T0 + 9, outcome: 'INSUFFICIENT_SCOPE', scopes: '["read","write"]', host: 'api.example.com', ip: '10.0.0.2', cost: 1, latency_us: 12 },
      { ...a, seq: 3, index: 0, time: T0 + 10, outcome: 'VALID', scopes: null, host: null, ip: '10.0.0.1', cost: 1, latency_us: 12 },
    ]);
    // A chunk row's id is its first entry's. Entry ids are distinct, and sort like the times they
    // were minted for.
    expect(events[0]!.id).toBe(entries[0]!.id);
    const ids = entries.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^evt_[0-9A-Z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('gives a chunk its outcome when all its entries share one, and keeps same-millisecond entries apart by id', () => {
    const batch = new UsageBatch(300);
    for (let i = 0; i < 300; i++) batch.add(entry({ latencyUs: i }));
    const { events } = usageRows(batch.message);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'VALID', entries: 300, time: T0, first_time: T0 });
    const entries = readBack(events);
    expect(entries.map((e) => e.latency_us)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const ids = entries.map((e) => e.id);
    expect(new Set(ids).size).toBe(300);
    expect([...ids].sort()).toEqual(ids);
    // Two chunks of the same millisecond draw their own random parts.
    expect(stored(batch.message)[0]!.id).not.toBe(ids[0]);
  });

  it('counts entries per key, hour and outcome', () => {
    const batch = new UsageBatch(10);
    batch.add(entry({ time: T0 + 1 }));
    batch.add(entry({ time: T0 + HOUR - 1 }));
    batch.add(entry({ time: T0 + HOUR }));
    batch.add(entry({ time: T0 + 2, outcome: 'DISABLED' }));
    batch.add(entry({ time: T0 + 3, key: KEY_B }));
    const { rollups } = usageRows(batch.message);
    expect(rollups).toEqual([
      { key_id: 'key_a', project_id: 'prj_1', bucket: T0, outcome: 'VALID', count: 2 },
      { key_id: 'key_a', project_id: 'prj_1', bucket: T0 + HOUR, outcome: 'VALID', count: 1 },
      { key_id: 'key_a', project_id: 'prj_1', bucket: T0, outcome: 'DISABLED', count: 1 },
      { key_id: 'key_b', project_id: 'prj_2', bucket: T0, outcome: 'VALID', count: 1 },
    ]);
  });

  it('adds to the same rollup when a key comes back to an hour and outcome it had', () => {
    const batch = new UsageBatch(10);
    batch.add(entry({ time: T0 + 1 }));
    batch.add(entry({ time: T0 + 2, key: KEY_B }));
    batch.add(entry({ time: T0 + 3, outcome: 'DISABLED' }));
    batch.add(entry({ time: T0 + 4 }));
    batch.add(entry({ time: T0 + HOUR + 5 }));
    batch.add(entry({ time: T0 + 6, key: KEY_B }));
    batch.add(entry({ time: T0 + 7 }));
    const { rollups } = usageRows(batch.message);
    expect(rollups).toEqual([
      { key_id: 'key_a', project_id: 'prj_1', bucket: T0, outcome: 'VALID', count: 3 },
      { key_id: 'key_b', project_id: 'prj_2', bucket: T0, outcome: 'VALID', count: 2 },
      { key_id: 'key_a', project_id: 'prj_1', bucket: T0, outcome: 'DISABLED', count: 1 },
      { key_id: 'key_a', project_id: 'prj_1', bucket: T0 + HOUR, outcome: 'VALID', count: 1 },
    ]);
  });

  it('carries each pair of requested scopes and host once, and gives every entry its own', () => {
    const batch = new UsageBatch(10);
    const asked: Partial<UsageEntry>[] = [
      { scopes: ['read'] },
      { scopes: ['read'], host: 'a.example.com' },
      { scopes: ['read'] },
      { host: 'a.example.com' },
      { scopes: ['read', 'write'] },
      { scopes: ['read'], host: 'a.example.com' },
      { scopes: ['n'] },
      { host: 'n' },
    ];
    for (const overrides of asked) batch.add(entry(overrides));
    expect(batch.message.requests).toHaveLength(6);
    const events = stored(structuredClone(batch.message));
    expect(events.map((event) => [event.scopes, event.host])).toEqual(
      asked.map((overrides) => [overrides.scopes === undefined ? null : JSON.stringify(overrides.scopes), overrides.host ?? null]),
    );
  });

  it('is full at its capacity, and keeps only the owner fields of what it is given as a key', () => {
    const batch = new UsageBatch(2);
    const record = { ...KEY_A, host: (name: string) => name === 'x', reply: { big: 'object' } };
    batch.add(entry({ key: record }));
    expect(batch.full).toBe(false);
    batch.add(entry({ key: record }));
    expect(batch.full).toBe(true);
    // A message must survive the copy to another thread: no functions, nothing but the four fields.
    expect(structuredClone(batch.message).keys).toEqual([KEY_A]);
  });

  // The usage-log writer reuses a batch once it is written (logs/writer.ts): what it held before,
  // and the previous entry add() compares with, must not reach its next message.
  it('records after clear() as a new batch does, and a message sent before keeps its own tables', () => {
    const batch = new UsageBatch(4);
    batch.add(entry({ key: KEY_B, outcome: 'DISABLED', scopes: ['read'], host: 'a.example.com', ip: '10.0.0.9' }));
    batch.add(entry({ key: KEY_A, time: T0 + 1 }));
    const sent = structuredClone(batch.message);
    const tables = batch.message;
    batch.clear();
    expect(batch.length).toBe(0);
    expect(batch.full).toBe(false);
    const again = [entry({ time: T0 + 2 }), entry({ time: T0 + 3, key: KEY_B }), entry({ time: T0 + 4, key: KEY_B, scopes: ['read'], host: 'a.example.com' })];
    const fresh = new UsageBatch(4);
    for (const e of again) {
      batch.add(e);
      fresh.add(e);
    }
    const fields = (message: UsageBatchMessage) => stored(message).map(({ id: _id, ...row }) => row);
    expect(fields(structuredClone(batch.message))).toEqual(fields(structuredClone(fresh.message)));
    expect(batch.message.keys).toEqual([KEY_A, KEY_B]);
    expect(batch.message.strings).toEqual(['VALID', '10.0.0.1']);
    // What was sent before the clear still reads as it was recorded.
    expect(stored(sent).map((event) => [event.key_id, event.outcome, event.ip, event.scopes, event.host])).toEqual([
      ['key_b', 'DISABLED', '10.0.0.9', '["read"]', 'a.example.com'],
      ['key_a', 'VALID', '10.0.0.1', null, null],
    ]);
    expect(tables.keys).toEqual([KEY_B, KEY_A]);
  });

  // add() reuses the previous entry's refs when its key, outcome, ip or request repeat: runs of
  // repeats, changes of one field at a time, and a caller changing its scopes array after add().
  it('gives every entry its own key, outcome, ip, scopes and host, in random runs of repeats', () => {
    const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)]!;
    const keyA2 = { ...KEY_A }; // another object for the same key, as a cache reload makes
    for (let round = 0; round < 20; round++) {
      const batch = new UsageBatch(300);
      const expected: unknown[][] = [];
      let previous = entry({});
      for (let i = 0; i < 300; i++) {
        const next: UsageEntry = { ...previous, time: T0 + i };
        // Mostly a repeat; otherwise one or more fields change.
        if (Math.random() < 0.3) next.key = pick([KEY_A, KEY_B, keyA2]);
        if (Math.random() < 0.2) next.outcome = pick(['VALID', 'DISABLED', 'INSUFFICIENT_SCOPE']);
        if (Math.random() < 0.2) next.ip = pick(['10.0.0.1', '10.0.0.2', null]);
        if (Math.random() < 0.3) {
          const chosen = pick([undefined, [], ['read'], ['read', 'write'], ['write', 'read'], ['write']]);
          next.scopes = chosen === undefined ? undefined : [...chosen];
        }
        if (Math.random() < 0.2) next.host = pick([undefined, 'a.example.com', 'b.example.com']);
        const scopes = next.scopes === undefined ? undefined : [...next.scopes];
        batch.add(next);
        // The caller's array changes after add(): the entry keeps what it held then.
        if (next.scopes !== undefined && next.scopes.length > 0 && Math.random() < 0.2) (next.scopes as string[])[0] = 'changed';
        expected.push([next.key.id, next.outcome, next.ip, scopes === undefined || scopes.length === 0 ? null : JSON.stringify(scopes), next.host ?? null]);
        previous = next;
      }
      const events = stored(structuredClone(batch.message));
      expect(events.map((event) => [event.key_id, event.outcome, event.ip, event.scopes, event.host])).toEqual(expected);
    }
  });
});
