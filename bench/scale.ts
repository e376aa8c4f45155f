// How Keyward copes with a big store: 1,000, 100,000 and 1,000,000 keys (quick: 2,000 only),
// seeded in bulk (bench/seed.ts). Per size: start-up time, and verify throughput on one cached key
// and on many keys that all miss the cache (so every verify reads SQLite); both should stay flat;
// list and fuzzy-search latency (200 requests each at 100,000 keys, quick: 3 at 2,000; a few at
// the other sizes). At 100,000 keys (quick: 2,000) also the heap per cached key.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CONNECTIONS, describeSpan, load, runAutocannon, type Measurement, type Span } from './load.js';
import { ROOT_KEY, startKeyward, type Server } from './servers.js';
import { seedStore } from './seed.js';
import type { CacheMemory } from './cache-memory.js';

/** Different keys the cache-missing load goes round: the same number at every size (the smallest
 * store's), so only the store's size differs. Each distinct key used also costs one lastUsedAt
 * UPDATE per write-behind flush, which would otherwise grow with the sample, not the store. */
const ROTATING_KEYS = 1_000;
/** Typos of name fragments (bench/seed-rows.ts): the first is narrowed in SQL by its pieces ("che",
 * "uot"); the second's pieces are too short, so every name is matched (on SQLite inside the query). */
const SEARCHES = ['checkuot', 'integraton'];

export interface StoreSize {
  keys: number;
  accounts: number;
  seedMs: number;
  databaseBytes: number;
  /** From spawning `keyward serve` until it printed "listening on". */
  startupMs: number;
  /** One key, again and again: answered from the cache. */
  warm: Measurement;
  /** `keys` different keys in turn, on a server whose cache holds one entry: every verify reads SQLite. */
  rotating: Measurement & { keys: number; cacheMissRate: number };
  /** req/s relative to the smallest store. */
  warmRatio: number;
  rotatingRatio: number;
}

export interface Latency {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ScaleResult {
  span: Span;
  sizes: StoreSize[];
  /** Per store size. */
  lists: {
    keys: number;
    page: Latency & { total: number };
    searches: (Latency & { query: string; matches: number })[];
  }[];
  memory: {
    storeKeys: number;
    /** The real KeyCache and KeyRecords in a process of their own, heap used after full GCs (bench/cache-memory.ts). */
    cachedKeys: number;
    heapBytesPerKey: number;
    /** In the server: the difference of two readings of its /metrics, no forced GC, so only a rough
     * figure (a collection during the warming can make the heap difference even negative). */
    server: { cachedKeys: number; heapUsedBytes: number; rssBytes: number };
  };
}

const verifyBody = (key: string) => JSON.stringify({ key, scopes: ['inference'] });

/** Like load() in load.ts, but each request carries the next of `bodies` (all connections share the turn). */
async function loadBodies(url: string, bodies: string[], span: Span): Promise<Measurement> {
  let next = 0;
  const measured = await runAutocannon({
    url: `${url}/v1/keys/verify`,
    method: 'POST',
    connections: CONNECTIONS,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          request.body = bodies[next++ % bodies.length]!;
          return request;
        },
      },
    ],
  }, span);
  return { ...measured, requestsPerSecond: Math.round(measured.requestsPerSecond) };
}

/** The server's Prometheus metrics, by name with labels (`keyward_verifications_total{code="VALID"}`). */
async function readMetrics(server: Server): Promise<Map<string, number>> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ROOT_KEY}` } });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

function metric(values: Map<string, number>, name: string): number {
  const value = values.get(name);
  if (value === undefined) throw new Error(`metric ${name} missing from /metrics`);
  return value;
}

/** A few seeded tokens must verify, or the throughput numbers would be about refusals. */
async function assertValid(server: Server, tokens: string[]): Promise<void> {
  for (const token of tokens) {
    const response = await fetch(`${server.url}/v1/keys/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: verifyBody(token) });
    const { code } = (await response.json()) as { code: string };
    if (code !== 'VALID') throw new Error(`seeded key ${token.slice(0, 12)}… verified as ${code}`);
  }
}

