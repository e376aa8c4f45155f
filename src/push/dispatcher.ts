// Delivers push streams. Each stream is a cursor over the project's events (a (tx, seq) position,
// see stream-position.ts), so the queue is the event table itself: persisted, in order, and resumed after a restart from the
// last acknowledged batch (at-least-once; receivers de-duplicate by event id). A stream is
// leased before sending, so with several nodes one node at a time sends it, and a dead node's
// lease simply runs out.
import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, DbOrTrx, EventRow, PushStreamRow } from '../storage/database.js';
import { permissionsOf, type Role } from '../domain/permissions.js';
import type { Dialect } from '../storage/storage.js';
import { between, comparePositions, earliest, indexColumn, isBetween, position, readable, type Position } from '../storage/stream-position.js';
import { rowEntries, type EventEntry } from '../storage/usage-chunk.js';
import { open } from '../secrets/sealed-box.js';
import { toUsageLog } from '../logs/service.js';
import { signatureHeaders } from './signing.js';
import { sendWebhook, type SendOutcome } from './sender.js';

export interface DispatcherOptions {
  db: Db;
  dialect: Dialect;
  masterKey: Buffer;
  clock: () => number;
  allowPrivate: boolean;
  tickMs?: number;
  batchSize?: number;
  maxBatchBytes?: number;
  leaseMs?: number;
  timeoutMs?: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs, with ±50% jitter. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Streams sent at once per tick. */
  concurrency?: number;
  onError?: (error: unknown) => void;
}

export interface WebhookEvent {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export function toWebhookEvent(row: EventRow): WebhookEvent {
  const timestamp = new Date(Number(row.time)).toISOString();
  if (row.type === 'key.verified') {
    const { id: _id, time: _time, ...log } = toUsageLog(row);
    return { id: row.id, type: row.type, timestamp, data: { ...log, projectId: row.project_id } };
  }
  return { id: row.id, type: row.type, timestamp, data: row.data === null ? {} : (JSON.parse(row.data) as Record<string, unknown>) };
}

/**
 * Whose events a key's push may carry: all of the project's when the key's account may manage
 * every key (keys:manage_all, judged by its role now), else only that account's own keys' events,
 * exactly what the account could read through the API. Undefined when the key no longer exists.
 */
export async function visibleAccount(db: DbOrTrx, keyId: string): Promise<string | null | undefined> {
  const owner = await db
    .selectFrom('api_keys as k')
    .innerJoin('accounts as a', 'a.id', 'k.account_id')
    .select(['a.id', 'a.role'])
    .where('k.id', '=', keyId)
    .executeTakeFirst();
  if (owner === undefined) return undefined;
  return permissionsOf(owner.role as Role).has('keys:manage_all') ? null : owner.id;
}

export class PushDispatcher {
  readonly nodeId = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private rerun = false;
  deliveredEvents = 0;
  failedDeliveries = 0;
  private readonly o: Required<Omit<DispatcherOptions, 'onError'>> & Pick<DispatcherOptions, 'onError'>;

  constructor(options: DispatcherOptions) {
    this.o = {
      tickMs: 250,
      batchSize: 100,
      maxBatchBytes: 256 * 1024,
      leaseMs: 30_000,
      timeoutMs: 10_000,
      retryBaseMs: 1_000,
      maxRetryDelayMs: 3_600_000,
      concurrency: 8,
      ...options,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Run a tick soon (new events were written, or a stream started). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== null) this.rerun = true;
    else this.schedule(0);
  }

  /** One pass over the due streams; resolves when their sends are done. Returns streams handled. */
  async runOnce(): Promise<number> {
    const now = this.o.clock();
    const due = await this.o.db
      .selectFrom('push_streams')
      .selectAll()
      .where('state', 'in', ['active', 'running'])
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(this.o.concurrency * 4)
      .execute();
    let handled = 0;
    for (let i = 0; i < due.length; i += this.o.concurrency) {
      const results = await Promise.all(due.slice(i, i + this.o.concurrency).map((stream) => this.process(stream)));
      handled += results.filter(Boolean).length;
    }
    return handled;
  }

