// In-process cache of key records by secret hash: bounded LRU (Map insertion order), positive and
// negative entries, a TTL as the backstop, and exact invalidation on every change to a key, its
// account or its project. A load that raced with an invalidation is not cached (generation check).
import type { KeyRecord } from './record.js';

/** What the admin services call after a change; in a cluster it also tells the other nodes (#5). */
export interface KeyInvalidation {
  invalidateKey(keyId: string): void;
  invalidateAccount(accountId: string): void;
  invalidateProject(projectId: string): void;
}

interface Entry {
  record: KeyRecord | null; // null = known not to exist
  expiresAt: number;
  /** Value of `inserts` when the entry last moved to the young end of the LRU order. */
  movedAt: number;
}

export interface KeyCacheOptions {
  maxEntries: number;
  ttlMs: number;
  /** Negative entries live shorter and in their own LRU, so floods of unknown keys cannot evict real ones. */
  negativeMaxEntries?: number;
  negativeTtlMs?: number;
}

export class KeyCache implements KeyInvalidation {
  /** Current TTL of new positive entries (shortened while invalidations may be missed). */
  private ttlMs: number;
  private readonly positive = new Map<string, Entry>();
  private readonly negative = new Map<string, Entry>();
  private readonly hashesByKey = new Map<string, Set<string>>();
  private generation = 0;
  /** Positive insertions and moves so far: how far an entry has drifted toward eviction. */
  private inserts = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly options: KeyCacheOptions) {
    this.ttlMs = options.ttlMs;
  }

  /** While change notices may be lost (the invalidation channel is down), cache for `ttlMs` at most. */
  useShortTtl(ttlMs: number | null): void {
    this.ttlMs = ttlMs === null ? this.options.ttlMs : Math.min(ttlMs, this.options.ttlMs);
    this.clear();
  }

  /** undefined = not cached; null = cached as unknown. */
  get(hash: string, now: number): KeyRecord | null | undefined {
    const positive = this.positive.get(hash);
    if (positive !== undefined) {
      if (positive.expiresAt > now) {
        // Mark it recently used by moving it to the young end (Map keeps insertion order), but
        // only once it has drifted a quarter of the way toward eviction: a hot key is not moved on
        // every hit (a delete and an insert each time), and still never reaches the old end.
        if (this.inserts - positive.movedAt > this.options.maxEntries >>> 2) {
          this.positive.delete(hash);
          positive.movedAt = ++this.inserts;
          this.positive.set(hash, positive);
        }
        this.hits++;
        return positive.record;
      }
      this.deletePositive(hash, positive);
    }
    const negative = this.negative.get(hash);
    if (negative !== undefined) {
      if (negative.expiresAt > now) {
        this.hits++;
        return null;
      }
      this.negative.delete(hash);
    }
    this.misses++;
    return undefined;
  }

  /** Token to pass back to `set`, taken before a load starts. */
  currentGeneration(): number {
    return this.generation;
  }

  set(hash: string, record: KeyRecord | null, now: number, loadedAtGeneration: number): void {
    if (loadedAtGeneration !== this.generation) return; // something changed while we were loading
    if (this.ttlMs === 0) return;
    if (record === null) {
      const max = this.options.negativeMaxEntries ?? 10_000;
      if (this.negative.size >= max) this.negative.delete(this.negative.keys().next().value!);
      this.negative.set(hash, { record: null, expiresAt: now + (this.options.negativeTtlMs ?? 10_000), movedAt: 0 });
      return;
    }
    const existing = this.positive.get(hash);
    if (existing !== undefined) this.deletePositive(hash, existing);
    if (this.positive.size >= this.options.maxEntries) {
      const oldest = this.positive.keys().next().value!;
      this.deletePositive(oldest, this.positive.get(oldest)!);
    }
    this.positive.set(hash, { record, expiresAt: now + this.ttlMs, movedAt: ++this.inserts });
    let hashes = this.hashesByKey.get(record.id);
    if (hashes === undefined) this.hashesByKey.set(record.id, (hashes = new Set()));
    hashes.add(hash);
  }

  invalidateKey(keyId: string): void {
    this.generation++;
    const hashes = this.hashesByKey.get(keyId);
    if (hashes === undefined) return;
    for (const hash of hashes) this.positive.delete(hash);
    this.hashesByKey.delete(keyId);
  }

  invalidateAccount(accountId: string): void {
    this.invalidateWhere((record) => record.accountId === accountId);
  }

  invalidateProject(projectId: string): void {
    this.invalidateWhere((record) => record.projectId === projectId);
  }

  /** Forget a hash known to be new (a just-created secret), in case it was cached as unknown. */
  forgetHash(hash: string): void {
    this.generation++;
    this.negative.delete(hash);
  }

  clear(): void {
    this.generation++;
    this.positive.clear();
    this.negative.clear();
    this.hashesByKey.clear();
  }

  get size(): number {
    return this.positive.size;
  }

  private invalidateWhere(predicate: (record: KeyRecord) => boolean): void {
    this.generation++;
    for (const [hash, entry] of this.positive) {
      if (entry.record !== null && predicate(entry.record)) this.deletePositive(hash, entry);
    }
  }

  private deletePositive(hash: string, entry: Entry): void {
    this.positive.delete(hash);
    if (entry.record === null) return;
    const hashes = this.hashesByKey.get(entry.record.id);
    if (hashes === undefined) return;
    hashes.delete(hash);
    if (hashes.size === 0) this.hashesByKey.delete(entry.record.id);
  }
}
