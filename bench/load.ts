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
  let result: autocannon.Result;
  let requestsPerSecond: number;
  if ('seconds' in span) {
    result = await autocannon({ ...options, duration: span.seconds });
    requestsPerSecond = result.requests.average; // of the per-second samples
  } else {
    // autocannon ends a run on its next sample tick (once a second by default) after the last
    // answer: a short tick ends it right away.
    result = await autocannon({ ...options, amount: span.requests, sampleInt: 20 });
    requestsPerSecond = result.requests.total / result.duration;
  }
  return {
    requestsPerSecond,
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

/** rotate() of verify loads, a body per server. */
export function alternate(targets: { url: string; body: unknown }[], span: Span, rounds: number, warmUpSeconds: number): Promise<Measurement[]> {
  return rotate(targets.length, (i, loadSpan) => load(targets[i]!.url, targets[i]!.body, loadSpan), span, rounds, warmUpSeconds);
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
