// Usage logs (SmartExtract "extraction logs"): every verification of a stored key becomes a
// `key.verified` event in the key's project (tokens matching no key are only counted in /metrics),
// written behind in batches so the verify reply never waits. The buffer is bounded: when full,
// entries are dropped and counted (exposed in /metrics), never blocking or crashing verify.
// Each flush also adds the batch to the hourly per-key rollups behind GET /v1/keys/{id}/usage.
// Entries are kept in columns (storage/usage-batch.ts); the storage writes each batch as one
// transaction, with SQLite in a thread of its own (storage/usage-thread.ts).
import type { Storage } from '../storage/storage.js';
import { UsageBatch, type UsageEntry } from '../storage/usage-batch.js';

export type UsageLogEntry = UsageEntry;

export interface UsageLogWriterOptions {
  enabled: boolean;
  flushIntervalMs: number;
  maxBuffered: number;
  onError?: (error: unknown) => void;
  /** Called after a batch is committed (wakes the push dispatcher). */
  onFlushed?: () => void;
}

/** Entries per batch, so per transaction. SQLite writes each page a transaction touched once per
 * commit, and the per-key index spreads a batch over many pages, so bigger transactions cost
 * less per entry; a batch still holds the write lock (which main-thread writes such as quota
 * counters wait for) only some milliseconds. */
const BATCH = 2_000;
/** Written batches kept for reuse. */
const SPARE = 4;
/** Once a batch is full it is flushed at once instead of waiting for the timer. */
const EAGER_FLUSH = BATCH;

export class UsageLogWriter {
  /** Full batches waiting, oldest first, then the one being filled. */
  private batches: UsageBatch[] = [];
  private buffered = 0;
  /** Written batches kept for reuse: a batch's typed arrays are 80 KB, which V8 counts as
   * external memory, and allocating them hundreds of times a second drives collections. */
  private readonly spare: UsageBatch[] = [];
  private readonly timer: NodeJS.Timeout | null;
  private flushing: Promise<void> | null = null;
  private eager = false;
  dropped = 0;
  written = 0;

  constructor(
    private readonly storage: Pick<Storage, 'appendUsage'>,
    private readonly options: UsageLogWriterOptions,
  ) {
    this.timer = options.enabled ? setInterval(() => void this.flush(), options.flushIntervalMs) : null;
    this.timer?.unref();
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  get depth(): number {
    return this.buffered;
  }

  record(entry: UsageLogEntry): void {
    if (!this.options.enabled) return;
    if (this.buffered >= this.options.maxBuffered) {
      this.dropped++;
      return;
    }
    let batch = this.batches[this.batches.length - 1];
    if (batch === undefined || batch.full) this.batches.push((batch = this.spare.pop() ?? new UsageBatch(BATCH)));
    batch.add(entry);
    this.buffered++;
    if (this.buffered >= EAGER_FLUSH && !this.eager) {
      this.eager = true;
      setImmediate(() => {
        this.eager = false;
        void this.flush();
      });
    }
  }

  /** Writes everything buffered so far; concurrent callers wait for the same work. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.buffered === 0) return;
    const batches = this.batches;
    this.batches = [];
    this.buffered = 0;
    this.flushing = this.write(batches).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.flush();
  }

  /** Commits the batches one transaction each, yielding to the event loop between them (with
   * PostgreSQL the rows are built on the main thread). */
  private async write(batches: UsageBatch[]): Promise<void> {
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const length = batch.length;
      try {
        await this.storage.appendUsage(batch);
        this.written += length;
        if (this.spare.length < SPARE) {
          batch.clear();
          this.spare.push(batch);
        }
      } catch (error) {
        this.requeue(batches.slice(i));
        this.options.onError?.(error);
        return;
      }
      if (i + 1 < batches.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.options.onFlushed?.();
  }

  /** Puts failed batches back in front of newer ones for the next flush, as far as the bound
   * allows; the rest are dropped and counted. */
  private requeue(failed: UsageBatch[]): void {
    const kept: UsageBatch[] = [];
    for (const batch of failed) {
      if (this.buffered + batch.length <= this.options.maxBuffered) {
        kept.push(batch);
        this.buffered += batch.length;
      } else this.dropped += batch.length;
    }
    this.batches = kept.concat(this.batches);
  }
}
