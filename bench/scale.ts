// How Keyward copes with a big store: 1,000, 100,000 and 1,000,000 keys (quick: 2,000 only),
// seeded in bulk (bench/seed.ts), all kept until the end. Per size: start-up time, and verify
// throughput on one cached key (on several servers per size) and on many keys that all
// miss the cache (so every verify reads SQLite), the sizes' loads taking turns so their ratios
// compare moments close together (both should stay flat); list and fuzzy-search latency (200
// requests each at 100,000 keys, quick: 3 at 2,000; a few at the other sizes). At 100,000 keys
// (quick: 2,000) also the heap per cached key.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CONNECTIONS, describeSpan, mean, paired, rotate, runAutocannon, verifyLoader, type Measurement, type Span } from './load.js';
import { ROOT_KEY, startKeyward, type Server } from './servers.js';
import { seedStore, type SeededStore } from './seed.js';
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
  /** From spawning `keyward serve` until it printed "listening on": the median of every start on
   * the store (`startupRuns`, the first one alone with its cold page cache, then the warm load's). */
  startupMs: number;
  startupRuns: number[];
  /** One key, again and again: answered from the cache. The mean of its servers' means. */
  warm: Measurement;
  /** Each warm server's mean req/s. */
  warmPerServer: number[];
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
  /** Each rotating load's length; `warmSpan` each warm load's. */
  span: Span;
  warmSpan: Span;
  /** Servers per size for the warm load, and its cycles (paired() in load.ts). */
  warmProcesses: number;
  warmCycles: number;
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[half]! : Math.round((sorted[half - 1]! + sorted[half]!) / 2);
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

/** One seeded store. */
interface Store {
  size: number;
  dataDir: string;
  seeded: SeededStore;
  /** Shuffled sample tokens; [0] is the warm key. */
  tokens: string[];
}

/** Runs `step` for each of `items` at once (the smoke run overlaps what the full run does one at a time) or in turn. */
async function each<T, R>(items: T[], atOnce: boolean, step: (item: T) => Promise<R>): Promise<R[]> {
  if (atOnce) return Promise.all(items.map(step));
  const results: R[] = [];
  for (const item of items) results.push(await step(item));
  return results;
}

