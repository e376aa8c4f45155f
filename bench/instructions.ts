// Instructions per HTTP verify under valgrind's callgrind: a count that comes out nearly the same
// run after run, where the bench's req/s ratios move by more than the changes they are meant to
// show (2 shared cores). Not part of `npm run bench` (a run takes a minute or two: valgrind runs
// the server some 50 times slower); for before/after figures of a change to the hot path.
//
//   npx tsx bench/instructions.ts keyward|raw [--requests N] [--key '{"rateLimit":{…}}'] [--cache-sim]
//
// The server (the built Keyward, or bench/raw-server.ts) starts under callgrind with
// instrumentation off, answers 2 N and then N verifications over new connections (V8 optimises
// the path), then N more with it on.
// Printed: instructions per request of the main thread, which bounds throughput, and of the other
// threads (V8's compiler and GC helpers, the SQLite writer); with --cache-sim, the main thread's
// simulated cache and branch misses per request too. The load is bench/load.ts's (50 connections).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKey, defaultProjectId } from './api.js';
import { load } from './load.js';
import { ROOT_KEY } from './servers.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { requests: { type: 'string', default: '6000' }, key: { type: 'string', default: '{}' }, 'cache-sim': { type: 'boolean', default: false } },
});
const target = positionals[0];
if (target !== 'keyward' && target !== 'raw') {
  console.error('usage: npx tsx bench/instructions.ts keyward|raw [--requests N] [--key JSON] [--cache-sim]');
  process.exit(2);
}
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 100) throw new Error('--requests: a whole number of at least 100');
const keyOptions = JSON.parse(values.key) as Record<string, unknown>;

const work = mkdtempSync(join(tmpdir(), 'keyward-instructions-'));
const serverArgs = target === 'raw' ? ['--import', 'tsx', 'bench/raw-server.ts'] : ['dist/main.js', 'serve'];
const valgrind = [
  '--tool=callgrind',
  '--instr-atstart=no',
  '--separate-threads=yes',
  '--smc-check=all-non-file', // V8 writes the code it runs
  ...(values['cache-sim'] ? ['--cache-sim=yes', '--branch-sim=yes'] : []),
  `--callgrind-out-file=${join(work, 'out')}`,
];
const child = spawn('valgrind', [...valgrind, process.execPath, ...serverArgs], {
  cwd: join(import.meta.dirname, '..'),
  env: { ...process.env, KEYWARD_DATA_DIR: join(work, 'data'), KEYWARD_PORT: '0', KEYWARD_LOG_LEVEL: 'warn', KEYWARD_ROOT_KEY: ROOT_KEY },
  stdio: ['ignore', 'pipe', 'pipe'],
});
try {
  const url = await listening();
  const server = { url, stop: async () => undefined };
  // The raw server answers any body alike; it gets one of the same shape and length.
  const key = target === 'raw' ? 'kw_live_' + 'A'.repeat(35) : (await createKey(server, await defaultProjectId(server), { name: 'bench', scopes: ['inference'], ...keyOptions })).key;
  const body = { key, scopes: ['inference'] };
  // Two loads to warm up: closing the first one's connections makes V8 drop some of Node's
  // optimised socket code, which the second load optimises again before the measured one.
  await load(url, body, { requests: 2 * requests });
  await load(url, body, { requests });
  const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'pipe' });
  control('-z');
  control('-i', 'on');
  const measured = await load(url, body, { requests });
  control('-i', 'off');
  await stopped();
  if (measured.non2xx + measured.errors > 0) throw new Error(`${measured.non2xx} non-2xx answers, ${measured.errors} errors`);
  report(measured.requests);
} finally {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

function listening(): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${out}${err}`)));
  });
}

function stopped(): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Per thread (callgrind writes one file each, `out-01` the main thread): events per request. */
function report(measured: number): void {
  const threads: { thread: string; events: string[]; perRequest: number[] }[] = [];
  for (const file of readdirSync(work).filter((name) => name.startsWith('out')).sort()) {
    const text = readFileSync(join(work, file), 'utf8');
    const events = /^events: (.+)$/m.exec(text)?.[1]?.split(' ') ?? [];
    const totals = /^totals: (.+)$/m.exec(text)?.[1]?.trim().split(/ +/).map(Number) ?? [];
    if (totals.length === 0 || totals[0] === 0) continue;
    threads.push({ thread: file.replace(/^out-?/, '') || '01', events, perRequest: totals.map((total) => total / measured) });
  }
  const main = threads.find((t) => t.thread === '01');
  if (main === undefined) throw new Error('callgrind wrote no figures for the main thread');
  const others = threads.filter((t) => t !== main);
  console.log(`${target}: ${measured} verifications measured (after ${3 * requests} to warm up)`);
  console.log(`  main thread: ${Math.round(main.perRequest[0]!)} instructions per request`);
  console.log(`  other threads: ${others.map((t) => `${t.thread}: ${Math.round(t.perRequest[0]!)}`).join(', ') || 'none'}`);
  if (values['cache-sim']) {
    console.log(`  main thread per request: ${main.events.map((event, i) => `${event} ${main.perRequest[i]!.toFixed(1)}`).join(', ')}`);
  }
}
