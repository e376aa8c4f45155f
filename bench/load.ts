// The bench's loads (autocannon, keep-alive) and helpers to average rounds.
import autocannon from 'autocannon';

export interface Measurement {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  requests: number;
}

export const CONNECTIONS = 50;

/** How long a load lasts: `seconds` when measuring. The quick smoke run sends a number of
 * `requests` instead: every scenario gets answers however busy the machine is, and takes no
 * longer than that. */
export type Span = { seconds: number } | { requests: number };

export const describeSpan = (span: Span): string => ('seconds' in span ? `${span.seconds} s` : `${span.requests} requests`);

/** Loads run one at a time, also while sections run at once (the quick run): each has this
 * process's event loop, which drives autocannon's connections, to itself. */
let lastMeasured: Promise<unknown> = Promise.resolve();
function measureAlone<T>(run: () => Promise<T>): Promise<T> {
  const next = lastMeasured.then(run);
  lastMeasured = next.catch(() => undefined);
  return next;
}

/** One autocannon run of `options` for `span`, and the figures the bench reports. */
export function runAutocannon(options: autocannon.Options, span: Span): Promise<Measurement> {
  return measureAlone(() => autocannonRun(options, span));
}

async function autocannonRun(options: autocannon.Options, span: Span): Promise<Measurement> {
  // The rate is the answers' own: from the first to the last, so neither the connections' set-up
  // nor autocannon's wait for its next sample tick at the end (it stops on a tick) counts, and a
  // load of a tenth of a second measures as well as a long one. A short tick ends a run soon
  // after its time or amount.
  let answers = 0;
  let first = 0;
  let last = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = 'seconds' in span ? { duration: span.seconds } : { amount: span.requests };
    const instance = autocannon({ ...options, ...run, sampleInt: 20 }, (error: Error | null, done: autocannon.Result) => (error ? reject(error) : resolve(done)));
    instance.on('response', () => {
      last = performance.now();
      if (answers++ === 0) first = last;
    });
  });
  return {
    requestsPerSecond: answers > 1 && last > first ? ((answers - 1) * 1000) / (last - first) : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    requests: result.requests.total,
  };
}