function shuffled<T>(values: T[]): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { requests: sorted.length, p50Ms: round1(rank(0.5)), p99Ms: round1(rank(0.99)), maxMs: round1(sorted.at(-1)!) };
}

/** `requests` sequential GETs (fewer if `budgetMs` runs out) as the root key; the last reply's `total`. */
async function timeGets(server: Server, path: string, requests: number, budgetMs: number): Promise<Latency & { total: number }> {
  const samples: number[] = [];
  let total = 0;
  const deadline = performance.now() + budgetMs;
  while (samples.length < requests && (samples.length === 0 || performance.now() < deadline)) {
    const started = performance.now();
    const response = await fetch(server.url + path, { headers: { authorization: `Bearer ${ROOT_KEY}` } });
    const body = (await response.json()) as { total: number };
    samples.push(performance.now() - started);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
    total = body.total;
  }
  return { ...latency(samples), total };
}

async function startTimed(env: Record<string, string>, dataDir: string): Promise<{ server: Server; startupMs: number }> {
  const started = performance.now();
  const server = await startKeyward(env, dataDir);
  return { server, startupMs: Math.round(performance.now() - started) };
}

/** `step`, begun now if `early` (the smoke run overlaps what a measurement does one at a time),
 * else when called; either way, calling gives its result. */
function begin<T>(early: boolean, step: () => Promise<T>): () => Promise<T> {
  if (!early) return step;
  const begun = step();
  begun.catch(() => undefined); // rejects where it is awaited (not unhandled when an earlier step failed)
  return () => begun;
}

