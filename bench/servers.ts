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
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match !== null) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({
          url: match[1]!,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => {
                cleanup();
                done();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
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

export function startRawServer(): Promise<Server> {
  return start(process.execPath, ['--import', 'tsx', 'bench/raw-server.ts'], process.env);
}

/** A bare node:http API (bench/upstream-server.ts) for the gateway section to proxy to. */
export function startUpstreamServer(): Promise<Server> {
  return start(process.execPath, ['--import', 'tsx', 'bench/upstream-server.ts'], process.env);
}
