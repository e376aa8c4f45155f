// KeyCache's bounded LRU: least recently used entries go first, a key in use is never evicted
// (even though a hit moves it only once it has drifted a quarter of the way), TTL and limits hold.
import { describe, expect, it } from 'vitest';
import { KeyCache } from './cache.js';
import type { KeyRecord } from './record.js';

const record = (id: string) => ({ id, accountId: 'acc_1', projectId: 'proj_1' }) as unknown as KeyRecord;

function filled(maxEntries: number, count = maxEntries): KeyCache {
  const cache = new KeyCache({ maxEntries, ttlMs: 60_000 });
  for (let i = 0; i < count; i++) cache.set(`h${i}`, record(`key_${i}`), 0, cache.currentGeneration());
  return cache;
}

describe('KeyCache', () => {
  it('holds at most maxEntries, evicting the least recently inserted first', () => {
    const cache = filled(8, 12);
    expect(cache.size).toBe(8);
    for (let i = 0; i < 4; i++) expect(cache.get(`h${i}`, 1)).toBeUndefined();
    for (let i = 4; i < 12; i++) expect(cache.get(`h${i}`, 1)?.id).toBe(`key_${i}`);
  });

  it('never evicts a key used at least once per half of its capacity, however many others come and go', () => {
    const max = 100;
    const cache = filled(max);
    expect(cache.get('h0', 1)?.id).toBe('key_0'); // the oldest, used: it moves
    for (let i = 0; i < 10_000; i++) {
      cache.set(`new${i}`, record(`key_new${i}`), 0, cache.currentGeneration());
      if (i % (max / 2) === 0) expect(cache.get('h0', 1)?.id, `after ${i} insertions`).toBe('key_0');
    }
    expect(cache.get('h0', 1)?.id).toBe('key_0');
    expect(cache.get('h1', 1)).toBeUndefined(); // never used again: long gone
    expect(cache.size).toBe(max);
  });

  it('moves a hit entry to the young end once it has drifted, so the old end is what goes', () => {
    const cache = filled(8);
    // h0 is the oldest; after 3 more insertions (beyond a quarter of 8) a hit moves it.
    for (let i = 8; i < 11; i++) cache.set(`h${i}`, record(`key_${i}`), 0, cache.currentGeneration());
    expect(cache.get('h0', 1)).toBeUndefined(); // three insertions evicted h0, h1, h2
    expect(cache.get('h3', 1)?.id).toBe('key_3'); // drifted by 8 > 2: moved
    cache.set('h11', record('key_11'), 0, cache.currentGeneration());
    expect(cache.get('h3', 1)?.id).toBe('key_3');
    expect(cache.get('h4', 1)).toBeUndefined(); // h4 went instead
  });

  it('forgets entries past their TTL and counts hits and misses', () => {
    const cache = new KeyCache({ maxEntries: 10, ttlMs: 1_000 });
    cache.set('a', record('key_a'), 0, cache.currentGeneration());
    cache.set('none', null, 0, cache.currentGeneration());
    expect(cache.get('a', 999)?.id).toBe('key_a');
    expect(cache.get('none', 999)).toBeNull();
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect([cache.hits, cache.misses]).toEqual([2, 1]);
  });
});
