// In-process verification: the call the HTTP route makes (VerifyService.verifyNow: the result
// itself when nothing had to be awaited, as on a cache hit, else a promise), its promise form
// verify() that in-process callers use, and the SDK middleware's check, looped in this process
// with nothing else running. Each scenario gets its own app on a fresh data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/app.js';
import { createWorkspace } from '../src/workspaces/service.js';
import { loadMasterKey } from '../src/secrets/master-key.js';
import { middlewareCacheHits } from '../packages/sdk/bench/middleware.js';
import type { VerifyResult } from '../src/verify/service.js';

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

type Verify = (body: { key: string; scopes?: string[] }) => VerifyResult | Promise<VerifyResult>;

/** Calls `step` in batches until `seconds` have passed, awaiting what it returns only when that is
 * a promise (as the HTTP route does); returns calls per second of wall time and of the process's
 * CPU time. `warmedUp` runs between the warm-up calls and the measured ones. */
async function rate(seconds: number, step: () => unknown, warmedUp: () => Promise<void>): Promise<{ perSecond: number; perCpuSecond: number }> {
  const call = async (times: number) => {
    for (let i = 0; i < times; i++) {
      const result = step();
      if (result instanceof Promise) await result;
    }
  };
  await call(4_000); // warm-up: JIT, caches
  await warmedUp();
  await new Promise((resolve) => setImmediate(resolve));
  const batch = 1_000;
  let calls = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    await call(batch);
    calls += batch;
    // Let timers and I/O run between batches, as a server's event loop would: the usage-log and
    // lastUsedAt writers flush then, and their cost belongs in the figure.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: Math.round(calls / wallSeconds), perCpuSecond: Math.round(calls / ((cpu.user + cpu.system) / 1e6)) };
}

/** `promises`: verify() (always a promise) instead of the route's verifyNow(). */
async function withApp<T>(
  env: Record<string, string>,
  promises: boolean,
  run: (verify: Verify, token: string, built: Awaited<ReturnType<typeof buildApp>>) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-inproc-'));
  const config = loadConfig({ KEYWARD_DATA_DIR: dataDir, KEYWARD_LOG_LEVEL: 'silent', ...env });
  const built = await buildApp(config);
  try {
    const workspace = await createWorkspace(built.services.storage.db, {
      name: 'bench',
      ownerEmail: 'bench@example.com',
      withAdminKey: true,
      now: Date.now(),
      masterKey: loadMasterKey(config.masterKey, dataDir),
    });
    const verify = built.services.verify;
    const call: Verify = promises ? (body) => verify.verify(body, '127.0.0.1') : (body) => verify.verifyNow(body, '127.0.0.1');
    return await run(call, workspace.adminKey!.token, built);
  } finally {
    await built.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function inProcess(seconds: number): Promise<InProcessRow[]> {
  const rows: InProcessRow[] = [];
  const scenario = async (name: string, env: Record<string, string>, body: (token: string) => { key: string; scopes?: string[] }, promises = false) => {
    const measured = await withApp(env, promises, async (verify, token, built) => {
      const request = body(token);
      const first = await verify(request);
      if (name.includes('malformed') ? first.code !== 'MALFORMED' : first.code !== 'VALID') throw new Error(`${name}: got ${first.code}`);
      const droppedBefore = built.logs.dropped;
      // The warm-up's entries written first: that starts the SQLite writer thread (loading its
      // code is no part of a verification's cost) before the measured calls.
      return { ...(await rate(seconds, () => verify(request), () => built.logs.flush())), logsDropped: built.logs.dropped - droppedBefore };
    });
    rows.push({ scenario: name, ...measured });
  };
  await scenario('verify, cache hit, usage logs on', {}, (key) => ({ key, scopes: ['admin'] }));
  await scenario('verify, cache hit, usage logs off', { KEYWARD_USAGE_LOGS: 'false' }, (key) => ({ key, scopes: ['admin'] }));
  await scenario('verify() promise, cache hit, logs on', {}, (key) => ({ key, scopes: ['admin'] }), true);
  await scenario('verify, cache miss (SQLite read), logs on', { KEYWARD_KEY_CACHE_TTL_MS: '0' }, (key) => ({ key, scopes: ['admin'] }));
  await scenario('verify, malformed (checksum fails), logs on', {}, (key) => ({ key: key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a') }));
  rows.push({ scenario: 'SDK middleware check, local cache hit', perSecond: await middlewareHits(seconds) });
  return rows;
}

/** The middleware's check() of one key and route (packages/sdk/bench/middleware.ts): after the first, all local hits. */
async function middlewareHits(seconds: number): Promise<number> {
  const { perSecond, verifies } = await middlewareCacheHits(seconds);
  if (verifies !== 1) throw new Error(`middleware bench: expected 1 call to Keyward, saw ${verifies}`);
  return perSecond;
}
