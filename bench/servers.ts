// Starts the servers under test as child processes (so the load generator in this process does
// not share their event loop), and stops them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export interface Server {
  url: string;
  stop(): Promise<void>;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, cleanup: () => void = () => undefined): Promise<Server> {
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let stopped: Promise<void> | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match !== null) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({
          url: match[1]!,
          // Stopping again waits for the same exit (a clean-up may stop what a section stopped).
          stop: () =>
            (stopped ??= new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            })),
        });
      }
    });
    // First on exit, stopped or failing to start: `cleanup` (a server that never came up leaves
    // nothing behind either); the rejection means nothing once it has started.
    child.once('exit', (code) => {
      cleanup();
      reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

/** Servers started at once: all of them, or the first failure once the others are stopped. */
export async function allStarted<T extends Server[]>(...starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.allSettled<Promise<Server>[]>(starts);
  const servers = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure === undefined) return servers as T;
  await Promise.all(servers.map((server) => server.stop()));
  throw failure.reason;
}

export const ROOT_KEY = 'bench-root-key-'.padEnd(40, 'x');

/** The built Keyward (dist/) authenticated by ROOT_KEY, on a fresh data dir (removed on stop) or
 * on `existingDataDir` (left for the caller). */
export function startKeyward(env: Record<string, string> = {}, existingDataDir?: string): Promise<Server> {
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), 'keyward-bench-'));
  return start(
    process.execPath,
    ['dist/main.js', 'serve'],
    { ...process.env, KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: '0', KEYWARD_LOG_LEVEL: 'warn', KEYWARD_ROOT_KEY: ROOT_KEY, ...env },
    existingDataDir === undefined ? () => rmSync(dataDir, { recursive: true, force: true }) : undefined,
  );
}

let sharing = false;
/** While sharing: the one Keyward on default settings, once a section asked for it. */
let shared: Promise<Server> | undefined;

/** From now on defaultKeyward() gives every section the same server (the quick smoke run starts
 * fewer processes: each takes a second or more of CPU to start); the function returned stops it. */
export function shareDefaultKeyward(): () => Promise<void> {
  sharing = true;
  return async () => {
    const server = await shared?.catch(() => undefined); // a failed start failed its sections already
    [sharing, shared] = [false, undefined];
    await server?.stop();
  };
}

/** startKeyward() on default settings, for a section that only uses keys it creates itself; while
 * sharing, the shared server, which the section's stop() leaves running for the next one. */
export async function defaultKeyward(): Promise<Server> {
  if (!sharing) return startKeyward();
  shared ??= startKeyward();
  const { url } = await shared;
  return { url, stop: async () => undefined };
}

export function startRawServer(): Promise<Server> {
  return start(process.execPath, ['--import', 'tsx', 'bench/raw-server.ts'], process.env);
}

/** A bare node:http API (bench/upstream-server.ts) for the gateway section to proxy to. */
export function startUpstreamServer(): Promise<Server> {
  return start(process.execPath, ['--import', 'tsx', 'bench/upstream-server.ts'], process.env);
}
