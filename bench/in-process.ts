// In-process verification: the call the HTTP route makes (VerifyService.verifyNow: the result
// itself when nothing had to be awaited, as on a cache hit, else a promise), its promise form
// verify() that in-process callers use, and the SDK middleware's check, looped in this process
// with nothing else running. Each scenario gets its own app on a fresh data dir; they are measured
// in short slices taking turns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/app.js';
import { createWorkspace } from '../src/workspaces/service.js';
import { loadMasterKey } from '../src/secrets/master-key.js';
import { middlewareCacheHits } from '../packages/sdk/bench/middleware.js';
import { roundOrder } from './load.js';

export interface InProcessRow {
  scenario: string;
  /** Calls per second of wall time: the main thread's rate. */
  perSecond: number;
  /** Calls per second of CPU time of the whole process (every thread: the SQLite usage-log
   * writer thread works beside the main one), so a per-core figure; verify rows only. */
  perCpuSecond?: number;
  /** Usage-log entries dropped because the writer fell behind (the buffer is bounded): the log
   * keeps up with the main thread only to the rate its writer can write. Verify rows only. */
  logsDropped?: number;
}

/** Calls `step` `times` times, awaiting what it returns only when that is a promise (as the HTTP
 * route does). */
async function call(step: () => unknown, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const result = step();
    if (result instanceof Promise) await result;
  }
}

/** One slice of a scenario's measurement: `step` in batches until `seconds` have passed; the
 * calls, the wall time and the process's CPU time it took. */
async function slice(seconds: number, step: () => unknown): Promise<{ calls: number; wallMs: number; cpuMicros: number }> {
  const batch = 1_000;
  let calls = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    await call(step, batch);
    calls += batch;
    // Let timers and I/O run between batches, as a server's event loop would: the usage-log and
    // lastUsedAt writers flush then, and their cost belongs in the figure.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { calls, wallMs: performance.now() - started, cpuMicros: cpu.user + cpu.system };
}

type App = Awaited<ReturnType<typeof buildApp>>;

/** A Keyward app in this process on a fresh data dir (removed by the function returned with it),
 * with a workspace and its admin key. */
async function openApp(env: Record<string, string>): Promise<{ built: App; token: string; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-inproc-'));
  const config = loadConfig({ KEYWARD_DATA_DIR: dataDir, KEYWARD_LOG_LEVEL: 'silent', ...env });
  const built = await buildApp(config);
  const close = async () => {
    await built.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const workspace = await createWorkspace(built.services.storage.db, {
      name: 'bench',
      ownerEmail: 'bench@example.com',
      withAdminKey: true,
      now: Date.now(),
      masterKey: loadMasterKey(config.masterKey, dataDir),
    });
    return { built, token: workspace.adminKey!.token, close };
  } catch (error) {
    await close();
    throw error;
  }
}

interface Scenario {
  name: string;
  env: Record<string, string>;
  body: (token: string) => { key: string; scopes?: string[] };
  /** verify() (always a promise) instead of the route's verifyNow(). */
  promises?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'verify, cache hit, usage logs on', env: {}, body: (key) => ({ key, scopes: ['admin'] }) },
  { name: 'verify, cache hit, usage logs off', env: { KEYWARD_USAGE_LOGS: 'false' }, body: (key) => ({ key, scopes: ['admin'] }) },
  { name: 'verify() promise, cache hit, logs on', env: {}, body: (key) => ({ key, scopes: ['admin'] }), promises: true },
  { name: 'verify, cache miss (SQLite read), logs on', env: { KEYWARD_KEY_CACHE_TTL_MS: '0' }, body: (key) => ({ key, scopes: ['admin'] }) },
  { name: 'verify, malformed (checksum fails), logs on', env: {}, body: (key) => ({ key: key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a') }) },
];

/** Every scenario's app at once, measured in slices of `sliceSeconds` that take turns (A B C … C B
 * A, `rounds` times): the machine's speed moves from one second to the next, and each scenario's
 * figure then spans the same stretch of time as the others'. */
export async function inProcess(sliceSeconds: number, rounds: number): Promise<InProcessRow[]> {
  const apps: Awaited<ReturnType<typeof openApp>>[] = [];
  try {
    for (const scenario of SCENARIOS) apps.push(await openApp(scenario.env));
    const steps = await Promise.all(
      SCENARIOS.map(async (scenario, i) => {
        const { built, token } = apps[i]!;
        const verify = built.services.verify;
        const request = scenario.body(token);
        const step = scenario.promises ? () => verify.verify(request, '127.0.0.1') : () => verify.verifyNow(request, '127.0.0.1');
        const first = await step();
        if (scenario.name.includes('malformed') ? first.code !== 'MALFORMED' : first.code !== 'VALID') throw new Error(`${scenario.name}: got ${first.code}`);
        return step;
      }),
    );
    // Warm-up (JIT, caches), then its usage-log entries written: that starts the SQLite writer
    // thread (loading its code is no part of a verification's cost) before the measured calls.
    for (const [i, step] of steps.entries()) {
      await call(step, 4_000);
      await apps[i]!.built.logs.flush();
    }
    const droppedBefore = apps.map(({ built }) => built.logs.dropped);
    const totals = steps.map(() => ({ calls: 0, wallMs: 0, cpuMicros: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (const i of roundOrder(steps.length, round)) {
        const measured = await slice(sliceSeconds, steps[i]!);
        const total = totals[i]!;
        [total.calls, total.wallMs, total.cpuMicros] = [total.calls + measured.calls, total.wallMs + measured.wallMs, total.cpuMicros + measured.cpuMicros];
      }
    }
    const rows: InProcessRow[] = SCENARIOS.map(({ name }, i) => ({
      scenario: name,
      perSecond: Math.round(totals[i]!.calls / (totals[i]!.wallMs / 1000)),
      perCpuSecond: Math.round(totals[i]!.calls / (totals[i]!.cpuMicros / 1e6)),
      logsDropped: apps[i]!.built.logs.dropped - droppedBefore[i]!,
    }));
    rows.push({ scenario: 'SDK middleware check, local cache hit', perSecond: await middlewareHits(sliceSeconds * rounds) });
    return rows;
  } finally {
    for (const app of apps) await app.close();
  }
}

/** The middleware's check() of one key and route (packages/sdk/bench/middleware.ts): after the first, all local hits. */
async function middlewareHits(seconds: number): Promise<number> {
  const { perSecond, verifies } = await middlewareCacheHits(seconds);
  if (verifies !== 1) throw new Error(`middleware bench: expected 1 call to Keyward, saw ${verifies}`);
  return perSecond;
}
