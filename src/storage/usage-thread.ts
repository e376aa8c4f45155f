// The SQLite writer thread for verify's write-behind (usage-log events and rollups, keys'
// lastUsedAt and counts) and for its quota charges, seen from the main thread. Inserting a verification's event and its
// index entries costs several times what deciding it does, and better-sqlite3 runs every
// statement synchronously, so on the main thread these writes would cost verify throughput.
// One thread per process writes for every SQLite store the process has open, each through a
// connection of its own (WAL: the main thread's reads never wait for it; writers take turns
// through SQLite's busy timeout), one transaction per request. It starts with the first request
// and stops once no store has used it for a while.
// A second thread of the same code reads for the admin API (key lists and searches, through
// Storage.readDb) on read-only connections. A search at 100,000 keys scans the project's names for
// ~30 ms; on the main thread every verification waited for it (one client searching in a loop
// took a node from ~30,000 to ~200 verifications a second), and on the writer thread quota
// charges would.
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
  | { op: 'read'; sql: string; parameters: readonly unknown[] }
  | { op: 'countNames'; projectId: string; query: string }
  | { op: 'close' };

/** From the main thread to the writer thread. */
export type UsageThreadRequest = UsageThreadWork & { id: number; file: string };

/** The thread's answer: `error` when the request failed; `outcomes` for quota charges, `rows`
 * for a read, `count` for a count of names. */
export interface UsageThreadReply {
  id: number;
  error?: string;
  outcomes?: QuotaOutcome[];
  rows?: unknown[];
  count?: number | null;
}

// Built (dist/*.js), the thread's module is JavaScript; run from source (tests, tsx) it is
// TypeScript and is loaded through tsx, whose loader a new thread does not inherit.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(FROM_SOURCE ? './usage-thread-main.ts' : './usage-thread-main.js', import.meta.url);
/** How long the thread outlives the last store that used it (a store reopened soon reuses it). */
const IDLE_MS = 5_000;

type Waiting = { resolve: (reply: UsageThreadReply) => void; reject: (error: Error) => void };

class WriterThread {
  private readonly worker = spawn(ENTRY);
  private readonly pending = new Map<number, Waiting>();
  private nextId = 1;
  dead = false;

  constructor(
    private readonly role: Role,
    onExit: () => void,
  ) {
    // Never what keeps a process alive: stores drain it on close, and an unclosed store has
    // nothing to wait for.
    this.worker.unref();
    this.worker.on('message', (reply: UsageThreadReply) => this.settle(reply));
    const fail = (error: Error) => {
      // What the thread had not answered fails (the writers keep that work for their next
      // flush); the next request starts a new thread.
      this.dead = true;
      onExit();
      for (const id of [...this.pending.keys()]) this.settle({ id }, error);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`SQLite ${role} thread exited with code ${code}`)));
  }

  request(file: string, work: UsageThreadWork): Promise<UsageThreadReply> {
    // A message to a thread that has exited would never be answered.
    if (this.dead) return Promise.reject(new Error(`the SQLite ${this.role} thread has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, file, ...work } satisfies UsageThreadRequest);
    });
  }

  stop(): void {
    void this.worker.terminate();
  }

  private settle(reply: UsageThreadReply, error: Error | undefined = reply.error === undefined ? undefined : new Error(reply.error)): void {
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    if (error === undefined) waiting.resolve(reply);
    else waiting.reject(error);
  }
}

/** Two threads of the same code: `write` for the write-behind and quota charges, `read` for
 * the admin API's long reads (key lists and searches), so neither waits for the other and the
 * main thread waits for neither. */
type Role = 'write' | 'read';
const threads: Record<Role, WriterThread | null> = { write: null, read: null };
/** Open stores per file; the threads' connections to a file close when the last one does. */
const users = new Map<string, number>();
let idleTimer: NodeJS.Timeout | null = null;

function sharedThread(role: Role): WriterThread {
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = null;
  let thread = threads[role];
  if (thread === null || thread.dead) {
    const started: WriterThread = new WriterThread(role, () => {
      if (threads[role] === started) threads[role] = null;
    });
    threads[role] = thread = started;
  }
  return thread;
}

/** One store's handle on the writer thread. */
export class UsageThread {
  private closed = false;

  constructor(private readonly file: string) {
    users.set(file, (users.get(file) ?? 0) + 1);
  }

  async run(work: Exclude<UsageThreadWork, { op: 'close' | 'quota' | 'read' | 'countNames' }>): Promise<void> {
    if (this.closed) throw new Error('the store is closed');
    await sharedThread('write').request(this.file, work);
  }

  /** The rows of a query that only reads, from the read thread's own connection to the file
   * (WAL: it sees every commit made before it starts, and waits for no writer). */
  async read(sql: string, parameters: readonly unknown[]): Promise<unknown[]> {
    if (this.closed) throw new Error('the store is closed');
    const { rows } = await sharedThread('read').request(this.file, { op: 'read', sql, parameters });
    if (rows === undefined) throw new Error('the SQLite read thread answered no rows');
    return rows;
  }

  /** How many of the project's keys the fuzzy search `query` finds, counted by the read thread
   * in its copy of the project's names (project-names.ts); null when it cannot tell (then count
   * in SQL). */
  async countNames(projectId: string, query: string): Promise<number | null> {
    if (this.closed) throw new Error('the store is closed');
    const { count } = await sharedThread('read').request(this.file, { op: 'countNames', projectId, query });
    if (count === undefined) throw new Error('the SQLite read thread answered no count');
    return count;
  }

  /** The charges made in one transaction, in order; an outcome per charge. */
  async chargeQuotas(charges: readonly QuotaCharge[]): Promise<QuotaOutcome[]> {
    if (this.closed) throw new Error('the store is closed');
    const { outcomes } = await sharedThread('write').request(this.file, { op: 'quota', charges });
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
    for (const role of ['write', 'read'] as const) await threads[role]?.request(this.file, { op: 'close' }).catch(() => undefined);
    if (users.size === 0) {
      const idle = { ...threads };
      if (idleTimer !== null) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        for (const role of ['write', 'read'] as const) {
          if (threads[role] === idle[role]) threads[role] = null;
          idle[role]?.stop();
        }
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
