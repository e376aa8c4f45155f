// Usage logs (SmartExtract "extraction logs"): every verification becomes a `key.verified` event,
// written behind in batches so the verify reply never waits. The buffer is bounded: when full,
// entries are dropped and counted (exposed in /metrics), never blocking or crashing verify.
// Each flush also adds the batch to the hourly per-key rollups behind GET /v1/keys/{id}/usage.
import type { NewEvent } from '../storage/database.js';
import type { Storage } from '../storage/storage.js';
import { newId } from '../domain/ids.js';

export interface UsageLogEntry {
  time: number;
  workspaceId: string | null;
  projectId: string | null;
  keyId: string | null;
  accountId: string | null;
  outcome: string;
  scopes: readonly string[] | undefined;
  host: string | undefined;
  ip: string | null;
  cost: number;
  latencyUs: number;
}

export interface UsageLogWriterOptions {
  enabled: boolean;
  flushIntervalMs: number;
  maxBuffered: number;
  onError?: (error: unknown) => void;
  /** Called after a batch is committed (wakes the push dispatcher). */
  onFlushed?: () => void;
}

const HOUR = 3_600_000;
/** Entries per transaction: short enough that an embedded (synchronous) write never holds the
 * event loop for long. */
const CHUNK = 500;
/** A batch this large is flushed at once instead of waiting for the timer. */
const EAGER_FLUSH = 2_000;

export class UsageLogWriter {
  private buffer: UsageLogEntry[] = [];
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
    return this.buffer.length;
  }

  record(entry: UsageLogEntry): void {
    if (!this.options.enabled) return;
    if (this.buffer.length >= this.options.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= EAGER_FLUSH && !this.eager) {
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
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.flush();
  }

  /** Commits the batch in chunks, each its own transaction, yielding to the event loop between
   * them: with SQLite every statement runs on the main thread, and one big transaction would hold
   * verifications back for its whole duration. */
  private async write(batch: UsageLogEntry[]): Promise<void> {
    for (let i = 0; i < batch.length; i += CHUNK) {
      const chunk = batch.slice(i, i + CHUNK);
      try {
        await this.writeChunk(chunk);
        this.written += chunk.length;
      } catch (error) {
        // Keep what still fits for the next flush; count the rest as dropped.
        const failed = batch.slice(i);
        const room = Math.max(0, this.options.maxBuffered - this.buffer.length);
        this.buffer = failed.slice(0, room).concat(this.buffer);
        this.dropped += Math.max(0, failed.length - room);
        this.options.onError?.(error);
        return;
      }
      if (i + CHUNK < batch.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.options.onFlushed?.();
  }

  private async writeChunk(chunk: UsageLogEntry[]): Promise<void> {
    const rows: NewEvent[] = chunk.map((entry) => ({
      id: newId('evt', entry.time),
      time: entry.time,
      type: 'key.verified',
      workspace_id: entry.workspaceId,
      project_id: entry.projectId,
      key_id: entry.keyId,
      account_id: entry.accountId,
      outcome: entry.outcome,
      scopes: entry.scopes === undefined || entry.scopes.length === 0 ? null : JSON.stringify(entry.scopes),
      host: entry.host ?? null,
      ip: entry.ip,
      cost: entry.cost,
      latency_us: entry.latencyUs,
      data: null,
    }));
    const rollups = new Map<string, { key_id: string; project_id: string; bucket: number; outcome: string; count: number }>();
    for (const entry of chunk) {
      if (entry.keyId === null || entry.projectId === null) continue;
      const bucket = entry.time - (entry.time % HOUR);
      const id = `${entry.keyId} ${bucket} ${entry.outcome}`;
      const rollup = rollups.get(id);
      if (rollup === undefined) rollups.set(id, { key_id: entry.keyId, project_id: entry.projectId, bucket, outcome: entry.outcome, count: 1 });
      else rollup.count++;
    }
    await this.storage.appendUsage(rows, [...rollups.values()]);
  }
}
