// `npm run bench`: prints a table and writes bench/results/latest.json. Servers run as child
// processes; autocannon (50 connections, keep-alive) runs here, alternating between the targets
// (A B … B A, or for verify and scale's warm load each target between two baseline loads,
// paired() in load.ts) so drift on a shared machine hits every side alike. `--quick` is the short smoke run (CI: the bench must not rot).
// Sections may be named to run only those: `npm run bench -- scale-out`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONNECTIONS, describeSpan, type Span } from './load.js';
import { verifyVsRaw, type Comparison } from './verify-http.js';
import { pushThroughput } from './push.js';
import { scaleOut } from './scale-out.js';
import { gatewayOverhead } from './gateway.js';
import { printScale, scale } from './scale.js';
import { inProcess } from './in-process.js';
import { writePath } from './write-path.js';
import { shareDefaultKeyward } from './servers.js';

const SECTIONS = ['verify', 'in-process', 'write', 'push', 'scale-out', 'gateway', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

const quick = process.argv.includes('--quick');
const named = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = named.filter((name) => !(SECTIONS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const runs = (section: Section) => named.length === 0 || named.includes(section);
// Quick: every section runs once, briefly (a smoke test that the bench still works, not a
// measurement): a few requests per load, no warm-up. The full run: two rounds (one each way) of
// 5 s per target, the whole bench in about 5 to 6 minutes.
const SPAN: Span = quick ? { requests: 100 } : { seconds: 5 };
const ROUNDS = quick ? 1 : 2;
// verify compares figures a few per cent apart on a machine whose speed swings by a quarter from
// one second to the next: many short loads, each Keyward load between two of the raw server's
// (paired() in load.ts). A quarter of a second each: with loads of 0.1 s the valid row came out
// at 0.927-0.977 in four runs against 0.890-0.924 in three of 0.25 s, and usage logs on against
// off at 0.97-1.05 (0.86-0.96), as if some of the usage log's work fell between Keyward's loads.
// 11 Keyward loads a cycle, 13 cycles: about 85 s.
const VERIFY_SPAN: Span = quick ? SPAN : { seconds: 0.25 };
const VERIFY_CYCLES = quick ? ROUNDS : 13;
const WARM_UP_S = quick ? 0 : 1; // before the measured rounds, per target: JIT, caches

function row(c: Comparison): string {
  const cell = (m: Comparison['keyward']) => `${String(m.requestsPerSecond).padStart(8)}  ${`${m.p50Ms}/${m.p99Ms}`.padEnd(9)}`;
  const warn = c.keyward.non2xx + c.keyward.errors > 0 ? `  ! ${c.keyward.non2xx} non-2xx, ${c.keyward.errors} errors` : '';
  return `${c.scenario.padEnd(42)} ${cell(c.keyward)} ${cell(c.baseline)} ${c.ratio.toFixed(3).padStart(6)}${warn}`;
}

const header = () => `${'scenario'.padEnd(42)} ${'A req/s'.padStart(8)}  ${'p50/p99'.padEnd(9)} ${'B req/s'.padStart(8)}  ${'p50/p99'.padEnd(9)} ${'A/B'.padStart(6)}`;

const results: Record<string, unknown> = {};

/** Each section measures, keeps its result for latest.json, and returns how to print it. */
const measure: Record<Section, () => Promise<() => void>> = {
  verify: async () => {
    const { rows, logging, loggingOff } = await verifyVsRaw(VERIFY_SPAN, VERIFY_CYCLES, WARM_UP_S);
    [results.verify, results.logging, results.loggingOff] = [rows, logging, loggingOff];
    return () => {
      console.log(`\nverify: autocannon, ${CONNECTIONS} connections, keep-alive, loads of ${describeSpan(VERIFY_SPAN)}, each between two of the raw server's, ${VERIFY_CYCLES} cycles`);
      console.log(header());
      console.log('  (A = Keyward; B = the raw node:http server\'s loads beside A\'s; the last row: B = Keyward with usage logs off, A/B the quotient of the two rows\' ratios; valid and B: two servers each)');
      for (const comparison of [...rows, loggingOff, logging]) console.log(row(comparison));
    };
  },

  'in-process': async () => {
    const rows = (results.inProcess = await inProcess(quick ? 0.02 : 0.25, quick ? 1 : 12));
    return () => {
      console.log(`\nin process: the HTTP route's call (verifyNow: no promise when nothing is awaited) and verify() (a promise), looped (the event loop runs between batches of 1,000, so write-behind flushes count)`);
      console.log(`${''.padEnd(52)} ${'per s'.padStart(9)} ${'per CPU-s'.padStart(10)} ${'log drops'.padStart(10)}`);
      console.log('  (CPU of every thread of the process, the SQLite writer thread included; log drops: usage-log entries dropped because the writer fell behind)');
      for (const { scenario, perSecond, perCpuSecond, logsDropped } of rows) {
        const optional = (value: number | undefined) => (value === undefined ? '' : String(value));
        console.log(`${scenario.padEnd(52)} ${String(perSecond).padStart(9)} ${optional(perCpuSecond).padStart(10)} ${optional(logsDropped).padStart(10)}`);
      }
    };
  },

  write: async () => {
    const w = (results.write = await writePath(quick ? { requests: CONNECTIONS } : { seconds: 5 })); // quick: one key per connection
    return () =>
      console.log(
        `\nwrite path: POST /v1/projects/{id}/keys, ${CONNECTIONS} connections: ${Math.round(w.requestsPerSecond)} key creations/s, p50/p99 ${w.p50Ms}/${w.p99Ms} ms` +
          ` (${w.created} keys created${w.non2xx + w.errors > 0 ? `; ! ${w.non2xx} non-2xx, ${w.errors} errors` : ''})`,
      );
  },

  push: async () => {
    const push = (results.push = await pushThroughput(SPAN));
    return () => {
      console.log(
        `\npush, real-time: ${push.realtime.verifications} verifications in ${push.realtime.loadSeconds} s under load; ` +
          `${push.realtime.eventsPerSecondDuringLoad} events/s delivered during the load, backlog drained ${push.realtime.drainSeconds.toFixed(1)} s after it`,
      );
      console.log(`push, historical: ${push.history.events} events in ${push.history.seconds.toFixed(1)} s = ${push.history.eventsPerSecond} events/s`);
    };
  },

  'scale-out': async () => {
    const span: Span = quick ? SPAN : { seconds: 2 }; // 4 deployments × 2 keys: shorter loads
    // Quick: 3 invalidation samples, and a cluster of two nodes (one Keyward fewer to start).
    const result = (results.scaleOut = await scaleOut(span, ROUNDS, WARM_UP_S, quick ? 3 : 40, quick ? 2 : 3));
    return () => {
      const base = result.deployments[0]!;
      console.log(`\nscale-out: the same ${CONNECTIONS} connections (split evenly over the nodes), ${describeSpan(span)} × ${ROUNDS} rounds, A B C D … D C B A`);
      console.log(`${'deployment'.padEnd(30)} ${'valid req/s'.padStart(11)}  ${'p50/p99'.padEnd(11)} ${'ratio'.padStart(5)}   ${'quota req/s'.padStart(11)}  ${'p50/p99'.padEnd(11)} ${'ratio'.padStart(5)}`);
      for (const d of result.deployments) {
        const cell = (m: typeof d.valid, b: typeof d.valid) =>
          `${String(m.requestsPerSecond).padStart(11)}  ${`${m.p50Ms}/${m.p99Ms}`.padEnd(11)} ${(m.requestsPerSecond / b.requestsPerSecond).toFixed(2).padStart(5)}`;
        const warn = d.valid.non2xx + d.valid.errors + d.quota.non2xx + d.quota.errors > 0 ? '  ! non-2xx or errors' : '';
        console.log(`${d.name.padEnd(30)} ${cell(d.valid, base.valid)}   ${cell(d.quota, base.quota)}${warn}`);
      }
      const inv = result.invalidationMs;
      console.log(`cache invalidation across nodes (disable/enable on A, until the other nodes agree; ${inv.samples} samples): p50 ${inv.p50} ms, p99 ${inv.p99} ms, max ${inv.max} ms`);
    };
  },

  gateway: async () => {
    const span: Span = quick ? SPAN : { seconds: 3 }; // its ratio is far from 1 (two proxy hops against one): shorter loads do
    const g = (results.gateway = await gatewayOverhead(span, ROUNDS, WARM_UP_S));
    return () => {
      const cell = (m: typeof g.withAuth) => `${String(m.requestsPerSecond).padStart(8)}  ${`${m.p50Ms}/${m.p99Ms}`.padEnd(9)}`;
      const bad = g.withAuth.non2xx + g.withAuth.errors + g.withoutAuth.non2xx + g.withoutAuth.errors;
      console.log(`\ngateway: nginx (${g.nginxWorkers} worker) → upstream, GET with a valid key, ${CONNECTIONS} connections, ${describeSpan(span)} × ${ROUNDS} rounds, A B B A`);
      console.log(header());
      console.log('  (A = nginx with auth_request to Keyward, deploy/nginx/keyward.conf; B = the same nginx proxying without it)');
      console.log(`${g.scenario.padEnd(42)} ${cell(g.withAuth)} ${cell(g.withoutAuth)} ${g.ratio.toFixed(3).padStart(6)}${bad > 0 ? '  ! non-2xx or errors' : ''}`);
    };
  },

  scale: async () => {
    const result = (results.scale = await scale(quick));
    return () => printScale(result);
  },
};

const benchStarted = performance.now();
const sections = SECTIONS.filter(runs);
/** How long each section took, from its start until its figures were in. */
const sectionSeconds: Partial<Record<Section, number>> = {};
for (const name of sections) {
  const run = measure[name];
  measure[name] = async () => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      sectionSeconds[name] = Number(((performance.now() - started) / 1000).toFixed(1));
    }
  };
}
if (quick) {
  // The smoke run is mostly child processes starting up: it runs the sections at once, so those
  // overlap (their loads still take turns, see measureAlone), and one Keyward serves the sections
  // that can share it. The figures disturb each other, which a smoke run does not mind. in-process
  // goes first, alone: it loops on this process's event loop, which all the others need. Results
  // print in the usual order; a failure is reported once every section has ended.
  const stopShared = shareDefaultKeyward();
  const outcomes = new Map<Section, PromiseSettledResult<() => void>>();
  const settle = async (names: Section[]) => {
    const settled = await Promise.allSettled(names.map((name) => measure[name]()));
    settled.forEach((outcome, i) => outcomes.set(names[i]!, outcome));
  };
  await settle(sections.filter((name) => name === 'in-process'));
  await settle(sections.filter((name) => name !== 'in-process'));
  await stopShared();
  const failed: { name: Section; reason: unknown }[] = [];
  for (const name of sections) {
    const outcome = outcomes.get(name)!;
    if (outcome.status === 'fulfilled') outcome.value();
    else failed.push({ name, reason: outcome.reason });
  }
  if (failed.length > 0) {
    throw new AggregateError(
      failed.map((failure) => failure.reason),
      `bench sections failed: ${failed.map((failure) => failure.name).join(', ')}`,
    );
  }
} else {
  // One section at a time, printed as it ends, so nothing else competes with what is measured.
  for (const name of sections) (await measure[name]())();
}
const seconds = Object.entries(sectionSeconds).map(([name, s]) => `${name} ${s}`);

console.log(`\nbench: ${((performance.now() - benchStarted) / 1000).toFixed(1)} s (${quick ? 'at once' : 'one after another'}: ${seconds.join(', ')} s)`);
const resultsDir = join(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, quick ? 'quick.json' : 'latest.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, connections: CONNECTIONS, span: SPAN, rounds: ROUNDS, verifySpan: VERIFY_SPAN, verifyCycles: VERIFY_CYCLES, sectionSeconds, ...results }, null, 2),
);