export async function scale(quick: boolean): Promise<ScaleResult> {
  // Quick: one store (each size costs three processes: `keyward init` and two servers).
  const sizes = quick ? [2_000] : [1_000, 100_000, 1_000_000];
  const detailSize = quick ? 2_000 : 100_000;
  const span: Span = quick ? { requests: 100 } : { seconds: 3 };
  // Warm-ups, waits for the write-behind flushes and one thing at a time on the store only steady
  // the figures: the smoke run does without.
  const steady = !quick;
  const warmUpSeconds = steady ? 1 : 0;
  const memoryKeys = quick ? 500 : 50_000;
  // Sequential GETs per list query: the full count at the detail size, a glimpse at the others
  // (each series also ends when its time is up, after at least one request).
  const listRequests = (size: number) => (size === detailSize ? (quick ? 3 : 200) : 5);
  const listBudgetMs = (size: number) => (size === detailSize ? (quick ? 5_000 : 20_000) : 5_000);

  const results: StoreSize[] = [];
  const lists: ScaleResult['lists'] = [];
  let memory: ScaleResult['memory'] | undefined;
  for (const size of sizes) {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-scale-'));
    const servers: Promise<{ server: Server }>[] = []; // started on this store, all stopped at the end
    const startOnStore = (env: Record<string, string>) => {
      const started = startTimed(env, dataDir);
      servers.push(started);
      return started;
    };
    try {
      const sampleSize = Math.min(size, size === detailSize ? Math.max(ROTATING_KEYS, memoryKeys + 1) : ROTATING_KEYS);
      const store = await seedStore(dataDir, size, sampleSize);
      const tokens = shuffled(store.sampleTokens);
      const memoryTokens = tokens.slice(1, memoryKeys + 1); // tokens[0] is the warm key
      // One at a time, each alone with the store: the exact heap measurement, server A, and server B
      // once A has stopped. The smoke run begins all three at once.
      const heap = begin(!steady, async () => (size === detailSize ? cacheMemoryExact(dataDir, memoryTokens) : null));
      // Server A: a cache big enough for the memory measurement, with a TTL that outlasts it.
      const serverA = begin(!steady, () => startOnStore({ KEYWARD_KEY_CACHE_MAX_ENTRIES: String(2 * memoryKeys), KEYWARD_KEY_CACHE_TTL_MS: '600000' }));
      // Server B: a one-entry cache, so the rotating keys all go to SQLite.
      const serverB = begin(!steady, () => startOnStore({ KEYWARD_KEY_CACHE_MAX_ENTRIES: '1' }));
      const exact = await heap();

      const a = await serverA();
      let warm: Measurement;
      try {
        // First, so the garbage of the loads below is not in its baseline.
        if (exact !== null) {
          const server = await cacheMemoryInServer(a.server, tokens[0]!, memoryTokens, steady);
          memory = { storeKeys: size, cachedKeys: exact.cachedKeys, heapBytesPerKey: Math.round(exact.heapUsedBytes / exact.cachedKeys), server };
        }
        await assertValid(a.server, tokens.slice(0, 5));
        const body = { key: tokens[0]!, scopes: ['inference'] };
        if (warmUpSeconds > 0) await load(a.server.url, body, { seconds: warmUpSeconds }); // warm-up: JIT, cache
        const measured = await load(a.server.url, body, span);
        warm = { ...measured, requestsPerSecond: Math.round(measured.requestsPerSecond) };
        const base = `/v1/projects/${store.projectId}/keys?page=1&pageSize=100`;
        const page = await timeGets(a.server, base, listRequests(size), listBudgetMs(size));
        const searches = [];
        for (const query of SEARCHES) {
          const { total, ...stats } = await timeGets(a.server, `${base}&search=${encodeURIComponent(query)}`, listRequests(size), listBudgetMs(size));
          searches.push({ query, matches: total, ...stats });
        }
        lists.push({ keys: size, page, searches });
      } finally {
        await a.server.stop();
      }

      const b = await serverB();
      let rotating: StoreSize['rotating'];
      try {
        const bodies = tokens.slice(0, ROTATING_KEYS).map(verifyBody);
        if (warmUpSeconds > 0) await loadBodies(b.server.url, bodies, { seconds: warmUpSeconds }); // warm-up: JIT, SQLite page cache
        const before = await readMetrics(b.server);
        const measured = await loadBodies(b.server.url, bodies, span);
        const after = await readMetrics(b.server);
        // A labelled series appears with its first count: without a warm-up, not yet in `before`.
        const delta = (name: string) => metric(after, name) - (before.get(name) ?? 0);
        const misses = delta('keyward_key_cache_misses_total');
        rotating = { ...measured, keys: bodies.length, cacheMissRate: misses / Math.max(1, misses + delta('keyward_key_cache_hits_total')) };
        const valid = delta('keyward_verifications_total{code="VALID"}');
        if (valid < measured.requests * 0.99) throw new Error(`only ${valid} of ${measured.requests} rotating verifications were VALID`);
      } finally {
        await b.server.stop();
      }

      const first = results[0];
      results.push({
        keys: size,
        accounts: store.accounts,
        seedMs: store.seedMs,
        databaseBytes: store.databaseBytes,
        startupMs: a.startupMs,
        warm,
        rotating,
        warmRatio: first === undefined ? 1 : Number((warm.requestsPerSecond / first.warm.requestsPerSecond).toFixed(3)),
        rotatingRatio: first === undefined ? 1 : Number((rotating.requestsPerSecond / first.rotating.requestsPerSecond).toFixed(3)),
      });
    } finally {
      await Promise.allSettled(servers.map(async (started) => (await started).server.stop()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { span, sizes: results, lists, memory: memory! };
}

/** bench/cache-memory.ts on the seeded store (in the full run, no server is running on it meanwhile). */
async function cacheMemoryExact(dataDir: string, tokens: string[]): Promise<CacheMemory> {
  const tokensFile = join(dataDir, 'bench-tokens.json');
  writeFileSync(tokensFile, JSON.stringify(tokens));
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/cache-memory.ts', dataDir, tokensFile], {
    cwd: join(import.meta.dirname, '..'),
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as CacheMemory;
}

/** Heap and RSS growth of the server while `tokens` (not verified before) are each verified once
 * into its cache; `steady`: after a warm-up, and with the write-behind buffers flushed. */
async function cacheMemoryInServer(server: Server, warmupToken: string, tokens: string[], steady: boolean): Promise<ScaleResult['memory']['server']> {
  if (steady) {
    // The verify path's one-time costs (compiled code, prepared statements) go before the baseline.
    await loadBodies(server.url, [verifyBody(warmupToken)], { requests: 2_000 });
    // Readings after the write-behind flushes (lastUsedAt, usage logs: 1 s interval) have run, so
    // their buffers are not counted; garbage is not collected on purpose, hence "approximate".
    await sleep(2_000);
  }
  const before = await readMetrics(server);
  await loadBodies(server.url, tokens.map(verifyBody), { requests: tokens.length });
  if (steady) await sleep(2_500);
  const after = await readMetrics(server);
  const delta = (name: string) => metric(after, name) - metric(before, name);
  return {
    cachedKeys: delta('keyward_key_cache_entries'),
    heapUsedBytes: delta('keyward_nodejs_heap_size_used_bytes'),
    rssBytes: delta('keyward_process_resident_memory_bytes'),
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const megabytes = (bytes: number) => (bytes / 1_048_576).toFixed(1);
const signed = (text: string) => (text.startsWith('-') ? text : `+${text}`);

export function printScale(result: ScaleResult): void {
  const cell = (m: Measurement, ratio: number) =>
    `${String(m.requestsPerSecond).padStart(8)}  ${`${m.p50Ms}/${m.p99Ms}`.padEnd(9)} ${ratio.toFixed(3).padStart(6)}`;
  console.log(`\nscale: verify on stores of growing size, autocannon ${CONNECTIONS} connections, keep-alive, ${describeSpan(result.span)} each`);
  console.log('  (warm = one key from the cache; rotating = 1,000 keys in turn with a 1-entry cache, every verify reads SQLite; ratio = req/s ÷ smallest store)');
  console.log(
    `${'keys'.padStart(9)} ${'seed s'.padStart(6)} ${'db MB'.padStart(6)} ${'start ms'.padStart(8)}   ${'warm req/s'.padStart(8)}  ${'p50/p99'.padEnd(9)} ${'ratio'.padStart(6)}   ${'rot. req/s'.padStart(8)}  ${'p50/p99'.padEnd(9)} ${'ratio'.padStart(6)}  miss`,
  );
  for (const s of result.sizes) {
    const bad = s.warm.non2xx + s.warm.errors + s.rotating.non2xx + s.rotating.errors;
    console.log(
      `${count(s.keys).padStart(9)} ${(s.seedMs / 1000).toFixed(1).padStart(6)} ${megabytes(s.databaseBytes).padStart(6)} ${String(s.startupMs).padStart(8)}   ` +
        `${cell(s.warm, s.warmRatio)}   ${cell(s.rotating, s.rotatingRatio)}  ${`${Math.round(s.rotating.cacheMissRate * 100)}%`.padStart(4)}` +
        (bad > 0 ? '  ! non-2xx or errors' : ''),
    );
  }
  const { lists, memory } = result;
  console.log('list keys as the root key, page 1 of 100, sequential requests (p50/p99/max ms):');
  const stats = (l: Latency) => `${`${l.p50Ms}/${l.p99Ms}/${l.maxMs}`.padEnd(22)} ${String(l.requests).padStart(3)} requests`;
  for (const list of lists) {
    console.log(`  ${`${count(list.keys)} keys`.padStart(14)}  ${'no search'.padEnd(38)} ${stats(list.page)}`);
    for (const search of list.searches) {
      console.log(`  ${''.padStart(14)}  ${`search "${search.query}" (${count(search.matches)} matches)`.padEnd(38)} ${stats(search)}`);
    }
  }
  const perKey = (bytes: number) => `${count(Math.round(bytes / Math.max(1, memory.server.cachedKeys)))} B/key`;
  console.log(
    `memory per cached key at ${count(memory.storeKeys)} keys: ${count(memory.heapBytesPerKey)} B of heap ` +
      `(KeyCache with ${count(memory.cachedKeys)} real records, heap used after full GCs, in a process of its own)`,
  );
  console.log(
    `  in the server, ${count(memory.server.cachedKeys)} keys verified into the cache, /metrics before/after, no forced GC (rough): ` +
      `heap used ${signed(megabytes(memory.server.heapUsedBytes))} MB (${perKey(memory.server.heapUsedBytes)}), RSS ${signed(megabytes(memory.server.rssBytes))} MB (${perKey(memory.server.rssBytes)})`,
  );
}