export async function scale(quick: boolean): Promise<ScaleResult> {
  // Quick: one store (each size costs four processes: `keyward init` and three servers).
  const sizes = quick ? [2_000] : [1_000, 100_000, 1_000_000];
  const detailSize = quick ? 2_000 : 100_000;
  const span: Span = quick ? { requests: 100 } : { seconds: 3 };
  const rounds = quick ? 1 : 2;
  // The warm load: servers per size, paired() cycles, each load's length.
  const warmProcesses = quick ? 1 : 3;
  const warmCycles = quick ? 1 : 8;
  const warmSpan: Span = quick ? span : { seconds: 0.25 };
  // Warm-ups, waits for the write-behind flushes and one thing at a time on the stores only steady
  // the figures: the smoke run does without.
  const steady = !quick;
  const warmUpSeconds = steady ? 1 : 0;
  const memoryKeys = quick ? 500 : 50_000;
  // Sequential GETs per list query: the full count at the detail size, a glimpse at the others
  // (each series also ends when its time is up, after at least one request).
  const listRequests = (size: number) => (size === detailSize ? (quick ? 3 : 200) : 5);
  const listBudgetMs = (size: number) => (size === detailSize ? (quick ? 5_000 : 20_000) : 5_000);

  const stores: Store[] = [];
  const dataDirs: string[] = []; // removed at the end
  const servers: Server[] = []; // every server started, all stopped at the end
  const startOnStore = async (store: Store, env: Record<string, string>) => {
    const started = await startTimed(env, store.dataDir);
    servers.push(started.server);
    return started;
  };
  try {
    // Every store is seeded first and kept until the end, so the loads on different sizes can
    // take turns.
    for (const size of sizes) {
      const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-scale-'));
      dataDirs.push(dataDir);
      const sampleSize = Math.min(size, size === detailSize ? Math.max(ROTATING_KEYS, memoryKeys + 1) : ROTATING_KEYS);
      const seeded = await seedStore(dataDir, size, sampleSize);
      stores.push({ size, dataDir, seeded, tokens: shuffled(seeded.sampleTokens) });
    }
    const detail = stores.find((store) => store.size === detailSize)!;
    const memoryTokens = detail.tokens.slice(1, memoryKeys + 1); // tokens[0] is the warm key

    // The exact heap measurement alone with its store; then servers A one at a time (their
    // start-up times measured alone). The smoke run begins them all at once.
    const heap = steady ? await cacheMemoryExact(detail.dataDir, memoryTokens) : null;
    const heapBegun = steady ? null : cacheMemoryExact(detail.dataDir, memoryTokens);
    heapBegun?.catch(() => undefined); // rejects where it is awaited (not unhandled when a start failed)
    // Servers A: a cache big enough for the memory measurement, with a TTL that outlasts it.
    const serversA = await each(stores, !steady, (store) => startOnStore(store, { KEYWARD_KEY_CACHE_MAX_ENTRIES: String(2 * memoryKeys), KEYWARD_KEY_CACHE_TTL_MS: '600000' }));
    const exact = heap ?? (await heapBegun!);
    const detailA = serversA[stores.indexOf(detail)]!.server;
    // First, so the garbage of the loads below is not in its baseline.
    const inServer = await cacheMemoryInServer(detailA, detail.tokens[0]!, memoryTokens, steady);
    const memory = { storeKeys: detail.size, cachedKeys: exact.cachedKeys, heapBytesPerKey: Math.round(exact.heapUsedBytes / exact.cachedKeys), server: inServer };
    for (const [i, store] of stores.entries()) await assertValid(serversA[i]!.server, store.tokens.slice(0, 5));

    const lists: ScaleResult['lists'] = [];
    for (const [i, store] of stores.entries()) {
      const server = serversA[i]!.server;
      const base = `/v1/projects/${store.seeded.projectId}/keys?page=1&pageSize=100`;
      const page = await timeGets(server, base, listRequests(store.size), listBudgetMs(store.size));
      const searches = [];
      for (const query of SEARCHES) {
        const { total, ...stats } = await timeGets(server, `${base}&search=${encodeURIComponent(query)}`, listRequests(store.size), listBudgetMs(store.size));
        searches.push({ query, matches: total, ...stats });
      }
      lists.push({ keys: store.size, page, searches });
    }
    await Promise.all(serversA.map(({ server }) => server.stop()));

    const startups = serversA.map(({ startupMs }) => [startupMs]);
    // The warm load: verify's speed differs from one Keyward process to the next and from one
    // second to the next on this machine by more than the 10% the sizes are compared by, and
    // neither has to do with the store (bench/README.md "Warm verify at scale"). So each size
    // gets several servers of its own, started one at a time, and every load of a larger store's
    // server sits between two loads of the smallest store's servers (paired() in load.ts); a
    // larger size's ratio is its loads' mean against the mean of those beside them.
    const warmServers: { store: number; server: Server }[] = [];
    for (let copy = 0; copy < warmProcesses; copy++) {
      // Each copy starts the sizes in another order (1k 100k 1M, then 100k 1M 1k, …): no size
      // always follows the same one.
      for (let n = 0; n < stores.length; n++) {
        const i = (n + copy) % stores.length;
        const store = stores[i]!;
        const { server, startupMs } = await startOnStore(store, {});
        startups[i]!.push(startupMs);
        warmServers.push({ store: i, server });
      }
    }
    const warmLoad = ({ store, server }: { store: number; server: Server }) => verifyLoader(server.url, { key: stores[store]!.tokens[0]!, scopes: ['inference'] });
    const larger = warmServers.filter(({ store }) => store > 0);
    const warmLoads = await paired(
      warmServers.filter(({ store }) => store === 0).map(warmLoad),
      larger.map((server) => ({ load: warmLoad(server), perCycle: 1 })),
      warmSpan,
      warmCycles,
      warmUpSeconds,
    );
    await Promise.all(warmServers.map(({ server }) => server.stop()));
    // Per size: its loads' mean, each server's, and the ratio to the smallest store's loads beside them.
    const warm = stores.map((_, i) => {
      if (i === 0) return { measured: warmLoads.baseline, perServer: warmLoads.perBaseline, ratio: 1 };
      const ofSize = (figures: Measurement[]) => figures.filter((_, j) => larger[j]!.store === i);
      const measured = mean(ofSize(warmLoads.measured));
      return { measured, perServer: ofSize(warmLoads.measured), ratio: measured.requestsPerSecond / mean(ofSize(warmLoads.beside)).requestsPerSecond };
    });

    // Servers B: a one-entry cache, so the rotating keys all go to SQLite.
    const serversB = await each(stores, !steady, (store) => startOnStore(store, { KEYWARD_KEY_CACHE_MAX_ENTRIES: '1' }));
    const bodies = stores.map((store) => store.tokens.slice(0, ROTATING_KEYS).map(verifyBody));
    const counts = stores.map(() => ({ misses: 0, hits: 0, valid: 0, requests: 0 }));
    // Each store's server with its own load, the sizes in turn (rotate() in load.ts): the ratios
    // between sizes are taken from loads interleaved in time, not minutes apart.
    const rotatingLoads = await rotate(
      stores.length,
      async (i, loadSpan) => {
        const server = serversB[i]!.server;
        const before = await readMetrics(server);
        const measured = await loadBodies(server.url, bodies[i]!, loadSpan);
        const after = await readMetrics(server);
        // A labelled series appears with its first count: without a warm-up, not yet in `before`.
        const delta = (name: string) => metric(after, name) - (before.get(name) ?? 0);
        const count = counts[i]!;
        count.misses += delta('keyward_key_cache_misses_total');
        count.hits += delta('keyward_key_cache_hits_total');
        count.valid += delta('keyward_verifications_total{code="VALID"}');
        count.requests += measured.requests;
        return measured;
      },
      span,
      rounds,
      warmUpSeconds,
    );
    for (const [i, count] of counts.entries()) {
      if (count.valid < count.requests * 0.99) throw new Error(`only ${count.valid} of ${count.requests} rotating verifications were VALID (${stores[i]!.size} keys)`);
    }

    const results: StoreSize[] = stores.map((store, i) => ({
      keys: store.size,
      accounts: store.seeded.accounts,
      seedMs: store.seeded.seedMs,
      databaseBytes: store.seeded.databaseBytes,
      startupMs: median(startups[i]!),
      startupRuns: startups[i]!,
      warm: warm[i]!.measured,
      warmPerServer: warm[i]!.perServer.map((m) => m.requestsPerSecond),
      rotating: { ...rotatingLoads[i]!, keys: bodies[i]!.length, cacheMissRate: counts[i]!.misses / Math.max(1, counts[i]!.misses + counts[i]!.hits) },
      warmRatio: Number(warm[i]!.ratio.toFixed(3)),
      rotatingRatio: Number((rotatingLoads[i]!.requestsPerSecond / rotatingLoads[0]!.requestsPerSecond).toFixed(3)),
    }));
    return { span, warmSpan, warmProcesses, warmCycles, sizes: results, lists, memory };
  } finally {
    await Promise.allSettled(servers.map((server) => server.stop()));
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  }
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
  console.log(`\nscale: verify on stores of growing size, autocannon ${CONNECTIONS} connections, keep-alive, the sizes in turn (A B C … C B A)`);
  console.log(
    `  (warm = one key from the cache, ${result.warmProcesses} servers per size, loads of ${describeSpan(result.warmSpan)}, each of a larger store's between two of the smallest's, ${result.warmCycles} cycles, ratio against those beside; ` +
      `rotating = 1,000 keys in turn with a 1-entry cache, every verify reads SQLite, ${describeSpan(result.span)} per load; ratio = req/s ÷ smallest store; start ms: median of every start)`,
  );
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
  console.log(`  warm req/s per server: ${result.sizes.map((s) => `${count(s.keys)} keys ${s.warmPerServer.join(' / ')}`).join('; ')}`);
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
