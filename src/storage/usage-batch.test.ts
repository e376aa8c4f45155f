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
});
