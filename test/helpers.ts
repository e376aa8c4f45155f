// Test helpers: a fresh app per test on its own temporary data dir (fastify/demo's `build()`),
// a clock tests can move, and shortcuts that go through the real HTTP interface.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp, type BuildOptions, type Built } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { createWorkspace } from '../src/workspaces/service.js';
import { loadMasterKey } from '../src/secrets/master-key.js';
import type { Role } from '../src/domain/permissions.js';
import { dropSchema } from '../src/storage/storage.js';

export class TestClock {
  constructor(public now: number = Date.UTC(2030, 0, 15, 12, 0, 0)) {}
  readonly read = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export interface ApiResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
}

export interface TestApp {
  app: FastifyInstance;
  built: Built;
  config: Config;
  clock: TestClock;
  dataDir: string;
  backend: IsolatedBackend;
  /** The owner's admin key in the first workspace. */
  ownerKey: string;
  workspaceId: string;
  ownerId: string;
  projectId: string;
  /** Calls the API as the owner unless `token` says otherwise (null = no credential). */
  call(method: InjectOptions['method'], url: string, options?: CallOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** The backend this test run uses: `KEYWARD_TEST_BACKEND=postgres` (set by the vitest project). */
export const BACKEND = process.env.KEYWARD_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_DATABASE_URL = process.env.KEYWARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.KEYWARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface IsolatedBackend {
  /** Environment variables that point Keyward at this backend. */
  env: Record<string, string>;
  /** Drops what the backend created (the PostgreSQL schema). */
  drop(): Promise<void>;
}

/** `KEYWARD_TEST_REDIS=1` (the redis vitest project) adds Redis to the PostgreSQL backend. */
export const WITH_REDIS = process.env.KEYWARD_TEST_REDIS === '1';

/** A backend of its own: nothing for SQLite (the data dir isolates), a fresh schema for PostgreSQL,
 * and a key prefix of its own in Redis. */
export function isolatedBackend(): IsolatedBackend {
  if (BACKEND === 'sqlite') return { env: {}, drop: () => Promise.resolve() };
  const name = `t_${randomBytes(6).toString('hex')}`;
  return {
    env: {
      DATABASE_URL: TEST_DATABASE_URL,
      KEYWARD_DB_SCHEMA: name,
      KEYWARD_DB_POOL_SIZE: '4',
      // One deployment, one master key, whichever data dir a node of it runs from.
      KEYWARD_MASTER_KEY: `test-master-key-${name}-0123456789`,
      ...(WITH_REDIS && { REDIS_URL: TEST_REDIS_URL, KEYWARD_REDIS_PREFIX: name }),
    },
    async drop() {
      await dropSchema(TEST_DATABASE_URL, name);
      if (WITH_REDIS) await dropRedisPrefix(name);
    },
  };
}

async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface StartOptions {
  env?: Record<string, string>;
  clock?: TestClock;
  dataDir?: string;
  /** Push dispatcher tuning (short retry delays, small batches). */
  push?: BuildOptions['push'];
  /** Reuse a backend (e.g. to restart on the same PostgreSQL schema); a fresh one otherwise. */
  backend?: IsolatedBackend;
}

export async function startApp(options: StartOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'keyward-test-'));
  const backend = options.backend ?? isolatedBackend();
  const config = loadConfig({ KEYWARD_DATA_DIR: dataDir, KEYWARD_LOG_LEVEL: 'silent', ...backend.env, ...options.env });
  const clock = options.clock ?? new TestClock();
  const built = await buildApp(config, { clock: clock.read, ...(options.push !== undefined && { push: options.push }) });
  const workspace = await createWorkspace(built.services.storage.db, {
    name: 'Test workspace',
    ownerEmail: `owner-${Math.random().toString(36).slice(2)}@example.com`,
    withAdminKey: true,
    now: clock.now,
    masterKey: loadMasterKey(config.masterKey, dataDir),
  });
  const ownerKey = workspace.adminKey!.token;
  const call = async (method: InjectOptions['method'], url: string, callOptions: CallOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    const token = callOptions.token === undefined ? ownerKey : callOptions.token;
    if (token !== null && headers.authorization === undefined) headers.authorization = `Bearer ${token}`;
    const response = await built.app.inject({
      method,
      url,
      headers,
      ...(callOptions.query !== undefined && { query: Object.fromEntries(Object.entries(callOptions.query).map(([k, v]) => [k, String(v)])) }),
      ...(callOptions.body !== undefined && { payload: callOptions.body as never }),
    });
    let body: unknown = undefined;
    if (response.body !== '' && String(response.headers['content-type'] ?? '').includes('json')) body = response.json();
    return { status: response.statusCode, body, headers: response.headers, text: response.body };
  };
  return {
    app: built.app,
    built,
    config,
    clock,
    dataDir,
    backend,
    ownerKey,
    workspaceId: workspace.workspaceId,
    ownerId: workspace.accountId,
    projectId: workspace.projectId,
    call,
    async close() {
      await built.app.close();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
      if (options.backend === undefined) await backend.drop();
    },
  };
}

export interface Member {
  accountId: string;
  email: string;
  /** An admin-scoped key of this account (its power is its role's). */
  token: string;
  keyId: string;
}

let memberCounter = 0;

/** Adds an account with `role` (as the owner) and gives it an admin-scoped key. */
export async function addMember(t: TestApp, role: Role, scopes: string[] = ['admin']): Promise<Member> {
  const email = `${role}-${++memberCounter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const account = await t.call('POST', '/v1/accounts', { body: { email, name: `${role} ${memberCounter}`, role } });
  if (account.status !== 201) throw new Error(`addMember: ${account.status} ${account.text}`);
  const accountId = account.body.account.id as string;
  const key = await t.call('POST', `/v1/projects/${t.projectId}/keys`, { body: { accountId, scopes, name: `${role} admin key` } });
  if (key.status !== 201) throw new Error(`addMember key: ${key.status} ${key.text}`);
  return { accountId, email, token: key.body.apiKey.key, keyId: key.body.apiKey.id };
}

/** Creates a key in the default project as the owner (or `token`) and returns the reply's apiKey. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function createKey(t: TestApp, body: Record<string, unknown> = {}, token?: string): Promise<any> {
  const response = await t.call('POST', `/v1/projects/${t.projectId}/keys`, { body, ...(token !== undefined && { token }) });
  if (response.status !== 201) throw new Error(`createKey: ${response.status} ${response.text}`);
  return response.body.apiKey;
}

/** Verifies through the public endpoint (no credential). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function verify(t: TestApp, body: Record<string, unknown>): Promise<any> {
  const response = await t.call('POST', '/v1/keys/verify', { body, token: null });
  if (response.status !== 200) throw new Error(`verify: ${response.status} ${response.text}`);
  return response.body;
}