/** POST /v1/keys/verify with `body` over `connections`. */
function verifyRequests(url: string, body: unknown, connections: number): autocannon.Options {
  return { url: `${url}/v1/keys/verify`, method: 'POST', connections, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function load(url: string, body: unknown, span: Span, connections = CONNECTIONS): Promise<Measurement> {
  return runAutocannon(verifyRequests(url, body, connections), span);
}

export function mean(values: Measurement[]): Measurement {
  const avg = (pick: (m: Measurement) => number) => values.reduce((sum, m) => sum + pick(m), 0) / values.length;
  const sum = (pick: (m: Measurement) => number) => values.reduce((total, m) => total + pick(m), 0);
  return {
    requestsPerSecond: Math.round(avg((m) => m.requestsPerSecond)),
    // Latencies to 0.01 ms (autocannon's own resolution is whole ms at these speeds).
    p50Ms: Math.round(avg((m) => m.p50Ms) * 100) / 100,
    p99Ms: Math.round(avg((m) => m.p99Ms) * 100) / 100,
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    requests: sum((m) => m.requests),
  };
}

/** Measures each of `count` targets `rounds` times with `measure`, after loading each for
 * `warmUpSeconds` (JIT, caches; 0: no warm-up); per target, the mean. The rounds go forwards and
 * backwards in turn (A B C … C B A …): with an even number of rounds every target's measurements
 * sit at the same mean time, so a steady drift in the machine's speed (another tenant's load
 * rising or falling) weighs on all of them alike. */
export async function rotate(count: number, measure: (i: number, span: Span) => Promise<Measurement>, span: Span, rounds: number, warmUpSeconds: number): Promise<Measurement[]> {
  const results: Measurement[][] = Array.from({ length: count }, () => []);
  if (warmUpSeconds > 0) for (let i = 0; i < count; i++) await measure(i, { seconds: warmUpSeconds });
  for (let round = 0; round < rounds; round++) {
    for (const i of roundOrder(count, round)) results[i]!.push(await measure(i, span));
  }
  return results.map(mean);
}

/** A load of one server: what paired() measures. */
export type Loader = (span: Span) => Promise<Measurement>;

/** load() of `body` on `url` as a Loader. */
export const verifyLoader =
  (url: string, body: unknown): Loader =>
  (span) =>
    load(url, body, span);

export interface Paired {
  /** Per target: the mean of its loads. */
  measured: Measurement[];
  /** Per target: the mean of the baseline loads just before and just after each of its loads. */
  beside: Measurement[];
  /** The mean of every baseline load, and per baseline server the mean of its loads. */
  baseline: Measurement;
  perBaseline: Measurement[];
}

/** Targets set against a baseline that is measured between every two of their loads (B T1 B T2 B
 * T1 B T3 … B, the baseline's servers taking turns): each target's figure is the mean of its loads,
 * and its baseline the mean of the baseline loads beside them. This machine's speed swings by a
 * quarter from one second to the next, and by much more over tens of seconds; the baseline load
 * just before and just after a target's load shares most of that moment, so short loads and many
 * of them compare the two far more steadily than a few long rounds do. A cycle gives target i
 * `targets[i].perCycle` loads, spread over it (a pass over all of them, then over those wanting a
 * second load, …); cycles go forwards and backwards in turn. Every server gets `warmUpSeconds` of
 * load first (JIT, caches; 0: none). */
export async function paired(baselines: Loader[], targets: { load: Loader; perCycle: number }[], span: Span, cycles: number, warmUpSeconds: number): Promise<Paired> {
  if (warmUpSeconds > 0) for (const load of [...baselines, ...targets.map((target) => target.load)]) await load({ seconds: warmUpSeconds });
  const passes = Math.max(0, ...targets.map((target) => target.perCycle));
  const cycle = Array.from({ length: passes }, (_, pass) => targets.flatMap((target, i) => (target.perCycle > pass ? [i] : []))).flat();
  const baselineLoads: Measurement[] = [];
  const baselineLoad = async () => {
    const measured = await baselines[baselineLoads.length % baselines.length]!(span);
    baselineLoads.push(measured);
    return measured;
  };
  await baselineLoad();
  const own = targets.map((): Measurement[] => []);
  const beside = targets.map((): Measurement[] => []);
  for (let c = 0; c < cycles; c++) {
    for (const i of c % 2 === 0 ? cycle : [...cycle].reverse()) {
      own[i]!.push(await targets[i]!.load(span));
      const before = baselineLoads.at(-1)!;
      beside[i]!.push(before, await baselineLoad());
    }
  }
  const perBaseline = baselines.map((_, b) => mean(baselineLoads.filter((_, n) => n % baselines.length === b)));
  return { measured: own.map(mean), beside: beside.map(mean), baseline: mean(baselineLoads), perBaseline };
}

/** The targets' indexes in the order round `round` measures them: forwards, then backwards. */
export function roundOrder(count: number, round: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  return round % 2 === 0 ? order : order.reverse();
}

/** Loads several servers at once, the connections (and requests) split between them (one cluster
 * behind a balancer). */
export async function loadSpread(urls: string[], body: unknown, span: Span): Promise<Measurement> {
  const share = Math.floor(CONNECTIONS / urls.length);
  const connections = (i: number) => (i === 0 ? CONNECTIONS - share * (urls.length - 1) : share);
  const partOf = (i: number): Span => ('seconds' in span ? span : { requests: Math.round((span.requests * connections(i)) / CONNECTIONS) });
  const parts = await measureAlone(() => Promise.all(urls.map((url, i) => autocannonRun(verifyRequests(url, body, connections(i)), partOf(i)))));
  const total = parts.reduce((sum, m) => sum + m.requests, 0);
  // Latency: the request-weighted mean of the parts' percentiles (autocannon gives no merged histogram).
  const weighted = (pick: (m: Measurement) => number) => parts.reduce((sum, m) => sum + pick(m) * m.requests, 0) / Math.max(1, total);
  return {
    requestsPerSecond: parts.reduce((sum, m) => sum + m.requestsPerSecond, 0),
    p50Ms: weighted((m) => m.p50Ms),
    p99Ms: weighted((m) => m.p99Ms),
    non2xx: parts.reduce((sum, m) => sum + m.non2xx, 0),
    errors: parts.reduce((sum, m) => sum + m.errors, 0),
    requests: total,
  };
}
