// The SQLite writer thread for verify's write-behind (usage-log events and rollups, keys'
// lastUsedAt and counts) and for its quota charges, seen from the main thread. Inserting a verification's event and its
// index entries costs several times what deciding it does, and better-sqlite3 runs every
// statement synchronously, so on the main thread these writes would cost verify throughput.
// One thread per process writes for every SQLite store the process has open, each through a
// connection of its own (WAL: the main thread's reads never wait for it; writers take turns
// through SQLite's busy timeout), one transaction per request. It starts with the first request
// and stops once no store has used it for a while.
import { Worker } from 'node:worker_threads';
import type { KeyUsageRow, UsageBatchMessage } from './usage-batch.js';

/** One quota charge (counters' consumeQuota as SQL, see sql-quota.ts): add `cost` to the key's
 * usage unless that passes its limit; usage counts from zero in a refill period that began after
 * the stored one (`periodStart`, null for a quota without refill). */
export interface QuotaCharge {
  keyId: string;
  cost: number;
  periodStart: number | null;
}

/** Whether the charge was made, and the key's usage in the current period after it (or as it
 * stands when refused; 0 for a key that is gone). */
export interface QuotaOutcome {
  allowed: boolean;
  used: number;
}

/** What the writer thread does for a store file: append usage-log entries, write keys'
 * lastUsedAt and counts, charge quotas (one transaction, in order), or close its connection. */
export type UsageThreadWork =
  | { op: 'events'; batch: UsageBatchMessage }
  | { op: 'keyUsage'; rows: readonly KeyUsageRow[] }
  | { op: 'quota'; charges: readonly QuotaCharge[] }
  | { op: 'close' };

/** From the main thread to the writer thread. */
export type UsageThreadRequest = UsageThreadWork & { id: number; file: string };

/** The writer thread's answer: `error` when the request failed; `outcomes` for quota charges. */
export interface UsageThreadReply {
  id: number;
  error?: string;
  outcomes?: QuotaOutcome[];
}

// Built (dist/*.js), the thread's module is JavaScript; run from source (tests, tsx) it is
// TypeScript and is loaded through tsx, whose loader a new thread does not inherit.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(FROM_SOURCE ? './usage-thread-main.ts' : './usage-thread-main.js', import.meta.url);
/** How long the thread outlives the last store that used it (a store reopened soon reuses it). */
const IDLE_MS = 5_000;

type Waiting = { resolve: (outcomes: QuotaOutcome[] | undefined) => void; reject: (error: Error) => void };

class WriterThread {
  private readonly worker = spawn(ENTRY);
  private readonly pending = new Map<number, Waiting>();
  private nextId = 1;
  dead = false;

  constructor(onExit: () => void) {
    // Never what keeps a process alive: stores drain it on close, and an unclosed store has
    // nothing to wait for.
    this.worker.unref();
    this.worker.on('message', (reply: UsageThreadReply) => this.settle(reply.id, reply.error === undefined ? undefined : new Error(reply.error), reply.outcomes));
    const fail = (error: Error) => {
      // What the thread had not answered fails (the writers keep that work for their next
      // flush); the next request starts a new thread.
      this.dead = true;
      onExit();
      for (const id of [...this.pending.keys()]) this.settle(id, error);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`SQLite writer thread exited with code ${code}`)));
  }

  request(file: string, work: UsageThreadWork): Promise<QuotaOutcome[] | undefined> {
    // A message to a thread that has exited would never be answered.
    if (this.dead) return Promise.reject(new Error('the SQLite writer thread has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, file, ...work } satisfies UsageThreadRequest);
    });
  }

  stop(): void {
    void this.worker.terminate();
  }

  private settle(id: number, error?: Error, outcomes?: QuotaOutcome[]): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    if (error === undefined) waiting.resolve(outcomes);
    else waiting.reject(error);
  }
}

let thread: WriterThread | null = null;
/** Open stores per file; the thread's connection to a file closes when the last one does. */
const users = new Map<string, number>();
let idleTimer: NodeJS.Timeout | null = null;

function writerThread(): WriterThread {
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = null;
  if (thread === null || thread.dead) {
    const started: WriterThread = new WriterThread(() => {
      if (thread === started) thread = null;
    });
    thread = started;
  }
  return thread;
}

/** One store's handle on the writer thread. */
export class UsageThread {
  private closed = false;

  constructor(private readonly file: string) {
    users.set(file, (users.get(file) ?? 0) + 1);
  }

  async run(work: Exclude<UsageThreadWork, { op: 'close' | 'quota' }>): Promise<void> {
    if (this.closed) throw new Error('the store is closed');
    await writerThread().request(this.file, work);
  }

  /** The charges made in one transaction, in order; an outcome per charge. */
  async chargeQuotas(charges: readonly QuotaCharge[]): Promise<QuotaOutcome[]> {
    if (this.closed) throw new Error('the store is closed');
    const outcomes = await writerThread().request(this.file, { op: 'quota', charges });
    if (outcomes?.length !== charges.length) throw new Error(`the SQLite writer thread answered ${outcomes?.length ?? 'no'} outcomes for ${charges.length} quota charges`);
    return outcomes;
  }

  /** Waits for this store's batches already sent (the thread answers in order), then lets go. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const left = users.get(this.file)! - 1;
    if (left > 0) return void users.set(this.file, left);
    users.delete(this.file);
    if (thread === null) return;
    await thread.request(this.file, { op: 'close' }).catch(() => undefined);
    if (users.size === 0 && thread !== null) {
      const idle = thread;
      idleTimer = setTimeout(() => {
        if (thread === idle) thread = null;
        idle.stop();
      }, IDLE_MS);
      idleTimer.unref();
    }
  }
}

function spawn(entry: URL): Worker {
  if (!FROM_SOURCE) return new Worker(entry);
  // On Node 20 `--import tsx` in a worker's execArgv comes too late for its entry module, so the
  // thread starts as plain JavaScript and imports the entry through tsx's API.
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(code, { eval: true });
}
