// Usage-log entries in columns (usage-batch.ts): what goes in comes out as the same events rows
// and hourly rollups the writer used to build one entry at a time.
import { describe, expect, it } from 'vitest';
import { UsageBatch, usageRows, type UsageEntry, type UsageKey } from './usage-batch.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const KEY_A: UsageKey = { id: 'key_a', workspaceId: 'wks_1', projectId: 'prj_1', accountId: 'acc_1' };
const KEY_B: UsageKey = { id: 'key_b', workspaceId: 'wks_1', projectId: 'prj_2', accountId: 'acc_2' };

function entry(overrides: Partial<UsageEntry>): UsageEntry {
  return { time: T0, key: KEY_A, outcome: 'VALID', scopes: undefined, host: undefined, ip: '10.0.0.1', cost: 1, latencyUs: 12, ...overrides };
}

describe('UsageBatch', () => {
  it('turns entries into events rows in order, every column as recorded', () => {
    const batch = new UsageBatch(10);
    batch.add(entry({}));
    batch.add(entry({ time: T0 + 5, outcome: 'DISABLED', ip: null, cost: 3, latencyUs: 7 }));
    batch.add(entry({ time: T0 + 9, key: KEY_B, outcome: 'INSUFFICIENT_SCOPE', scopes: ['read', 'write'], host: 'api.example.com', ip: '10.0.0.2' }));
    batch.add(entry({ time: T0 + 10, scopes: [], ip: '10.0.0.1' }));
    const { events } = usageRows(batch.message);
    expect(events.map(({ id: _id, ...row }) => row)).toEqual([
      { time: T0, type: 'key.verified', workspace_id: 'wks_1', project_id: 'prj_1', key_id: 'key_a', account_id: 'acc_1', outcome: 'VALID', scopes: null, host: null, ip: '10.0.0.1', cost: 1, latency_us: 12, data: null },
      { time: T0 + 5, type: 'key.verified', workspace_id: 'wks_1', project_id: 'prj_1', key_id: 'key_a', account_id: 'acc_1', outcome: 'DISABLED', scopes: null, host: null, ip: null, cost: 3, latency_us: 7, data: null },
      { time: T0 + 9, type: 'key.verified', workspace_id: 'wks_1', project_id: 'prj_2', key_id: 'key_b', account_id: 'acc_2', outcome: 'INSUFFICIENT_SCOPE', scopes: '["read","write"]', host: 'api.example.com', ip: '10.0.0.2', cost: 1, latency_us: 12, data: null },
      { time: T0 + 10, type: 'key.verified', workspace_id: 'wks_1', project_id: 'prj_1', key_id: 'key_a', account_id: 'acc_1', outcome: 'VALID', scopes: null, host: null, ip: '10.0.0.1', cost: 1, latency_us: 12, data: null },
    ]);
    // Event ids are distinct, and sort like the times they were minted for.
    const ids = events.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.startsWith('evt_'))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
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
    const { events } = usageRows(structuredClone(batch.message));
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
      const { events } = usageRows(structuredClone(batch.message));
      expect(events.map((event) => [event.key_id, event.outcome, event.ip, event.scopes, event.host])).toEqual(expected);
    }
  });
});
