// Cache-hit throughput of the middleware's core, in one process: after one verification (answered
// here by a stub fetch, so no server is needed), `check()` of the same key and route is served from
// the local cache; this loops it for about two seconds and prints verifications per second.
// Not a test:  npx tsx packages/sdk/bench/middleware.ts [seconds]
// `npm run bench` (section in-process) calls middlewareCacheHits() as well.
import { pathToFileURL } from 'node:url';
import { createGuard } from '../src/middleware/core.js';

const reply = {
  valid: true,
  code: 'VALID',
  key: {
    id: 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    name: 'bench',
    projectId: 'proj_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    accountId: 'acc_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    environment: 'live',
    type: 'token',
    scopes: ['inference'],
    meta: null,
    expiresAt: null,
  },
  cacheForMs: 3_600_000,
};
export interface CacheHitRate {
  checks: number;
  elapsedMs: number;
  perSecond: number;
  /** Calls that reached Keyward (the stub): 1, the first check. */
  verifies: number;
}

/** Loops `check()` of one key and route for `seconds` after a warm-up; all but the first are local cache hits. */
export async function middlewareCacheHits(seconds: number): Promise<CacheHitRate> {
  let verifies = 0;
  const guard = createGuard({
    baseUrl: 'http://127.0.0.1:9',
    cacheTtlMs: 3_600_000,
    fetch: async () => {
      verifies++;
      return new Response(JSON.stringify(reply), { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });

  const headers = { authorization: 'Bearer kw_live_0123456789abcdefghijklmnopqrstuvwxyzABCD', host: 'api.example.com' };
  const route = { scopes: ['inference'], environment: 'live' as const };
  const first = await guard.check(headers, route);
  if (!first.ok || first.cached) throw new Error('the first check should have verified');

  async function run(ms: number): Promise<{ checks: number; elapsedMs: number }> {
    let checks = 0;
    const started = performance.now();
    const deadline = started + ms;
    while (performance.now() < deadline) {
      for (let i = 0; i < 1000; i++) {
        const outcome = await guard.check(headers, route);
        if (!outcome.ok || !outcome.cached) throw new Error('expected a cache hit');
      }
      checks += 1000;
    }
    return { checks, elapsedMs: performance.now() - started };
  }

  await run(300); // warm-up
  const { checks, elapsedMs } = await run(seconds * 1000);
  return { checks, elapsedMs, perSecond: Math.round(checks / (elapsedMs / 1000)), verifies };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const seconds = Number(process.argv[2] ?? 2);
  const { checks, elapsedMs, perSecond, verifies } = await middlewareCacheHits(seconds);
  process.stdout.write(
    `middleware cache hits: ${checks.toLocaleString('en')} checks in ${(elapsedMs / 1000).toFixed(2)} s = ` +
      `${perSecond.toLocaleString('en')} verifications/s in one process (${verifies} network verify; Node ${process.version})\n`,
  );
}
