// ClusterInvalidation with an in-memory bus: messages from other nodes are applied, our own are
// not echoed, and while the channel is down the cache only keeps entries for the fallback TTL.
import { describe, expect, it } from 'vitest';
import { KeyCache } from './cache.js';
import { ClusterInvalidation, parseMessage, type InvalidationBus, type InvalidationMessage } from './invalidation.js';
import type { KeyRecord } from './record.js';

class MemoryBus implements InvalidationBus {
  published: InvalidationMessage[] = [];
  deliver: (message: InvalidationMessage) => void = () => undefined;
  state: (connected: boolean) => void = () => undefined;
  publish(message: InvalidationMessage): void {
    this.published.push(message);
  }
  start(onMessage: (message: InvalidationMessage) => void, onState: (connected: boolean) => void): Promise<void> {
    this.deliver = onMessage;
    this.state = onState;
    onState(true);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const record = (id: string, accountId = 'acc_1', projectId = 'proj_1') => ({ id, accountId, projectId }) as unknown as KeyRecord;

async function setup() {
  const cache = new KeyCache({ maxEntries: 100, ttlMs: 60_000 });
  const bus = new MemoryBus();
  const cluster = new ClusterInvalidation(cache, bus, { fallbackTtlMs: 1_000 });
  await cluster.start();
  return { cache, bus, cluster };
}

describe('ClusterInvalidation', () => {
  it('applies changes locally and publishes them; applies other nodes’ messages, ignores its own echo', async () => {
    const { cache, bus, cluster } = await setup();
    cache.set('h1', record('key_1'), 0, cache.currentGeneration());
    cluster.invalidateKey('key_1');
    expect(cache.get('h1', 1)).toBeUndefined();
    expect(bus.published).toEqual([{ kind: 'key', id: 'key_1', origin: cluster.nodeId }]);

    cache.set('h2', record('key_2', 'acc_2'), 0, cache.currentGeneration());
    bus.deliver({ kind: 'account', id: 'acc_2', origin: cluster.nodeId }); // our own echo
    expect(cache.get('h2', 1)).not.toBeUndefined();
    bus.deliver({ kind: 'account', id: 'acc_2', origin: 'another-node' });
    expect(cache.get('h2', 1)).toBeUndefined();
    expect(cluster.received).toBe(1);
  });

  it('while the channel is down, entries live for the fallback TTL only, and every transition starts over', async () => {
    const { cache, bus, cluster } = await setup();
    cache.set('h1', record('key_1'), 0, cache.currentGeneration());
    expect(cache.get('h1', 30_000)).not.toBeUndefined(); // normal TTL: 60 s

    bus.state(false);
    expect(cluster.connected).toBe(false);
    expect(cluster.disconnects).toBe(1);
    expect(cache.size).toBe(0); // what changed meanwhile is unknown: forget everything
    cache.set('h1', record('key_1'), 0, cache.currentGeneration());
    expect(cache.get('h1', 999)).not.toBeUndefined();
    expect(cache.get('h1', 1_000)).toBeUndefined(); // 1 s at most

    cache.set('h1', record('key_1'), 2_000, cache.currentGeneration());
    bus.state(true);
    expect(cache.size).toBe(0); // messages lost while down: start over
    cache.set('h1', record('key_1'), 2_000, cache.currentGeneration());
    expect(cache.get('h1', 30_000)).not.toBeUndefined(); // back to the normal TTL
  });

  it('starts with the short TTL until the channel is up', () => {
    const cache = new KeyCache({ maxEntries: 100, ttlMs: 60_000 });
    new ClusterInvalidation(cache, new MemoryBus(), { fallbackTtlMs: 500 });
    cache.set('h1', record('key_1'), 0, cache.currentGeneration());
    expect(cache.get('h1', 500)).toBeUndefined();
  });

  it.each([
    ['{"kind":"key","id":"key_1","origin":"n"}', { kind: 'key', id: 'key_1', origin: 'n' }],
    ['{"kind":"other","id":"x","origin":"n"}', null],
    ['not json', null],
    ['{"kind":"key","id":5,"origin":"n"}', null],
  ])('parses %s', (raw, expected) => {
    expect(parseMessage(raw)).toEqual(expected);
  });
});
