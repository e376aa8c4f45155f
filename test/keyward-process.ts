// A real `keyward serve` process for multi-node tests: spawned from src/ with tsx on its own data
// dir and port, resolved once it prints its address, and stopped (or killed) on demand.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export interface KeywardProcess {
  name: string;
  url: string;
  process: ChildProcess;
}

export function isAlive(node: KeywardProcess): boolean {
  return node.process.exitCode === null && node.process.signalCode === null;
}

/** Starts a node with `env` on top of a fresh data dir, port 0 and warn-level logs. */
export function startKeyward(name: string, env: Record<string, string>): Promise<KeywardProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: '0', KEYWARD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match !== null) resolve({ name, url: match[1]!, process: child });
    });
    child.once('exit', (code, signal) => reject(new Error(`${name} exited with ${code ?? signal}: ${out}`)));
  });
}

/** Stops a node with `signal` (SIGTERM flushes and exits cleanly; SIGKILL gives it no chance). */
export async function stopKeyward(node: KeywardProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isAlive(node)) return;
  const exited = new Promise((resolve) => node.process.once('exit', resolve));
  node.process.kill(signal);
  await exited;
}
