import { afterEach, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { addMember, startApp, type CallOptions, type StartOptions, type TestApp } from '../../test/helpers.js';
import { createWorkspace } from '../workspaces/service.js';
import { loadMasterKey } from '../secrets/master-key.js';

// Webhook targets on loopback are allowed so push can be configured; nothing needs to arrive
// (port 9 refuses), and a long retry delay keeps the dispatcher quiet.
const ENV = { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true', KEYWARD_USAGE_FLUSH_MS: '60000' };
const WEBHOOK = 'http://127.0.0.1:9/';
const ROOT_KEY = 'root-key-for-audit-log-tests-0123456789abcdef';

let t: TestApp;
async function start(options: StartOptions = {}): Promise<TestApp> {
  t = await startApp({ push: { retryBaseMs: 600_000, timeoutMs: 1000 }, ...options, env: { ...ENV, ...options.env } });
  return t;
}
afterEach(async () => {
  await t.close();
});

interface Entry {
  id: string;
  time: string;
  actor: { accountId: string | null; credential: 'key' | 'root'; keyId: string | null };
  action: string;
  target: { type: string; id: string };
  projectId: string | null;
  changes: Record<string, { before: unknown; after: unknown }> | null;
  ip: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function auditLog(query: Record<string, string | number> = {}, token?: string) {
  return t.call('GET', '/v1/audit-log', { query: { limit: 1000, ...query }, ...(token !== undefined && { token }) });
}

async function entries(query: Record<string, string | number> = {}, token?: string): Promise<Entry[]> {
  const response = await auditLog(query, token);
  expect(response.status, response.text).toBe(200);
  return response.body.entries;
}

async function ok(method: InjectOptions['method'], url: string, status: number, options: CallOptions = {}) {
  const response = await t.call(method, url, options);
  expect(response.status, `${method} ${url}: ${response.text}`).toBe(status);
  return response.body;
}

async function ownerKeyId(): Promise<string> {
  return (await ok('GET', '/v1/workspace', 200)).credential.keyId;
}

async function otherWorkspace(email: string) {
  return createWorkspace(t.built.services.storage.db, {
    name: 'Other tenant',
    ownerEmail: email,
    withAdminKey: true,
    now: t.clock.now,
    masterKey: loadMasterKey(t.config.masterKey, t.dataDir),
  });
}

describe('every admin change is audited', () => {
  it('records actor, credential, action, target, before/after, time and ip — never a secret', async () => {
    await start();
    const keyId = await ownerKeyId();
    const secrets: string[] = [t.ownerKey];
    const ids: Record<string, string> = {};

    interface Step {
      name: string;
      run: () => Promise<void>;
      /** The entries the step adds, oldest first. */
      expect: () => Partial<Entry>[];
    }
    const steps: Step[] = [
      {
        name: 'project create',
        run: async () => {
          ids.project = (await ok('POST', '/v1/projects', 201, { body: { name: 'Audited', recoverable: true } })).project.id;
        },
        expect: () => [{ action: 'project.created', target: { type: 'project', id: ids.project! }, projectId: ids.project! }],
      },
      {
        name: 'project update',
        run: async () => void (await ok('PATCH', `/v1/projects/${ids.project}`, 200, { body: { name: 'Audited 2', maxKeysPerAccount: 20 } })),
        expect: () => [
          {
            action: 'project.updated',
            target: { type: 'project', id: ids.project! },
            projectId: ids.project!,
            changes: { name: { before: 'Audited', after: 'Audited 2' }, maxKeysPerAccount: { before: 10, after: 20 } },
          },
        ],
      },
      {
        name: 'key create',
        run: async () => {
          const apiKey = (await ok('POST', `/v1/projects/${ids.project}/keys`, 201, { body: { name: 'audited key' } })).apiKey;
          ids.key = apiKey.id;
          secrets.push(apiKey.key);
        },
        expect: () => [{ action: 'key.created', target: { type: 'key', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'key update',
        run: async () => void (await ok('PATCH', `/v1/keys/${ids.key}`, 200, { body: { name: 'renamed', scopes: ['inference'], limitedAmount: 5 } })),
        expect: () => [
          {
            action: 'key.updated',
            target: { type: 'key', id: ids.key! },
            projectId: ids.project!,
            changes: {
              name: { before: 'audited key', after: 'renamed' },
              scopes: { before: [], after: ['inference'] },
              limitedAmount: { before: null, after: 5 },
            },
          },
        ],
      },
      {
        name: 'key rotate',
        run: async () => {
          const apiKey = (await ok('POST', `/v1/keys/${ids.key}/rotate`, 200, { body: { gracePeriodSeconds: 60 } })).apiKey;
          secrets.push(apiKey.key);
          ids.start = apiKey.start;
        },
        expect: () => [{ action: 'key.rotated', target: { type: 'key', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'key reveal',
        run: async () => {
          const revealed = (await ok('POST', `/v1/keys/${ids.key}/reveal`, 200)).apiKey;
          expect(secrets).toContain(revealed.key);
        },
        expect: () => [{ action: 'key.revealed', target: { type: 'key', id: ids.key! }, projectId: ids.project!, changes: null }],
      },
      {
        name: 'push configure',
        run: async () => {
          const push = (await ok('PUT', `/v1/keys/${ids.key}/push`, 200, { body: { webhookUrl: WEBHOOK } })).push;
          expect(push.secret).toMatch(/^whsec_/);
          secrets.push(push.secret, push.secret.slice('whsec_'.length));
        },
        expect: () => [
          {
            action: 'push.configured',
            target: { type: 'push', id: ids.key! },
            projectId: ids.project!,
            changes: { webhookUrl: { before: null, after: WEBHOOK }, secret: { before: null, after: '(new)' } },
          },
        ],
      },
      {
        name: 'push realtime start',
        run: async () => void (await ok('POST', `/v1/keys/${ids.key}/push/realtime`, 200, { body: { enabled: true } })),
        expect: () => [{ action: 'push.realtime_started', target: { type: 'push', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'push history start',
        run: async () => void (await ok('POST', `/v1/keys/${ids.key}/push/history`, 200)),
        expect: () => [{ action: 'push.history_started', target: { type: 'push', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'push realtime stop',
        run: async () => void (await ok('POST', `/v1/keys/${ids.key}/push/realtime`, 200, { body: { enabled: false } })),
        expect: () => [{ action: 'push.realtime_stopped', target: { type: 'push', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'push remove',
        run: async () => void (await ok('DELETE', `/v1/keys/${ids.key}/push`, 204)),
        expect: () => [{ action: 'push.removed', target: { type: 'push', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'identity key create',
        run: async () => {
          const apiKey = (await ok('POST', `/v1/projects/${ids.project}/keys`, 201, { body: { name: 'proxy', type: 'identity' } })).apiKey;
          ids.identity = apiKey.id;
          ids.identityCredential = `${apiKey.username}:${apiKey.password}`;
          secrets.push(apiKey.password);
        },
        expect: () => [{ action: 'key.created', target: { type: 'key', id: ids.identity! }, projectId: ids.project! }],
      },
      {
        name: 'leak revocation',
        run: async () => {
          expect((await ok('POST', '/v1/leaks', 200, { body: { tokens: [ids.identityCredential] } })).revoked).toEqual([ids.identity]);
        },
        expect: () => [
          {
            action: 'key.leaked',
            target: { type: 'key', id: ids.identity! },
            projectId: ids.project!,
            changes: { enabled: { before: true, after: false }, disabledReason: { before: null, after: 'leaked' } },
          },
        ],
      },
      {
        name: 'key delete',
        run: async () => void (await ok('DELETE', `/v1/keys/${ids.key}`, 204)),
        expect: () => [{ action: 'key.deleted', target: { type: 'key', id: ids.key! }, projectId: ids.project! }],
      },
      {
        name: 'account create (with a password)',
        run: async () => {
          const password = 'account-password-never-logged-1';
          secrets.push(password);
          const body = { email: 'Audited.Member@example.com', name: 'Member', role: 'developer', password };
          ids.account = (await ok('POST', '/v1/accounts', 201, { body })).account.id;
        },
        expect: () => [
          {
            action: 'account.created',
            target: { type: 'account', id: ids.account! },
            projectId: null,
            changes: { email: { before: null, after: 'audited.member@example.com' }, role: { before: null, after: 'developer' } },
          },
        ],
      },
      {
        name: 'account role change',
        run: async () => void (await ok('PATCH', `/v1/accounts/${ids.account}`, 200, { body: { role: 'viewer' } })),
        expect: () => [
          { action: 'account.role_changed', target: { type: 'account', id: ids.account! }, projectId: null, changes: { role: { before: 'developer', after: 'viewer' } } },
        ],
      },
      {
        name: 'account password change',
        run: async () => {
          const password = 'another-password-never-logged-2';
          secrets.push(password);
          await ok('PATCH', `/v1/accounts/${ids.account}`, 200, { body: { password, name: 'Member 2' } });
        },
        expect: () => [
          {
            action: 'account.updated',
            target: { type: 'account', id: ids.account! },
            projectId: null,
            changes: { name: { before: 'Member', after: 'Member 2' }, password: { before: null, after: '(changed)' } },
          },
        ],
      },
      {
        name: 'account delete (with its key)',
        run: async () => {
          const apiKey = (await ok('POST', `/v1/projects/${ids.project}/keys`, 201, { body: { accountId: ids.account, name: 'members' } })).apiKey;
          ids.memberKey = apiKey.id;
          secrets.push(apiKey.key);
          t.clock.advance(1000);
          await ok('DELETE', `/v1/accounts/${ids.account}`, 204);
        },
        expect: (): Partial<Entry>[] => [
          { action: 'key.created', target: { type: 'key', id: ids.memberKey! } },
          {
            action: 'key.deleted',
            target: { type: 'key', id: ids.memberKey! },
            projectId: ids.project!,
            changes: { reason: { before: null, after: 'account deleted' } },
          },
          {
            action: 'account.deleted',
            target: { type: 'account', id: ids.account! },
            projectId: null,
            changes: { email: { before: 'audited.member@example.com', after: null }, role: { before: 'viewer', after: null } },
          },
        ],
      },
      {
        name: 'project delete',
        run: async () => void (await ok('DELETE', `/v1/projects/${ids.project}`, 204, { query: { force: true } })),
        // Its remaining key is deleted with it, audited like a single delete.
        expect: () => [
          {
            action: 'key.deleted',
            target: { type: 'key', id: ids.identity! },
            projectId: ids.project!,
            changes: { reason: { before: null, after: 'project deleted' } },
          },
          {
            action: 'project.deleted',
            target: { type: 'project', id: ids.project! },
            projectId: ids.project!,
            changes: { name: { before: 'Audited 2', after: null }, keys: { before: 1, after: 0 } },
          },
        ],
      },
    ];

    const before = (await entries()).length;
    const expected: Partial<Entry>[] = [];
    for (const step of steps) {
      t.clock.advance(1000);
      const seen = (await entries()).length;
      await step.run();
      const now = await entries();
      const added = now.slice(0, now.length - seen).reverse();
      const wanted = step.expect();
      expect(added.map((entry) => entry.action), step.name).toEqual(wanted.map((entry) => entry.action));
      for (const [i, entry] of added.entries()) {
        expect(entry, step.name).toMatchObject({
          actor: { accountId: t.ownerId, credential: 'key', keyId },
          ip: '127.0.0.1',
          ...wanted[i],
        });
        if (wanted[i]!.changes !== undefined) expect(entry.changes, step.name).toEqual(wanted[i]!.changes);
        expect(entry.id).toMatch(/^aud_[0-9A-Z]{26}$/);
      }
      expect(added.at(-1)!.time, step.name).toBe(iso(t.clock.now));
      expected.push(...wanted);
    }

    // The rotation diff shows the new display prefix and the grace period, not the token.
    const [rotated] = await entries({ action: 'key.rotated' });
    expect(rotated!.changes).toMatchObject({ gracePeriodSeconds: { before: null, after: 60 }, start: { after: ids.start } });

    const response = await auditLog();
    expect(response.body.entries).toHaveLength(before + expected.length);
    for (const secret of secrets) expect(response.text, 'a secret leaked into the audit log').not.toContain(secret);
    expect(response.text).not.toContain('whsec_');
  });

  it('names the credential used: the key id for Bearer, X-API-Key and Basic; root for KEYWARD_ROOT_KEY', async () => {
    await start({ env: { KEYWARD_ROOT_KEY: ROOT_KEY } });
    const keyId = await ownerKeyId();
    const basic = `Basic ${Buffer.from(`${keyId}:${t.ownerKey}`).toString('base64')}`;
    const table: { name: string; options: CallOptions; actor: Entry['actor'] }[] = [
      { name: 'bearer', options: {}, actor: { accountId: t.ownerId, credential: 'key', keyId } },
      { name: 'x-api-key', options: { token: null, headers: { 'x-api-key': t.ownerKey } }, actor: { accountId: t.ownerId, credential: 'key', keyId } },
      { name: 'basic', options: { headers: { authorization: basic } }, actor: { accountId: t.ownerId, credential: 'key', keyId } },
      { name: 'root', options: { token: ROOT_KEY }, actor: { accountId: t.ownerId, credential: 'root', keyId: null } },
    ];
    for (const row of table) {
      const project = (await ok('POST', '/v1/projects', 201, { ...row.options, body: { name: `via ${row.name}` } })).project;
      const [entry] = await entries({ targetId: project.id });
      expect(entry, row.name).toMatchObject({ action: 'project.created', actor: row.actor, ip: '127.0.0.1' });
    }
    const text = (await auditLog()).text;
    expect(text).not.toContain(ROOT_KEY);
    expect(text).not.toContain(t.ownerKey);
  });

  it('a developer’s own changes are audited under its account and key', async () => {
    await start();
    const dev = await addMember(t, 'developer');
    const key = (await ok('POST', `/v1/projects/${t.projectId}/keys`, 201, { token: dev.token, body: { name: 'dev key' } })).apiKey;
    await ok('PATCH', `/v1/keys/${key.id}`, 200, { token: dev.token, body: { enabled: false } });
    const mine = await entries({ actorId: dev.accountId });
    expect(mine.map((entry) => [entry.action, entry.target.id])).toEqual([
      ['key.updated', key.id],
      ['key.created', key.id],
    ]);
    expect(mine[0]).toMatchObject({ actor: { accountId: dev.accountId, credential: 'key', keyId: dev.keyId }, changes: { enabled: { before: true, after: false } } });
  });

  it('a change that changes nothing is not audited; a refused change is not audited', async () => {
    await start();
    const key = (await ok('POST', `/v1/projects/${t.projectId}/keys`, 201, { body: { name: 'same' } })).apiKey;
    const before = await entries();
    await ok('PATCH', `/v1/keys/${key.id}`, 200, { body: { name: 'same' } });
    await ok('PATCH', `/v1/keys/${key.id}`, 400, { body: { scopes: ['nope'] } });
    const dev = await addMember(t, 'developer');
    const afterMember = await entries();
    await ok('DELETE', `/v1/keys/${key.id}`, 403, { token: dev.token });
    expect(await entries()).toEqual(afterMember);
    expect(afterMember.slice(2)).toEqual(before); // only addMember's account + key
  });
});

describe('GET /v1/audit-log', () => {
  /** Entries made by two actors in two projects over time. */
  async function seed() {
    const admin = await addMember(t, 'admin');
    const p1 = (await ok('POST', '/v1/projects', 201, { body: { name: 'P1' } })).project.id as string;
    const p2 = (await ok('POST', '/v1/projects', 201, { token: admin.token, body: { name: 'P2' } })).project.id as string;
    const keys: string[] = [];
    for (let i = 0; i < 6; i++) {
      t.clock.advance(60_000);
      const token = i % 2 === 0 ? t.ownerKey : admin.token;
      const projectId = i % 3 === 0 ? p1 : p2;
      const key = (await ok('POST', `/v1/projects/${projectId}/keys`, 201, { token, body: { name: `k${i}` } })).apiKey.id as string;
      keys.push(key);
      t.clock.advance(60_000);
      await ok('PATCH', `/v1/keys/${key}`, 200, { token, body: { meta: { i } } });
    }
    t.clock.advance(60_000);
    await ok('PATCH', `/v1/projects/${p2}`, 200, { body: { maxKeysPerAccount: 3 } });
    return { admin, p1, p2, keys };
  }

  it('filters by action, actor, target type and id, project and time range', async () => {
    await start();
    const start0 = t.clock.now;
    const { admin, p1, p2, keys } = await seed();
    const all = await entries();
    expect(all.length).toBeGreaterThanOrEqual(17);
    const at = (minutes: number) => iso(start0 + minutes * 60_000);
    const table: { query: Record<string, string>; expect: (entry: Entry) => boolean }[] = [
      { query: { action: 'key.created' }, expect: (e) => e.action === 'key.created' },
      { query: { action: 'key.updated' }, expect: (e) => e.action === 'key.updated' },
      { query: { action: 'project.updated' }, expect: (e) => e.action === 'project.updated' },
      { query: { action: 'key.rotated' }, expect: () => false },
      { query: { actorId: admin.accountId }, expect: (e) => e.actor.accountId === admin.accountId },
      { query: { actorId: t.ownerId }, expect: (e) => e.actor.accountId === t.ownerId },
      { query: { targetType: 'project' }, expect: (e) => e.target.type === 'project' },
      { query: { targetType: 'account' }, expect: (e) => e.target.type === 'account' },
      { query: { targetType: 'push' }, expect: () => false },
      { query: { targetId: keys[2]! }, expect: (e) => e.target.id === keys[2] },
      { query: { targetId: p2 }, expect: (e) => e.target.id === p2 },
      { query: { projectId: p1 }, expect: (e) => e.projectId === p1 },
      { query: { projectId: p2 }, expect: (e) => e.projectId === p2 },
      { query: { projectId: p2, actorId: admin.accountId, action: 'key.updated' }, expect: (e) => e.projectId === p2 && e.actor.accountId === admin.accountId && e.action === 'key.updated' },
      { query: { from: at(5) }, expect: (e) => e.time >= at(5) },
      { query: { to: at(5) }, expect: (e) => e.time < at(5) },
      { query: { from: at(3), to: at(8) }, expect: (e) => e.time >= at(3) && e.time < at(8) },
      { query: { from: at(3), to: at(8), targetType: 'key', action: 'key.created' }, expect: (e) => e.time >= at(3) && e.time < at(8) && e.action === 'key.created' },
      { query: { from: at(100) }, expect: () => false },
    ];
    for (const row of table) {
      const wanted = all.filter(row.expect).map((entry) => entry.id);
      expect((await entries(row.query)).map((entry) => entry.id), JSON.stringify(row.query)).toEqual(wanted);
    }
    // The table is not vacuous.
    expect(all.filter((e) => e.actor.accountId === admin.accountId)).toHaveLength(7);
    expect(all.filter((e) => e.projectId === p1).length).toBeGreaterThanOrEqual(5);
    expect(all.filter((e) => e.time >= at(3) && e.time < at(8))).toHaveLength(5);
  });

  it('pages newest first by cursor, with no duplicates or gaps, stable while new entries arrive', async () => {
    await start();
    await seed();
    const all = await entries();
    expect([...all.map((entry) => entry.id)].sort().reverse()).toEqual(all.map((entry) => entry.id));
    for (let i = 1; i < all.length; i++) expect(all[i - 1]!.time >= all[i]!.time).toBe(true);

    for (const limit of [1, 3, 4, all.length, all.length + 1]) {
      const ids = (await entries()).map((entry) => entry.id);
      const pages: Entry[][] = [];
      let cursor: string | null = null;
      let first = true;
      while (first || cursor !== null) {
        first = false;
        const response = await auditLog({ limit, ...(cursor !== null && { cursor }) });
        expect(response.status).toBe(200);
        pages.push(response.body.entries);
        cursor = response.body.nextCursor;
        if (pages.length === 1) {
          // New entries while paging do not shift later pages.
          t.clock.advance(1000);
          await ok('POST', '/v1/projects', 201, { body: { name: `during paging ${limit}` } });
        }
      }
      expect(pages.flat().map((entry) => entry.id), `limit ${limit}`).toEqual(ids);
      expect(pages.slice(0, -1).every((page) => page.length === limit), `limit ${limit}`).toBe(true);
      expect(pages.at(-1)!.length, `limit ${limit}`).toBeGreaterThan(0);
    }
    expect((await auditLog({ limit: 2, action: 'key.updated' })).body.nextCursor).toEqual(expect.any(String));
    // Default page size 100.
    expect((await t.call('GET', '/v1/audit-log')).body.entries.length).toBe(all.length + 5);
  });

  it('refuses bad queries', async () => {
    await start();
    const table: Record<string, string>[] = [
      { action: 'Key.Created' },
      { action: 'created' },
      { actorId: 'owner' },
      { targetType: 'workspace' },
      { targetId: 'x' },
      { projectId: 'acc_01HZZZZZZZZZZZZZZZZZZZZZZZ' },
      { from: 'yesterday' },
      { cursor: '12' },
      { limit: '0' },
      { limit: '1001' },
      { unknown: '1' },
    ];
    for (const query of table) {
      const response = await t.call('GET', '/v1/audit-log', { query });
      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(response.body.type).toBe('validationError');
    }
  });
});

describe('append-only', () => {
  it('there is no route to change or delete entries', async () => {
    await start();
    await ok('POST', '/v1/projects', 201, { body: { name: 'something to audit' } });
    const before = await entries();
    const id = before[0]!.id;
    const attempts: { method: InjectOptions['method']; url: string; body?: unknown }[] = [
      { method: 'PUT', url: '/v1/audit-log', body: { entries: [] } },
      { method: 'PATCH', url: '/v1/audit-log', body: { action: 'x.y' } },
      { method: 'DELETE', url: '/v1/audit-log' },
      { method: 'POST', url: '/v1/audit-log', body: { action: 'key.created' } },
      { method: 'GET', url: `/v1/audit-log/${id}` },
      { method: 'PUT', url: `/v1/audit-log/${id}`, body: { action: 'x.y' } },
      { method: 'PATCH', url: `/v1/audit-log/${id}`, body: { action: 'x.y' } },
      { method: 'DELETE', url: `/v1/audit-log/${id}` },
    ];
    for (const attempt of attempts) {
      const response = await t.call(attempt.method, attempt.url, attempt.body === undefined ? {} : { body: attempt.body });
      expect(response.status, `${attempt.method} ${attempt.url}`).toBe(404);
      expect(response.body).toMatchObject({ status: 'error', type: 'notFoundError' });
    }
    expect(await entries()).toEqual(before);
  });
});

describe('who may read it', () => {
  it('owner and admin (audit:read) read it; developer and viewer get 403', async () => {
    await start();
    const table: { role: 'admin' | 'developer' | 'viewer'; status: number }[] = [
      { role: 'admin', status: 200 },
      { role: 'developer', status: 403 },
      { role: 'viewer', status: 403 },
    ];
    expect((await auditLog()).status).toBe(200);
    for (const row of table) {
      const member = await addMember(t, row.role);
      const response = await auditLog({}, member.token);
      expect(response.status, row.role).toBe(row.status);
      if (row.status === 403) {
        expect(response.body.type).toBe('unauthorizedApiKeyError');
        expect(response.body.entries).toBeUndefined();
      }
    }
    expect((await t.call('GET', '/v1/audit-log', { token: null })).status).toBe(401);
  });

  it('another workspace sees none of this workspace’s entries', async () => {
    await start();
    await ok('POST', '/v1/projects', 201, { body: { name: 'ours' } });
    await addMember(t, 'developer');
    const ours = await entries();
    expect(ours.length).toBeGreaterThanOrEqual(3);

    const other = await otherWorkspace('other-audit@example.com');
    const intruder = other.adminKey!.token;
    expect(await entries({}, intruder)).toEqual([]);
    const theirKey = (await ok('POST', `/v1/projects/${other.projectId}/keys`, 201, { token: intruder, body: { name: 'theirs' } })).apiKey;
    const theirs = await entries({}, intruder);
    expect(theirs.map((entry) => [entry.action, entry.target.id, entry.actor.accountId])).toEqual([['key.created', theirKey.id, other.accountId]]);
    // Filters naming our resources find nothing for them.
    const queries: Record<string, string>[] = [{ targetId: ours[0]!.target.id }, { actorId: t.ownerId }, { projectId: t.projectId }, { cursor: 'aud_7ZZZZZZZZZZZZZZZZZZZZZZZZZ' }];
    for (const query of queries) {
      const response = await auditLog(query, intruder);
      expect(response.status).toBe(200);
      for (const entry of response.body.entries as Entry[]) expect(ours.map((e) => e.id)).not.toContain(entry.id);
    }
    // And ours does not include theirs.
    expect((await entries()).map((entry) => entry.id)).not.toContain(theirs[0]!.id);
  });
});