  /** Sum over active streams of events not yet delivered (for /metrics). */
  async queueDepth(): Promise<number> {
    const row = await this.o.db
      .selectFrom('push_streams as s')
      .select(
        // Entries of the rows after the cursor's row, plus those left in the cursor's row when
        // the cursor is within it (a usage-log chunk's, see usage-chunk.ts).
        sql<number>`coalesce(sum(
          (select coalesce(sum(coalesce(e.entries, 1)), 0) from events e where e.project_id = s.project_id and (e.tx, e.seq) > (s.cursor_tx, s.cursor_seq) and (s.until_seq is null or (e.tx, e.seq) <= (s.until_tx, s.until_seq)))
          + coalesce((select coalesce(e.entries, 1) - s.cursor_index - 1 from events e where s.cursor_index is not null and e.tx = s.cursor_tx and e.seq = s.cursor_seq), 0)
        ), 0)`.as('depth'),
      )
      .where('s.state', 'in', ['active', 'running'])
      .executeTakeFirst();
    return Number(row?.depth ?? 0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce()
        .then((handled) => {
          this.running = null;
          const again = this.rerun || handled > 0;
          this.rerun = false;
          this.schedule(again ? 0 : this.o.tickMs);
        })
        .catch((error: unknown) => {
          this.running = null;
          this.o.onError?.(error);
          this.schedule(this.o.tickMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** The next events of a stream, in order, limited to what the key's account may see. */
  private async eventsAfter(stream: PushStreamRow, limit: number): Promise<EventEntry[]> {
    const onlyAccount = await visibleAccount(this.o.db, stream.key_id);
    if (onlyAccount === undefined) return []; // the key is gone
    // A retry resends exactly the batch that failed (same events, same webhook-id).
    const until = earliest(
      await readable(this.o.db, this.o.dialect),
      position(stream.until_tx, stream.until_seq),
      position(stream.batch_end_tx, stream.batch_end_seq, stream.batch_end_index),
    );
    const after = position(stream.cursor_tx, stream.cursor_seq, stream.cursor_index)!;
    // A row holds one entry or more, and only the first row (the cursor's own, when the cursor is
    // within it) can hold no entry still to send: one row more than entries wanted is enough.
    let query = this.o.db
      .selectFrom('events')
      .selectAll()
      .where('project_id', '=', stream.project_id)
      .where((eb) => between(eb, after, until))
      .orderBy('tx')
      .orderBy('seq')
      .limit(limit + 1);
    if (onlyAccount !== null) query = query.where('account_id', '=', onlyAccount);
    const entries: EventEntry[] = [];
    for (const row of await query.execute()) {
      const inRow = rowEntries(row);
      for (let i = 0; i < inRow.count; i++) {
        const entry = inRow.at(i);
        if (!isBetween(entry, after, until)) continue;
        entries.push(entry);
        if (entries.length === limit) return entries;
      }
    }
    return entries;
  }

  /** Sends the stream's next batch. False when there was nothing to do or another node holds it. */
  private async process(due: PushStreamRow): Promise<boolean> {
    const { db } = this.o;
    const now = this.o.clock();
    // Peek before claiming, so idle streams cost one read and no write per tick.
    const pending = (await this.eventsAfter(due, 1)).length > 0;
    if (!pending && due.kind !== 'history') return false;
    const claimed = await db
      .updateTable('push_streams')
      .set({ lease_owner: this.nodeId, lease_until: now + this.o.leaseMs })
      .where('id', '=', due.id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
    try {
      // Another node may have moved the stream between our read and our claim.
      const stream = await db.selectFrom('push_streams').selectAll().where('id', '=', due.id).executeTakeFirst();
      if (stream === undefined) return false;
      const rows = await this.eventsAfter(stream, this.o.batchSize);
      if (rows.length === 0) {
        await this.release(stream.id, stream.kind === 'history' ? { state: 'completed' } : {});
        return false;
      }
      const subscription = await db.selectFrom('push_subscriptions').selectAll().where('key_id', '=', stream.key_id).executeTakeFirst();
      if (subscription === undefined) return false; // removed meanwhile; the stream row went with it
      const secret = open(this.o.masterKey, subscription.secret_sealed);
      if (secret === null) {
        await this.release(stream.id, { last_error: 'The signing secret cannot be decrypted with the current master key', next_attempt_at: now + this.o.maxRetryDelayMs });
        return false;
      }

      const { events, last } = this.fitBatch(rows);
      const body = JSON.stringify({ type: 'events.batch', timestamp: new Date(now).toISOString(), data: { keyId: stream.key_id, events } });
      const first = rows[0]!;
      const messageId = `msg_${createHash('sha256').update(`${stream.id}:${first.seq}.${first.index}:${last.seq}.${last.index}`).digest('hex').slice(0, 32)}`;
      const headers = signatureHeaders(secret, messageId, Math.floor(now / 1000), body);
      const outcome = await sendWebhook(subscription.webhook_url, headers, body, { allowPrivate: this.o.allowPrivate, timeoutMs: this.o.timeoutMs });
      await this.settle(stream, outcome, events.length, { tx: Number(last.tx), seq: Number(last.seq), index: last.index });
      return true;
    } catch (error) {
      await this.release(due.id, {}).catch(() => undefined);
      throw error;
    }
  }

  /** As many events as fit the byte bound (always at least one), in order. */
  private fitBatch(rows: EventEntry[]): { events: WebhookEvent[]; last: EventEntry } {
    const events: WebhookEvent[] = [];
    let bytes = 0;
    let last = rows[0]!;
    for (const row of rows) {
      const event = toWebhookEvent(row);
      const size = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (events.length > 0 && bytes + size > this.o.maxBatchBytes) break;
      events.push(event);
      bytes += size;
      last = row;
    }
    return { events, last };
  }

  private async settle(stream: PushStreamRow, outcome: SendOutcome, count: number, last: Position): Promise<void> {
    const now = this.o.clock();
    if (outcome.kind === 'retry') {
      const attempts = stream.attempts + 1;
      const backoff = Math.min(this.o.maxRetryDelayMs, this.o.retryBaseMs * 2 ** (attempts - 1));
      const delay = Math.max(outcome.retryAfterMs ?? 0, Math.round(backoff * (0.5 + Math.random() / 2)));
      this.failedDeliveries++;
      await this.release(stream.id, { attempts, next_attempt_at: now + delay, last_error: outcome.reason, batch_end_tx: last.tx, batch_end_seq: last.seq, batch_end_index: indexColumn(last) });
      return;
    }
    const delivered = outcome.kind === 'delivered';
    if (delivered) this.deliveredEvents += count;
    else this.failedDeliveries++;
    const until = position(stream.until_tx, stream.until_seq);
    const done = stream.kind === 'history' && until !== null && comparePositions(last, until) >= 0;
    await this.release(stream.id, {
      cursor_tx: last.tx,
      cursor_seq: last.seq,
      cursor_index: indexColumn(last),
      batch_end_tx: null,
      batch_end_seq: null,
      batch_end_index: null,
      attempts: 0,
      next_attempt_at: now,
      ...(delivered
        ? { delivered: sql<number>`delivered + ${count}`, last_delivery_at: now, last_error: null }
        : { failures: sql<number>`failures + ${count}`, last_error: `gave up on ${count} events: ${outcome.reason}` }),
      ...(done && { state: 'completed' }),
    });
  }

  private async release(streamId: string, changes: Record<string, unknown>): Promise<void> {
    await this.o.db
      .updateTable('push_streams')
      .set({ ...changes, lease_owner: null, lease_until: null, updated_at: this.o.clock() })
      .where('id', '=', streamId)
      .where('lease_owner', '=', this.nodeId)
      .execute();
  }
}
