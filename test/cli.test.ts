// The real `keyward` command in a child process: first start, restart, root key, init, migrate, bad config.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedBackend, type IsolatedBackend } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = join(ROOT, 'src', 'main.ts');

let dataDir: string;
let backend: IsolatedBackend;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
  backend = isolatedBackend(); // PostgreSQL: a schema of its own, shared by the processes of one test
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  await backend.drop();
});

function keyward(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, KEYWARD_DATA_DIR: dataDir, KEYWARD_PORT: '0', KEYWARD_LOG_LEVEL: 'warn', ...backend.env, ...env },
  });
  children.push(child);
  return child;
}

/** Resolves with everything printed once `pattern` appears on stdout (or rejects on exit). */
function waitFor(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) resolve(out);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${pattern}: ${out}\n${err}`)));
  });
}

/** Runs to completion: exit code and output. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = keyward(args, env);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((resolve) => child.once('exit', resolve));
}

const listening = /listening on (http:\/\/[\d.:]+)/;

describe('keyward serve', () => {
  it('first start prints the owner key once; a restart keeps the data and prints none', async () => {
    const first = keyward(['serve']);
    const out = await waitFor(first, /Try it:/);
    const base = listening.exec(out)![1]!;
    const token = /Owner admin key[^\n]*\n\s*\n\s*(kw_live_[0-9A-Za-z]{35})/.exec(out)![1]!;
    expect(out).toContain(`${base}/docs`);
    const workspace = await fetch(`${base}/v1/workspace`, { headers: { authorization: `Bearer ${token}` } });
    expect(workspace.status).toBe(200);
    const body = (await workspace.json()) as { account: { role: string }; permissions: string[] };
    expect(body.account.role).toBe('owner');
    // The dashboard login is printed once too, and works.
    expect(out).toContain(`Dashboard: ${base}/  — log in as owner@keyward.local`);
    const password = /with the password ([0-9A-Za-z]{20}) /.exec(out)![1]!;
    const login = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@keyward.local', password }),
    });
    expect(login.status).toBe(200);
    expect(await stop(first)).toBe(0);

    const second = keyward(['serve']);
    const out2 = await waitFor(second, listening);
    const base2 = listening.exec(out2)![1]!;
    await new Promise((resolve) => setTimeout(resolve, 200)); // anything printed after the banner
    expect(out2).not.toMatch(/kw_live_|password/);
    const again = await fetch(`${base2}/v1/workspace`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
  });

  it('with KEYWARD_ROOT_KEY prints no key and accepts the root key as the owner', async () => {
    const rootKey = 'root-'.repeat(8);
    const child = keyward(['serve'], { KEYWARD_ROOT_KEY: rootKey });
    const out = await waitFor(child, /KEYWARD_ROOT_KEY is set/);
    expect(out).not.toMatch(/kw_live_/);
    expect(out).toMatch(/log in as owner@keyward.local\n {4}with the password [0-9A-Za-z]{20} /);
    const base = listening.exec(out)![1]!;
    const response = await fetch(`${base}/v1/workspace`, { headers: { authorization: `Bearer ${rootKey}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { credential: { type: string } }).credential.type).toBe('root');
  });

  it('refuses bad configuration with exit code 2 and names the variable', async () => {
    const short = await run(['serve'], { KEYWARD_ROOT_KEY: 'short' });
    expect(short.code).toBe(2);
    expect(short.err).toMatch(/KEYWARD_ROOT_KEY/);
    const port = await run(['serve'], { KEYWARD_PORT: 'eighty' });
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/KEYWARD_PORT/);
    const password = await run(['serve'], { KEYWARD_OWNER_PASSWORD: 'short' });
    expect(password.code).toBe(2);
    expect(password.err).toMatch(/KEYWARD_OWNER_PASSWORD must be 10 to 200 characters/);
  });

  it('refuses a master key other than the one the database was first used with', async () => {
    const first = await run(['init'], { KEYWARD_MASTER_KEY: 'the-first-master-key-0123456789abcdef' });
    expect(first.code).toBe(0);
    // Another node with another key: the same data (a shared database, or a replaced key file).
    const other = await run(['init'], { KEYWARD_MASTER_KEY: 'another-master-key-0123456789abcdef00' });
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/KEYWARD_MASTER_KEY does not match/);
    const served = await run(['serve'], { KEYWARD_MASTER_KEY: 'another-master-key-0123456789abcdef00' });
    expect(served.code).toBe(2);
    expect(served.err).toMatch(/KEYWARD_MASTER_KEY does not match/);
    const same = await run(['init'], { KEYWARD_MASTER_KEY: 'the-first-master-key-0123456789abcdef' });
    expect(same.code).toBe(0);
  });
});

describe('keyward init / migrate / help', () => {
  it('init creates the first workspace once, then another on request', async () => {
    const first = await run(['init']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/kw_live_[0-9A-Za-z]{35}/);
    const again = await run(['init']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Already initialised/);
    const other = await run(['init', '--workspace', 'Tenant B', '--email', 'b@example.com']);
    expect(other.code).toBe(0);
    expect(other.out).toMatch(/owner b@example.com/);
    const bad = await run(['init', '--workspace', 'Only name']);
    expect(bad.code).toBe(2);
  });

  it('migrate applies the schema and is idempotent', async () => {
    const first = await run(['migrate']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Applied: 0001_core/);
    const second = await run(['migrate']);
    expect(second.out).toMatch(/up to date/);
  });

  it('help and unknown commands', async () => {
    expect((await run(['help'])).code).toBe(0);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command/);
  });
});
