// Write-behind of key usage: lastUsedAt and, for keys without a quota, the usage count. Verify
// only touches a map; a timer flushes it in one transaction (Storage.writeKeyUsage: on SQLite in
// the writer thread). The buffer is bounded by distinct keys: past the bound new keys' usage is
// dropped and counted, never blocking verification.
import type { Storage } from '../storage/storage.js';

interface Pending {
  count: number;
  lastUsedAt: number;
}

export interface UsageWriterOptions {
  flushIntervalMs: number;
  maxPendingKeys?: number;
  onError?: (error: unknown) => void;
}

export class UsageWriter {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private readonly maxPendingKeys: number;
  dropped = 0;
  flushes = 0;

  constructor(
    private readonly storage: Pick<Storage, 'writeKeyUsage'>,
    private readonly options: UsageWriterOptions,
  ) {
    this.maxPendingKeys = options.maxPendingKeys ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** `amount` is 0 for quota keys, whose count the atomic quota update already wrote. */
  record(keyId: string, now: number, amount: number): void {
    const entry = this.pending.get(keyId);
    if (entry !== undefined) {
      entry.count += amount;
      if (now > entry.lastUsedAt) entry.lastUsedAt = now;
      return;
    }
    if (this.pending.size >= this.maxPendingKeys) {
      this.dropped++;
      return;
    }
    this.pending.set(keyId, { count: amount, lastUsedAt: now });
  }

  get depth(): number {
    return this.pending.size;
  }

  /** Writes everything buffered so far. Concurrent calls share one flush, then run again if needed. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(batch: Map<string, Pending>): Promise<void> {
    try {
      await this.storage.writeKeyUsage([...batch].map(([keyId, { count, lastUsedAt }]) => ({ keyId, count, lastUsedAt })));
      this.flushes++;
    } catch (error) {
      // Put the batch back so the next flush retries it (merged with anything newer).
      for (const [keyId, entry] of batch) {
        const newer = this.pending.get(keyId);
        if (newer === undefined) this.pending.set(keyId, entry);
        else {
          newer.count += entry.count;
          newer.lastUsedAt = Math.max(newer.lastUsedAt, entry.lastUsedAt);
        }
      }
      this.options.onError?.(error);
    }
  }
}
