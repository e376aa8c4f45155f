// Admin API authentication and authorization across features: the credential forms, the one
// shared role × route table (no credential, wrong credential, too little permission), tenant
// isolation between workspaces, and permissions that follow the account.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { addMember, createKey, startApp, verify, type ApiResponse, type TestApp } from './helpers.js';
import { createWorkspace } from '../src/workspaces/service.js';
import { loadMasterKey } from '../src/secrets/master-key.js';
import { checksumOf } from '../src/domain/token.js';
import { permissionsOf, ROLES, type Role } from '../src/domain/permissions.js';

let t: TestApp;
beforeEach(async () => {
  // Webhook rows point at 127.0.0.1:9 (discard; nothing listens), which only a private-allowed app accepts.
  t = await startApp({ env: { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true' } });
});
afterEach(async () => {
  await t.close();
});

/** Well-formed (checksum passes) but issued by nobody. */
function unknownToken(): string {
  const payload = 'kw_live_' + 'Q'.repeat(29);
  return payload + checksumOf(payload);
}

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

/** Every error is exactly the one envelope, nothing more. */
function expectError(response: ApiResponse, status: number, type: string): void {
  expect({ status: response.status, body: response.body }).toStrictEqual({
    status,
    body: { status: 'error', type, error: { message: expect.any(String) } },
  });
  expect(response.body.error.message).not.toBe('');
}

function expectUnauthenticated(response: ApiResponse): void {
  expectError(response, 401, 'unauthorizedApiKeyError');
  expect(response.headers['www-authenticate']).toEqual(expect.stringMatching(/Bearer|Basic/));
}

const expectForbidden = (response: ApiResponse) => expectError(response, 403, 'unauthorizedApiKeyError');

/** No credential, or a wrong one: every admin route (and /metrics unless public) answers 401. */
const UNUSABLE_CREDENTIALS: { name: string; token: string | null; headers?: Record<string, string> }[] = [
  { name: 'no credential', token: null },
  { name: 'an unknown (well-formed) Bearer token', token: unknownToken() },
  { name: 'an unknown X-API-Key', token: null, headers: { 'x-api-key': unknownToken() } },
];

async function ownerKeyId(app: TestApp): Promise<string> {
  const reply = await app.call('GET', '/v1/workspace');
  return reply.body.credential.keyId as string;
}

describe('admin credentials', () => {
  it('Authorization: Bearer <token>', async () => {
    const reply = await t.call('GET', '/v1/workspace', { headers: { authorization: `Bearer ${t.ownerKey}` }, token: null });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ workspace: { id: t.workspaceId }, account: { id: t.ownerId, role: 'owner' }, credential: { type: 'key' } });
  });

  it('X-API-Key: <token>', async () => {
    const reply = await t.call('GET', '/v1/workspace', { headers: { 'x-api-key': t.ownerKey }, token: null });
    expect(reply.status).toBe(200);
    expect(reply.body.account.id).toBe(t.ownerId);
  });

  it('Authorization: Basic base64(keyId:token)', async () => {
    const keyId = await ownerKeyId(t);
    const reply = await t.call('GET', '/v1/workspace', { headers: { authorization: basic(keyId, t.ownerKey) }, token: null });
    expect(reply.status).toBe(200);
    expect(reply.body.credential).toEqual({ type: 'key', keyId });
  });

  it('Basic with a key id that does not match the token → 401', async () => {
    const other = await createKey(t, { scopes: ['admin'] });
    const reply = await t.call('GET', '/v1/workspace', { headers: { authorization: basic(other.id, t.ownerKey) }, token: null });
    expectUnauthenticated(reply);
  });

  it('identity key via Basic username:password', async () => {
    const identity = await createKey(t, { type: 'identity', scopes: ['admin'] });
    expect(identity.username).toEqual(expect.any(String));
    expect(identity.password).toEqual(expect.any(String));
    const reply = await t.call('GET', '/v1/workspace', { headers: { authorization: basic(identity.username, identity.password) }, token: null });
    expect(reply.status).toBe(200);
    expect(reply.body.credential).toEqual({ type: 'key', keyId: identity.id });
    // The password alone under another user name is not the identity.
    expectUnauthenticated(await t.call('GET', '/v1/workspace', { headers: { authorization: basic('someone-else', identity.password) }, token: null }));
  });

  it('the root key (KEYWARD_ROOT_KEY) acts as the owner', async () => {
    const rootKey = 'r'.repeat(40);
    const rooted = await startApp({ env: { KEYWARD_ROOT_KEY: rootKey } });
    try {
      const reply = await rooted.call('GET', '/v1/workspace', { token: rootKey });
      expect(reply.status).toBe(200);
      expect(reply.body.credential.type).toBe('root');
      expect(reply.body).toMatchObject({ workspace: { id: rooted.workspaceId }, account: { id: rooted.ownerId, role: 'owner' } });
      // A near miss of the root key is just an unknown credential.
      expectUnauthenticated(await rooted.call('GET', '/v1/workspace', { token: 'r'.repeat(39) + 's' }));
    } finally {
      await rooted.close();
    }
  });

  it('no credential → 401 with WWW-Authenticate', async () => {
    expectUnauthenticated(await t.call('GET', '/v1/workspace', { token: null }));
  });

  it('malformed credential headers → 401', async () => {
    const malformed: Record<string, string>[] = [
      { authorization: 'Token x' },
      { authorization: 'Basic !!!' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer    ' },
      { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
      { authorization: basic('key_', '') },
      { 'x-api-key': '   ' },
    ];
    for (const headers of malformed) {
      const reply = await t.call('GET', '/v1/workspace', { headers, token: null });
      expect({ headers, status: reply.status }).toEqual({ headers, status: 401 });
      expectUnauthenticated(reply);
    }
  });

  it('a key without the admin scope → 403', async () => {
    const dataKey = await createKey(t, { scopes: ['inference', 'project'] });
    expectForbidden(await t.call('GET', '/v1/workspace', { token: dataKey.key }));
  });

  it('a disabled admin key → 401 at once', async () => {
    const key = await createKey(t, { scopes: ['admin'] });
    expect((await t.call('GET', '/v1/workspace', { token: key.key })).status).toBe(200);
    expect((await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: false } })).status).toBe(200);
    expectUnauthenticated(await t.call('GET', '/v1/workspace', { token: key.key }));
  });

  it('an expired admin key → 401', async () => {
    const key = await createKey(t, { scopes: ['admin'], expiresAt: new Date(t.clock.now + 60_000).toISOString() });
    expect((await t.call('GET', '/v1/workspace', { token: key.key })).status).toBe(200);
    t.clock.advance(60_000);
    expectUnauthenticated(await t.call('GET', '/v1/workspace', { token: key.key }));
  });

  it('a deleted admin key → 401', async () => {
    const key = await createKey(t, { scopes: ['admin'] });
    expect((await t.call('GET', '/v1/workspace', { token: key.key })).status).toBe(200);
    expect((await t.call('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
    expectUnauthenticated(await t.call('GET', '/v1/workspace', { token: key.key }));
  });

  it('a rate-limited admin key → 429 rateLimitedError with Retry-After', async () => {
    const key = await createKey(t, { scopes: ['admin'], rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await t.call('GET', '/v1/workspace', { token: key.key })).status).toBe(200);
    const limited = await t.call('GET', '/v1/workspace', { token: key.key });
    expectError(limited, 429, 'rateLimitedError');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('an admin key with a spent quota → 429 usageExceededError, with Retry-After only when it refills', async () => {
    const refilling = await createKey(t, { scopes: ['admin'], limitedAmount: 1, refill: { interval: 'daily' } });
    const once = await createKey(t, { scopes: ['admin'], limitedAmount: 1 });
    for (const key of [refilling, once]) expect((await t.call('GET', '/v1/workspace', { token: key.key })).status).toBe(200);
    const spent = await t.call('GET', '/v1/workspace', { token: refilling.key });
    expectError(spent, 429, 'usageExceededError');
    const nextDay = new Date(t.clock.now);
    nextDay.setUTCHours(24, 0, 0, 0);
    expect(Number(spent.headers['retry-after'])).toBe(Math.ceil((nextDay.getTime() - t.clock.now) / 1000));
    const gone = await t.call('GET', '/v1/workspace', { token: once.key });
    expectError(gone, 429, 'usageExceededError');
    expect(gone.headers['retry-after']).toBeUndefined();
  });

  it('an admin key bound to another host → 403; bound to the caller’s address → 200', async () => {
    const elsewhere = await createKey(t, { scopes: ['admin'], host: '10.0.0.0/8' });
    expectForbidden(await t.call('GET', '/v1/workspace', { token: elsewhere.key }));
    const here = await createKey(t, { scopes: ['admin'], host: '127.0.0.1' });
    expect((await t.call('GET', '/v1/workspace', { token: here.key })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// The shared role × route table. Each row names one admin route and one kind of target (own or
// another account's key, self or another member, …), the roles allowed, and the status they get.
// Every (row, role) runs on a fresh app with freshly built targets.

interface Caller {
  role: Role;
  accountId: string;
  token: string;
}

interface Context {
  t: TestApp;
  caller: Caller;
  /** A developer account that is not the caller, with one key in the default project. */
  bystander: { accountId: string; keyId: string };
}

interface Prepared {
  method: InjectOptions['method'];
  url: string;
  body?: unknown;
  query?: Record<string, string>;
  /** State that a refused call must leave exactly as it was (read as the owner). */
  snapshot?: () => Promise<unknown>;
  /** Further checks on an allowed reply. */
  check?: (reply: ApiResponse) => void | Promise<void>;
}

interface Row {
  route: string;
  target: string;
  allowed: readonly Role[];
  /** The status an allowed role gets (2xx, or a non-auth 4xx such as 409). */
  status: number;
  prepare: (ctx: Context) => Promise<Prepared>;
}

const ALL: readonly Role[] = ROLES;
const MANAGERS: readonly Role[] = ['owner', 'admin'];
const KEY_MANAGERS: readonly Role[] = ['owner', 'admin', 'developer'];
const OWNER: readonly Role[] = ['owner'];

const read = (app: TestApp, url: string) => async () => {
  const reply = await app.call('GET', url);
  return { status: reply.status, body: reply.body };
};
/** Key ids only: the callers' own admin keys get lastUsedAt written behind while the test runs. */
const keyIds = (app: TestApp, projectId: string) => async () => {
  const reply = await app.call('GET', `/v1/projects/${projectId}/keys`);
  return (reply.body.apiKeys as { id: string; start: string }[]).map((key) => `${key.id} ${key.start}`).sort();
};

async function newProject(app: TestApp, body: Record<string, unknown> = {}): Promise<string> {
  const reply = await app.call('POST', '/v1/projects', { body: { name: `Project ${Math.random().toString(36).slice(2)}`, ...body } });
  if (reply.status !== 201) throw new Error(`newProject: ${reply.status} ${reply.text}`);
  return reply.body.project.id as string;
}

async function newAccount(app: TestApp, role: Role): Promise<string> {
  const email = `${role}-${Math.random().toString(36).slice(2)}@example.com`;
  const reply = await app.call('POST', '/v1/accounts', { body: { email, name: `Target ${role}`, role } });
  if (reply.status !== 201) throw new Error(`newAccount: ${reply.status} ${reply.text}`);
  return reply.body.account.id as string;
}

/** A key created by the owner for `accountId` (never used as a credential, so it stays still). */
async function newKey(app: TestApp, accountId: string, projectId = app.projectId): Promise<{ id: string; key: string }> {
  const reply = await app.call('POST', `/v1/projects/${projectId}/keys`, { body: { accountId, name: `target ${Math.random().toString(36).slice(2)}` } });
  if (reply.status !== 201) throw new Error(`newKey: ${reply.status} ${reply.text}`);
  return { id: reply.body.apiKey.id as string, key: reply.body.apiKey.key as string };
}

/** A key as the owner reads it, and whether its secret still verifies. Verifying writes
 * lastUsedAt and usedAmount behind, so those two are left out. */
const keyState = (app: TestApp, key: { id: string; key: string }) => async () => {
  const { body } = await app.call('GET', `/v1/keys/${key.id}`);
  const { lastUsedAt: _lastUsedAt, usedAmount: _usedAmount, ...resource } = body.apiKey ?? {};
  return { resource, verifies: (await verify(app, { key: key.key })).code };
};

/** The five single-key routes, each against the caller's own key and against another account's. */
function keyRows(): Row[] {
  const rows: Row[] = [];
  const routes: { route: string; method: InjectOptions['method']; suffix: string; body?: unknown; ownAllowed: readonly Role[]; status: number }[] = [
    { route: 'GET /v1/keys/{keyId}', method: 'GET', suffix: '', ownAllowed: ALL, status: 200 },
    { route: 'PATCH /v1/keys/{keyId}', method: 'PATCH', suffix: '', body: { name: 'renamed', enabled: false }, ownAllowed: KEY_MANAGERS, status: 200 },
    { route: 'DELETE /v1/keys/{keyId}', method: 'DELETE', suffix: '', ownAllowed: KEY_MANAGERS, status: 204 },
    { route: 'POST /v1/keys/{keyId}/rotate', method: 'POST', suffix: '/rotate', body: {}, ownAllowed: KEY_MANAGERS, status: 200 },
  ];
  for (const spec of routes) {
    for (const whose of ['own', 'other'] as const) {
      rows.push({
        route: spec.route,
        target: `${whose === 'own' ? "the caller's own" : "another account's"} key`,
        allowed: whose === 'own' ? spec.ownAllowed : MANAGERS,
        status: spec.status,
        async prepare({ t: app, caller, bystander }) {
          const key = await newKey(app, whose === 'own' ? caller.accountId : bystander.accountId);
          return {
            method: spec.method,
            url: `/v1/keys/${key.id}${spec.suffix}`,
            ...(spec.body !== undefined && { body: spec.body }),
            snapshot: keyState(app, key),
            check: async (reply) => {
              if (spec.method === 'GET') expect(reply.body.apiKey.id).toBe(key.id);
              if (spec.method === 'PATCH') expect(reply.body.apiKey).toMatchObject({ name: 'renamed', enabled: false });
              if (spec.method === 'DELETE') expect((await app.call('GET', `/v1/keys/${key.id}`)).status).toBe(404);
              if (spec.suffix === '/rotate') {
                expect(reply.body.apiKey.key).not.toBe(key.key);
                expect((await verify(app, { key: reply.body.apiKey.key })).code).toBe('VALID');
              }
            },
          };
        },
      });
    }
  }
  // Reveal: in a recoverable project it returns the secret; elsewhere a permitted caller gets 409.
  for (const whose of ['own', 'other'] as const) {
    for (const recoverable of [true, false]) {
      rows.push({
        route: 'POST /v1/keys/{keyId}/reveal',
        target: `${whose === 'own' ? "the caller's own" : "another account's"} key, ${recoverable ? 'recoverable' : 'non-recoverable'} project`,
        allowed: whose === 'own' ? KEY_MANAGERS : MANAGERS,
        status: recoverable ? 200 : 409,
        async prepare({ t: app, caller, bystander }) {
          const projectId = await newProject(app, { recoverable });
          const key = await newKey(app, whose === 'own' ? caller.accountId : bystander.accountId, projectId);
          return {
            method: 'POST',
            url: `/v1/keys/${key.id}/reveal`,
            check: (reply) => {
              if (recoverable) expect(reply.body.apiKey).toMatchObject({ id: key.id, key: key.key });
              else expectError(reply, 409, 'conflictError');
            },
          };
        },
      });
    }
  }
  return rows;
}

/** Keys made by the owner and verified once each, their usage-log entries and rollups written. */
async function usedKeys(app: TestApp, ...accountIds: string[]): Promise<{ id: string; key: string }[]> {
  const keys = [];
  for (const accountId of accountIds) {
    const key = await newKey(app, accountId);
    expect((await verify(app, { key: key.key })).code).toBe('VALID');
    keys.push(key);
  }
  await app.built.logs.flush();
  return keys;
}

const loggedKeyIds = (reply: ApiResponse) => (reply.body.logs as { keyId: string | null }[]).map((log) => log.keyId);

/** Usage logs of the default project (all of them, ?keyId= the caller's own key or another account's),
 * and the usage aggregates of one key (own or another account's). */
function logRows(): Row[] {
  return [
    {
      route: 'GET /v1/projects/{projectId}/logs',
      target: 'the project’s logs (managers see all, others only their own keys’)',
      allowed: ALL,
      status: 200,
      async prepare({ t: app, caller, bystander }) {
        const [own, theirs] = await usedKeys(app, caller.accountId, bystander.accountId);
        return {
          method: 'GET',
          url: `/v1/projects/${app.projectId}/logs`,
          check: async (reply) => {
            const listed = loggedKeyIds(reply);
            expect(listed).toContain(own!.id);
            if (MANAGERS.includes(caller.role)) {
              expect(listed).toContain(theirs!.id);
            } else {
              const callersKeys = await app.call('GET', `/v1/projects/${app.projectId}/keys`, { query: { accountId: caller.accountId } });
              const ids = (callersKeys.body.apiKeys as { id: string }[]).map((key) => key.id);
              expect(listed.filter((keyId) => keyId === null || !ids.includes(keyId))).toEqual([]);
            }
          },
        };
      },
    },
    ...(['own', 'other'] as const).map(
      (whose): Row => ({
        route: 'GET /v1/projects/{projectId}/logs',
        target: `?keyId=<${whose === 'own' ? "the caller's own" : "another account's"} key>`,
        allowed: whose === 'own' ? ALL : MANAGERS,
        status: 200,
        async prepare({ t: app, caller, bystander }) {
          const [key] = await usedKeys(app, whose === 'own' ? caller.accountId : bystander.accountId);
          return {
            method: 'GET',
            url: `/v1/projects/${app.projectId}/logs`,
            query: { keyId: key!.id },
            check: (reply) => {
              expect(loggedKeyIds(reply)).toEqual([key!.id]);
              expect(reply.body.logs[0]).toMatchObject({ outcome: 'VALID', time: new Date(app.clock.now).toISOString() });
            },
          };
        },
      }),
    ),
    ...(['own', 'other'] as const).map(
      (whose): Row => ({
        route: 'GET /v1/keys/{keyId}/usage',
        target: `${whose === 'own' ? "the caller's own" : "another account's"} key`,
        allowed: whose === 'own' ? ALL : MANAGERS,
        status: 200,
        async prepare({ t: app, caller, bystander }) {
          const [key] = await usedKeys(app, whose === 'own' ? caller.accountId : bystander.accountId);
          const hour = app.clock.now - (app.clock.now % 3_600_000);
          // Read a minute later: the default window [now − 24 h, now) holds the verification's hour.
          app.clock.advance(60_000);
          return {
            method: 'GET',
            url: `/v1/keys/${key!.id}/usage`,
            check: (reply) => {
              expect(reply.body).toEqual({ usage: [{ time: new Date(hour).toISOString(), total: 1, outcomes: { VALID: 1 } }] });
            },
          };
        },
      }),
    ),
  ];
}

const WEBHOOK_URL = 'http://127.0.0.1:9/hook';

/** The push state of a key as the owner reads it. */
const pushState = (app: TestApp, keyId: string) => read(app, `/v1/keys/${keyId}/push`);

async function setWebhook(app: TestApp, keyId: string): Promise<void> {
  const reply = await app.call('PUT', `/v1/keys/${keyId}/push`, { body: { webhookUrl: WEBHOOK_URL } });
  if (reply.status !== 200) throw new Error(`setWebhook: ${reply.status} ${reply.text}`);
}

/** The five push routes, each against the caller's own key and another account's, with and
 * without a webhook address where that matters (starting a push without one is 409). */
function pushRows(): Row[] {
  const rows: Row[] = [];
  const routes: {
    route: string;
    method: InjectOptions['method'];
    suffix: string;
    body?: unknown;
    withAddress: boolean;
    ownAllowed: readonly Role[];
    status: number;
  }[] = [
    { route: 'PUT /v1/keys/{keyId}/push', method: 'PUT', suffix: '', body: { webhookUrl: WEBHOOK_URL }, withAddress: false, ownAllowed: KEY_MANAGERS, status: 200 },
    { route: 'GET /v1/keys/{keyId}/push', method: 'GET', suffix: '', withAddress: true, ownAllowed: ALL, status: 200 },
    { route: 'DELETE /v1/keys/{keyId}/push', method: 'DELETE', suffix: '', withAddress: true, ownAllowed: KEY_MANAGERS, status: 204 },
    { route: 'POST /v1/keys/{keyId}/push/realtime', method: 'POST', suffix: '/realtime', body: { enabled: true }, withAddress: true, ownAllowed: KEY_MANAGERS, status: 200 },
    { route: 'POST /v1/keys/{keyId}/push/realtime', method: 'POST', suffix: '/realtime', body: { enabled: true }, withAddress: false, ownAllowed: KEY_MANAGERS, status: 409 },
    { route: 'POST /v1/keys/{keyId}/push/history', method: 'POST', suffix: '/history', withAddress: true, ownAllowed: KEY_MANAGERS, status: 200 },
    { route: 'POST /v1/keys/{keyId}/push/history', method: 'POST', suffix: '/history', withAddress: false, ownAllowed: KEY_MANAGERS, status: 409 },
  ];
  for (const spec of routes) {
    for (const whose of ['own', 'other'] as const) {
      rows.push({
        route: spec.route,
        target: `${whose === 'own' ? "the caller's own" : "another account's"} key, ${spec.withAddress ? 'webhook address set' : 'no webhook address'}`,
        allowed: whose === 'own' ? spec.ownAllowed : MANAGERS,
        status: spec.status,
        async prepare({ t: app, caller, bystander }) {
          const key = await newKey(app, whose === 'own' ? caller.accountId : bystander.accountId);
          if (spec.withAddress) await setWebhook(app, key.id);
          return {
            method: spec.method,
            url: `/v1/keys/${key.id}/push${spec.suffix}`,
            ...(spec.body !== undefined && { body: spec.body }),
            snapshot: pushState(app, key.id),
            check: async (reply) => {
              if (spec.status === 409) return expectError(reply, 409, 'conflictError');
              if (spec.method === 'PUT') {
                expect(reply.body.push).toMatchObject({ webhookUrl: WEBHOOK_URL, realtime: false, secret: expect.stringMatching(/^whsec_/) });
              }
              if (spec.method === 'GET') expect(reply.body.push).toMatchObject({ webhookUrl: WEBHOOK_URL, realtime: false, history: { state: 'idle' } });
              if (spec.method === 'DELETE') expect((await pushState(app, key.id)()).body.push.webhookUrl).toBeNull();
              if (spec.suffix === '/realtime') expect(reply.body.push).toMatchObject({ webhookUrl: WEBHOOK_URL, realtime: true });
              if (spec.suffix === '/history') expect(reply.body.push.history).toMatchObject({ state: 'running', delivered: 0, total: expect.any(Number) });
            },
          };
        },
      });
    }
  }
  return rows;
}

/** Leak reports: any member may report a token, its own key's or another account's. */
function leakRows(): Row[] {
  return (['own', 'other'] as const).map((whose) => ({
    route: 'POST /v1/leaks',
    target: `a token of ${whose === 'own' ? "the caller's own" : "another account's"} key`,
    allowed: ALL,
    status: 200,
    async prepare({ t: app, caller, bystander }) {
      const key = await newKey(app, whose === 'own' ? caller.accountId : bystander.accountId);
      return {
        method: 'POST',
        url: '/v1/leaks',
        body: { tokens: [key.key] },
        snapshot: keyState(app, key),
        check: async (reply) => {
          expect(reply.body).toEqual({ revoked: [key.id], alreadyRevoked: [], inactive: 0, unknown: 0, malformed: 0 });
          expect(await keyState(app, key)()).toMatchObject({ resource: { enabled: false, disabledReason: 'leaked' }, verifies: 'DISABLED' });
        },
      };
    },
  }));
}

const ROWS: Row[] = [
  {
    route: 'GET /v1/workspace',
    target: 'the caller’s workspace',
    allowed: ALL,
    status: 200,
    prepare: async ({ t: app, caller }) => ({
      method: 'GET',
      url: '/v1/workspace',
      check: (reply) => {
        expect(reply.body).toMatchObject({ workspace: { id: app.workspaceId }, account: { id: caller.accountId, role: caller.role } });
        expect([...reply.body.permissions].sort()).toEqual([...permissionsOf(caller.role)].sort());
      },
    }),
  },
  {
    route: 'GET /v1/projects',
    target: 'the workspace’s projects',
    allowed: ALL,
    status: 200,
    prepare: async ({ t: app }) => ({
      method: 'GET',
      url: '/v1/projects',
      check: (reply) => expect(reply.body.projects.map((project: { id: string }) => project.id)).toContain(app.projectId),
    }),
  },
  {
    route: 'POST /v1/projects',
    target: 'a new project',
    allowed: MANAGERS,
    status: 201,
    prepare: async ({ t: app }) => ({ method: 'POST', url: '/v1/projects', body: { name: 'Made by caller' }, snapshot: read(app, '/v1/projects') }),
  },
  {
    route: 'GET /v1/projects/{projectId}',
    target: 'a project',
    allowed: ALL,
    status: 200,
    prepare: async ({ t: app }) => ({ method: 'GET', url: `/v1/projects/${app.projectId}` }),
  },
  {
    route: 'PATCH /v1/projects/{projectId}',
    target: 'a project',
    allowed: MANAGERS,
    status: 200,
    async prepare({ t: app }) {
      const projectId = await newProject(app);
      return {
        method: 'PATCH',
        url: `/v1/projects/${projectId}`,
        body: { name: 'Renamed', scopes: ['only_this'], recoverable: true },
        snapshot: read(app, `/v1/projects/${projectId}`),
      };
    },
  },
  {
    route: 'DELETE /v1/projects/{projectId}',
    target: 'an empty project',
    allowed: MANAGERS,
    status: 204,
    async prepare({ t: app }) {
      const projectId = await newProject(app);
      return { method: 'DELETE', url: `/v1/projects/${projectId}`, snapshot: read(app, `/v1/projects/${projectId}`) };
    },
  },
  {
    route: 'GET /v1/accounts',
    target: 'the members',
    allowed: MANAGERS,
    status: 200,
    prepare: async () => ({ method: 'GET', url: '/v1/accounts' }),
  },
  {
    route: 'POST /v1/accounts',
    target: 'a new developer',
    allowed: MANAGERS,
    status: 201,
    prepare: async ({ t: app }) => ({
      method: 'POST',
      url: '/v1/accounts',
      body: { email: 'new-developer@example.com', name: 'New developer', role: 'developer' },
      snapshot: read(app, '/v1/accounts'),
    }),
  },
  {
    route: 'POST /v1/accounts',
    target: 'a new owner',
    allowed: OWNER,
    status: 201,
    prepare: async ({ t: app }) => ({
      method: 'POST',
      url: '/v1/accounts',
      body: { email: 'new-owner@example.com', name: 'New owner', role: 'owner' },
      snapshot: read(app, '/v1/accounts'),
    }),
  },
  {
    route: 'GET /v1/accounts/{accountId}',
    target: 'the caller’s own account',
    allowed: ALL,
    status: 200,
    prepare: async ({ caller }) => ({
      method: 'GET',
      url: `/v1/accounts/${caller.accountId}`,
      check: (reply) => expect(reply.body.account).toMatchObject({ id: caller.accountId, role: caller.role }),
    }),
  },
  {
    route: 'GET /v1/accounts/{accountId}',
    target: 'another account',
    allowed: MANAGERS,
    status: 200,
    prepare: async ({ bystander }) => ({ method: 'GET', url: `/v1/accounts/${bystander.accountId}` }),
  },
  {
    route: 'PATCH /v1/accounts/{accountId}',
    target: 'the caller’s own name',
    allowed: ALL,
    status: 200,
    prepare: async ({ caller }) => ({
      method: 'PATCH',
      url: `/v1/accounts/${caller.accountId}`,
      body: { name: 'My new name' },
      check: (reply) => expect(reply.body.account).toMatchObject({ id: caller.accountId, name: 'My new name', role: caller.role }),
    }),
  },
  {
    route: 'PATCH /v1/accounts/{accountId}',
    target: 'the caller’s own role → owner (self-promotion)',
    allowed: OWNER, // a no-op for an owner
    status: 200,
    prepare: async ({ t: app, caller }) => ({
      method: 'PATCH',
      url: `/v1/accounts/${caller.accountId}`,
      body: { role: 'owner' },
      snapshot: read(app, `/v1/accounts/${caller.accountId}`),
    }),
  },
  {
    route: 'PATCH /v1/accounts/{accountId}',
    target: 'another developer’s role → viewer',
    allowed: MANAGERS,
    status: 200,
    prepare: async ({ t: app, bystander }) => ({
      method: 'PATCH',
      url: `/v1/accounts/${bystander.accountId}`,
      body: { role: 'viewer' },
      snapshot: read(app, `/v1/accounts/${bystander.accountId}`),
      check: (reply) => expect(reply.body.account.role).toBe('viewer'),
    }),
  },
  {
    route: 'PATCH /v1/accounts/{accountId}',
    target: 'another developer’s role → owner (promotion)',
    allowed: OWNER,
    status: 200,
    prepare: async ({ t: app, bystander }) => ({
      method: 'PATCH',
      url: `/v1/accounts/${bystander.accountId}`,
      body: { role: 'owner' },
      snapshot: read(app, `/v1/accounts/${bystander.accountId}`),
      check: (reply) => expect(reply.body.account.role).toBe('owner'),
    }),
  },
  {
    route: 'PATCH /v1/accounts/{accountId}',
    target: 'another owner’s role → admin (demotion)',
    allowed: OWNER,
    status: 200,
    async prepare({ t: app }) {
      const ownerId = await newAccount(app, 'owner');
      return {
        method: 'PATCH',
        url: `/v1/accounts/${ownerId}`,
        body: { role: 'admin' },
        snapshot: read(app, `/v1/accounts/${ownerId}`),
        check: (reply) => expect(reply.body.account.role).toBe('admin'),
      };
    },
  },
  {
    route: 'DELETE /v1/accounts/{accountId}',
    target: 'another developer',
    allowed: MANAGERS,
    status: 204,
    prepare: async ({ t: app, bystander }) => ({
      method: 'DELETE',
      url: `/v1/accounts/${bystander.accountId}`,
      snapshot: async () => ({ account: await read(app, `/v1/accounts/${bystander.accountId}`)(), key: await read(app, `/v1/keys/${bystander.keyId}`)() }),
    }),
  },
  {
    route: 'DELETE /v1/accounts/{accountId}',
    target: 'another owner',
    allowed: OWNER,
    status: 204,
    async prepare({ t: app }) {
      const ownerId = await newAccount(app, 'owner');
      return { method: 'DELETE', url: `/v1/accounts/${ownerId}`, snapshot: read(app, `/v1/accounts/${ownerId}`) };
    },
  },
  {
    route: 'POST /v1/projects/{projectId}/keys',
    target: 'a key for the caller',
    allowed: KEY_MANAGERS,
    status: 201,
    prepare: async ({ t: app, caller }) => ({
      method: 'POST',
      url: `/v1/projects/${app.projectId}/keys`,
      body: { name: 'my new key' },
      snapshot: keyIds(app, app.projectId),
      check: (reply) => expect(reply.body.apiKey).toMatchObject({ accountId: caller.accountId, projectId: app.projectId, key: expect.any(String) }),
    }),
  },
  {
    route: 'POST /v1/projects/{projectId}/keys',
    target: 'a key for another account',
    allowed: MANAGERS,
    status: 201,
    prepare: async ({ t: app, bystander }) => ({
      method: 'POST',
      url: `/v1/projects/${app.projectId}/keys`,
      body: { name: 'their new key', accountId: bystander.accountId },
      snapshot: keyIds(app, app.projectId),
      check: (reply) => expect(reply.body.apiKey.accountId).toBe(bystander.accountId),
    }),
  },
  {
    route: 'GET /v1/projects/{projectId}/keys',
    target: 'the project’s keys (managers see all, others only their own)',
    allowed: ALL,
    status: 200,
    async prepare({ t: app, caller, bystander }) {
      const own = await newKey(app, caller.accountId);
      return {
        method: 'GET',
        url: `/v1/projects/${app.projectId}/keys`,
        check: (reply) => {
          const listed = reply.body.apiKeys as { id: string; accountId: string }[];
          expect(listed.map((key) => key.id)).toContain(own.id);
          expect(reply.body.total).toBe(listed.length);
          if (MANAGERS.includes(caller.role)) expect(listed.map((key) => key.id)).toContain(bystander.keyId);
          else expect(listed.every((key) => key.accountId === caller.accountId)).toBe(true);
        },
      };
    },
  },
  {
    route: 'GET /v1/projects/{projectId}/keys',
    target: '?accountId=<another account>',
    allowed: MANAGERS,
    status: 200,
    prepare: async ({ t: app, bystander }) => ({
      method: 'GET',
      url: `/v1/projects/${app.projectId}/keys`,
      query: { accountId: bystander.accountId },
      check: (reply) => expect(reply.body.apiKeys.map((key: { id: string }) => key.id)).toEqual([bystander.keyId]),
    }),
  },
  {
    route: 'GET /v1/projects/{projectId}/keys',
    target: '?accountId=<the caller>',
    allowed: ALL,
    status: 200,
    prepare: async ({ t: app, caller }) => ({
      method: 'GET',
      url: `/v1/projects/${app.projectId}/keys`,
      query: { accountId: caller.accountId },
      check: (reply) => expect(reply.body.apiKeys.every((key: { accountId: string }) => key.accountId === caller.accountId)).toBe(true),
    }),
  },
  ...keyRows(),
  ...logRows(),
  {
    route: 'GET /v1/audit-log',
    target: 'the workspace’s audit entries',
    allowed: MANAGERS,
    status: 200,
    prepare: async ({ bystander }) => ({
      method: 'GET',
      url: '/v1/audit-log',
      check: (reply) =>
        expect(reply.body.entries).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ action: 'account.created', target: { type: 'account', id: bystander.accountId } }),
            expect.objectContaining({ action: 'key.created', target: { type: 'key', id: bystander.keyId } }),
          ]),
        ),
    }),
  },
  ...pushRows(),
  ...leakRows(),
];

/** Every admin route of the API contract; the table must have a row for each, and nothing else. */
const ADMIN_ROUTES = [
  'GET /v1/workspace',
  'GET /v1/projects',
  'POST /v1/projects',
  'GET /v1/projects/{projectId}',
  'PATCH /v1/projects/{projectId}',
  'DELETE /v1/projects/{projectId}',
  'GET /v1/accounts',
  'POST /v1/accounts',
  'GET /v1/accounts/{accountId}',
  'PATCH /v1/accounts/{accountId}',
  'DELETE /v1/accounts/{accountId}',
  'POST /v1/projects/{projectId}/keys',
  'GET /v1/projects/{projectId}/keys',
  'GET /v1/keys/{keyId}',
  'PATCH /v1/keys/{keyId}',
  'DELETE /v1/keys/{keyId}',
  'POST /v1/keys/{keyId}/rotate',
  'POST /v1/keys/{keyId}/reveal',
  'GET /v1/projects/{projectId}/logs',
  'GET /v1/keys/{keyId}/usage',
  'GET /v1/audit-log',
  'PUT /v1/keys/{keyId}/push',
  'GET /v1/keys/{keyId}/push',
  'DELETE /v1/keys/{keyId}/push',
  'POST /v1/keys/{keyId}/push/realtime',
  'POST /v1/keys/{keyId}/push/history',
  'POST /v1/leaks',
];

async function contextFor(app: TestApp, role: Role): Promise<Context> {
  const caller: Caller =
    role === 'owner' ? { role, accountId: app.ownerId, token: app.ownerKey } : { role, ...(await addMember(app, role)) };
  const bystanderId = await newAccount(app, 'developer');
  const bystanderKey = await newKey(app, bystanderId);
  return { t: app, caller, bystander: { accountId: bystanderId, keyId: bystanderKey.id } };
}

async function send(app: TestApp, prepared: Prepared, token: string | null, headers?: Record<string, string>): Promise<ApiResponse> {
  return app.call(prepared.method, prepared.url, {
    token,
    ...(prepared.body !== undefined && { body: prepared.body }),
    ...(prepared.query !== undefined && { query: prepared.query }),
    ...(headers !== undefined && { headers }),
  });
}

describe('role × route matrix', () => {
  it('has a row for every admin route, and every admin route the server documents is in it', async () => {
    expect([...new Set(ROWS.map((row) => row.route))].sort()).toEqual([...ADMIN_ROUTES].sort());
    const openapi = await t.call('GET', '/openapi.json', { token: null });
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(openapi.body.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        if ((operation.security?.length ?? 0) > 0) documented.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(documented.filter((route) => !ADMIN_ROUTES.includes(route))).toEqual([]);
    expect(ADMIN_ROUTES.filter((route) => !documented.includes(route))).toEqual([]);
  });

  for (const row of ROWS) {
    describe(`${row.route} — ${row.target}`, () => {
      for (const role of ROLES) {
        const allowed = row.allowed.includes(role);
        it(`${role}: ${allowed ? `allowed (${row.status})` : 'refused (403)'}`, async () => {
          const ctx = await contextFor(t, role);
          const prepared = await row.prepare(ctx);
          const before = await prepared.snapshot?.();
          const reply = await send(t, prepared, ctx.caller.token);
          if (allowed) {
            expect({ status: reply.status, body: reply.status === row.status ? 'as expected' : reply.body }).toEqual({
              status: row.status,
              body: 'as expected',
            });
            await prepared.check?.(reply);
          } else {
            expectForbidden(reply);
            if (prepared.snapshot !== undefined) expect(await prepared.snapshot()).toEqual(before);
          }
        });
      }
    });
  }

  const firstRowOfEachRoute = ADMIN_ROUTES.map((route) => ROWS.find((row) => row.route === route)!);
  for (const row of firstRowOfEachRoute) {
    describe(`${row.route} without a usable credential`, () => {
      for (const credential of UNUSABLE_CREDENTIALS) {
        it(`${credential.name} → 401`, async () => {
          const ctx = await contextFor(t, 'owner');
          const prepared = await row.prepare(ctx);
          const before = await prepared.snapshot?.();
          expectUnauthenticated(await send(t, prepared, credential.token, credential.headers));
          if (prepared.snapshot !== undefined) expect(await prepared.snapshot()).toEqual(before);
        });
      }
    });
  }
});

// /metrics is not an admin route (no row above), but it takes the same credentials unless public.
describe('GET /metrics', () => {
  for (const credential of UNUSABLE_CREDENTIALS) {
    it(`${credential.name} → 401`, async () => {
      expectUnauthenticated(await t.call('GET', '/metrics', { token: credential.token, ...(credential.headers !== undefined && { headers: credential.headers }) }));
    });
  }

  it('a key without the admin scope → 403', async () => {
    const dataKey = await createKey(t, { scopes: ['inference'] });
    expectForbidden(await t.call('GET', '/metrics', { token: dataKey.key }));
  });

  it('an admin credential → 200 Prometheus text', async () => {
    const reply = await t.call('GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toEqual(expect.stringContaining('text/plain'));
    expect(reply.text).toContain('keyward_verifications_total');
  });

  it('KEYWARD_METRICS_PUBLIC=true → 200 without a credential', async () => {
    const open = await startApp({ env: { KEYWARD_METRICS_PUBLIC: 'true' } });
    try {
      const reply = await open.call('GET', '/metrics', { token: null });
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('keyward_verifications_total');
    } finally {
      await open.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('cross-workspace isolation', () => {
  it('another workspace’s owner sees 404 for everything of this one and changes nothing', async () => {
    const other = await createWorkspace(t.built.services.storage.db, {
      name: 'Other tenant',
      ownerEmail: 'other-owner@example.com',
      withAdminKey: true,
      now: t.clock.now,
      masterKey: loadMasterKey(t.config.masterKey, t.dataDir),
    });
    const intruder = other.adminKey!.token;
    expect((await t.call('GET', '/v1/workspace', { token: intruder })).body.workspace.id).toBe(other.workspaceId);

    // Targets in the first workspace: a recoverable project with a key in it (used once, so it has
    // logs and usage, and with a webhook address), and a member.
    const projectId = await newProject(t, { recoverable: true });
    const key = await newKey(t, t.ownerId, projectId);
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    await t.built.logs.flush();
    await setWebhook(t, key.id);
    const memberId = await newAccount(t, 'developer');
    const theirAudit = await t.call('GET', '/v1/audit-log');
    expect(theirAudit.body.entries.length).toBeGreaterThan(0);
    const snapshot = async () => ({
      key: await read(t, `/v1/keys/${key.id}`)(),
      logs: await read(t, `/v1/projects/${projectId}/logs`)(),
      usage: await read(t, `/v1/keys/${key.id}/usage`)(),
      push: await pushState(t, key.id)(),
      audit: await read(t, '/v1/audit-log')(),
      project: await read(t, `/v1/projects/${projectId}`)(),
      account: await read(t, `/v1/accounts/${memberId}`)(),
      projects: await read(t, '/v1/projects')(),
      accounts: await read(t, '/v1/accounts')(),
      keys: await keyIds(t, projectId)(),
      defaultKeys: await keyIds(t, t.projectId)(),
    });
    const before = await snapshot();

    const attempts: { method: InjectOptions['method']; url: string; body?: unknown; query?: Record<string, string> }[] = [
      { method: 'GET', url: `/v1/keys/${key.id}` },
      { method: 'PATCH', url: `/v1/keys/${key.id}`, body: { name: 'hijacked', enabled: false } },
      { method: 'POST', url: `/v1/keys/${key.id}/rotate`, body: {} },
      { method: 'POST', url: `/v1/keys/${key.id}/reveal` },
      { method: 'DELETE', url: `/v1/keys/${key.id}` },
      { method: 'GET', url: `/v1/projects/${projectId}` },
      { method: 'PATCH', url: `/v1/projects/${projectId}`, body: { name: 'hijacked' } },
      { method: 'DELETE', url: `/v1/projects/${projectId}`, query: { force: 'true' } },
      { method: 'GET', url: `/v1/accounts/${memberId}` },
      { method: 'PATCH', url: `/v1/accounts/${memberId}`, body: { role: 'viewer', name: 'hijacked' } },
      { method: 'DELETE', url: `/v1/accounts/${memberId}` },
      { method: 'GET', url: `/v1/projects/${projectId}/keys` },
      { method: 'GET', url: `/v1/projects/${t.projectId}/keys` },
      { method: 'POST', url: `/v1/projects/${projectId}/keys`, body: { name: 'planted' } },
      { method: 'POST', url: `/v1/projects/${t.projectId}/keys`, body: { name: 'planted', scopes: ['admin'] } },
      // Its own project, but an account of the first workspace as the key's owner.
      { method: 'POST', url: `/v1/projects/${other.projectId}/keys`, body: { name: 'planted', accountId: memberId } },
      { method: 'GET', url: `/v1/projects/${projectId}/logs` },
      { method: 'GET', url: `/v1/projects/${projectId}/logs`, query: { keyId: key.id } },
      // Its own project, but a key of the first workspace as the filter.
      { method: 'GET', url: `/v1/projects/${other.projectId}/logs`, query: { keyId: key.id } },
      { method: 'GET', url: `/v1/keys/${key.id}/usage` },
      { method: 'GET', url: `/v1/keys/${key.id}/push` },
      { method: 'PUT', url: `/v1/keys/${key.id}/push`, body: { webhookUrl: 'http://127.0.0.1:9/hijacked' } },
      { method: 'POST', url: `/v1/keys/${key.id}/push/realtime`, body: { enabled: true } },
      { method: 'POST', url: `/v1/keys/${key.id}/push/history` },
      { method: 'DELETE', url: `/v1/keys/${key.id}/push` },
    ];
    const outcomes = [];
    for (const attempt of attempts) {
      const reply = await t.call(attempt.method, attempt.url, {
        token: intruder,
        ...(attempt.body !== undefined && { body: attempt.body }),
        ...(attempt.query !== undefined && { query: attempt.query }),
      });
      outcomes.push({ attempt: `${attempt.method} ${attempt.url}`, status: reply.status, body: reply.body });
    }
    const notFoundEnvelope = { status: 'error', type: 'notFoundError', error: { message: expect.any(String) } };
    expect(outcomes).toEqual(attempts.map((attempt) => ({ attempt: `${attempt.method} ${attempt.url}`, status: 404, body: notFoundEnvelope })));

    // The other owner's lists hold only its own workspace.
    const theirProjects = await t.call('GET', '/v1/projects', { token: intruder });
    expect(theirProjects.body.projects.map((project: { id: string }) => project.id)).toEqual([other.projectId]);
    const theirAccounts = await t.call('GET', '/v1/accounts', { token: intruder });
    expect(theirAccounts.body.accounts.map((account: { id: string }) => account.id)).toEqual([other.accountId]);
    // Its audit log holds none of the first workspace's entries, whatever the filter.
    const firstEntryIds = (theirAudit.body.entries as { id: string }[]).map((entry) => entry.id);
    for (const query of [{}, { projectId }, { targetId: key.id }, { targetType: 'key' }, { actorId: t.ownerId }] as Record<string, string>[]) {
      const audit = await t.call('GET', '/v1/audit-log', { token: intruder, query });
      expect({ query, status: audit.status }).toEqual({ query, status: 200 });
      const seen = audit.body.entries as { id: string; target: { id: string }; projectId: string | null }[];
      expect(seen.filter((entry) => firstEntryIds.includes(entry.id) || entry.target.id === key.id || entry.projectId === projectId)).toEqual([]);
    }
    // Its leak report of the first workspace's token revokes nothing: the token is unknown to it.
    const leak = await t.call('POST', '/v1/leaks', { token: intruder, body: { tokens: [key.key] } });
    expect({ status: leak.status, body: leak.body }).toEqual({
      status: 200,
      body: { revoked: [], alreadyRevoked: [], inactive: 0, unknown: 1, malformed: 0 },
    });

    // Nothing changed, and the key still verifies with its original secret.
    expect(await snapshot()).toEqual(before);
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
  });
});

describe('permissions follow the account', () => {
  it('a demoted developer’s admin key loses key creation at once; a removed account’s key stops working', async () => {
    const developer = await addMember(t, 'developer');
    const own = await createKey(t, { name: 'mine' }, developer.token);
    expect(own.accountId).toBe(developer.accountId);

    const demoted = await t.call('PATCH', `/v1/accounts/${developer.accountId}`, { body: { role: 'viewer' } });
    expect(demoted.status).toBe(200);
    expectForbidden(await t.call('POST', `/v1/projects/${t.projectId}/keys`, { token: developer.token, body: { name: 'another' } }));
    // Still a member: it reads as a viewer now.
    const workspace = await t.call('GET', '/v1/workspace', { token: developer.token });
    expect(workspace.status).toBe(200);
    expect([...workspace.body.permissions].sort()).toEqual([...permissionsOf('viewer')].sort());

    expect((await t.call('DELETE', `/v1/accounts/${developer.accountId}`)).status).toBe(204);
    expectUnauthenticated(await t.call('GET', '/v1/workspace', { token: developer.token }));
    expectUnauthenticated(await t.call('POST', `/v1/projects/${t.projectId}/keys`, { token: developer.token, body: { name: 'ghost' } }));
  });
});
