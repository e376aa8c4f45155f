// One autocannon measurement and helpers to average rounds.
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

/** The figures of one autocannon run that the bench reports. */
export function measurement(result: autocannon.Result): Measurement {
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    requests: result.requests.total,
  };
}

export async function load(url: string, body: unknown, durationSeconds: number, connections = CONNECTIONS): Promise<Measurement> {
  const result = await autocannon({
    url: `${url}/v1/keys/verify`,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return measurement(result);
}

export function mean(values: Measurement[]): Measurement {
  const avg = (pick: (m: Measurement) => number) => values.reduce((sum, m) => sum + pick(m), 0) / values.length;
  const sum = (pick: (m: Measurement) => number) => values.reduce((total, m) => total + pick(m), 0);
  return {
    requestsPerSecond: Math.round(avg((m) => m.requestsPerSecond)),
    p50Ms: avg((m) => m.p50Ms),
    p99Ms: avg((m) => m.p99Ms),
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    requests: sum((m) => m.requests),
  };
}

/** Measures each target `rounds` times in turn (A B A B …) with the same body per target. */
export async function alternate(targets: { url: string; body: unknown }[], durationSeconds: number, rounds: number): Promise<Measurement[]> {
  const results: Measurement[][] = targets.map(() => []);
  for (const target of targets) await load(target.url, target.body, Math.min(2, durationSeconds)); // warm-up: JIT, caches
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) results[i]!.push(await load(target.url, target.body, durationSeconds));
  }
  return results.map(mean);
}

/** Loads several servers at once, the connections split between them (one cluster behind a balancer). */
export async function loadSpread(urls: string[], body: unknown, durationSeconds: number): Promise<Measurement> {
  const share = Math.floor(CONNECTIONS / urls.length);
  const parts = await Promise.all(urls.map((url, i) => load(url, body, durationSeconds, i === 0 ? CONNECTIONS - share * (urls.length - 1) : share)));
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
