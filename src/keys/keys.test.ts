import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMember, createKey, startApp, verify, type TestApp } from '../../test/helpers.js';
import { storageOptions } from '../app.js';
import { openStorage } from '../storage/storage.js';
import { nameMatcher } from '../domain/search.js';
import { Migrator } from 'kysely';
import { migrations } from '../storage/migrations/index.js';

let t: TestApp;
beforeEach(async () => {
  t = await startApp();
});
afterEach(async () => {
  await t.close();
});

const keysUrl = () => `/v1/projects/${t.projectId}/keys`;

describe('create', () => {
  it('returns the full resource and the secret once; the secret is never listed again', async () => {
    const response = await t.call('POST', keysUrl(), { body: { name: 'backend', scopes: ['inference', 'project'] } });
    expect(response.status).toBe(201);
    const apiKey = response.body.apiKey;
    expect(apiKey).toMatchObject({
      name: 'backend',
      projectId: t.projectId,
      accountId: t.ownerId,
      environment: 'live',
      type: 'token',
      username: null,
      scopes: ['inference', 'project'],
      enabled: true,
      status: 'active',
      expiresAt: null,
      host: null,
      limitedAmount: null,
      usedAmount: 0,
      refill: null,
      rateLimit: null,
      meta: null,
      lastUsedAt: null,
      createdAt: new Date(t.clock.now).toISOString(),
    });
    expect(apiKey.id).toMatch(/^key_[0-9A-Z]{26}$/);
    expect(apiKey.key).toMatch(/^kw_live_[0-9A-Za-z]{35}$/);
    expect(apiKey.start).toBe(apiKey.key.slice(0, 12));
    const fetched = await t.call('GET', `/v1/keys/${apiKey.id}`);
    expect(fetched.body.apiKey.key).toBeUndefined();
    expect(fetched.text).not.toContain(apiKey.key);
    const listed = await t.call('GET', keysUrl());
    expect(listed.text).not.toContain(apiKey.key);
  });

  it('names a key "API Key name yyyyMMddHHmmss" (UTC) when no name is given, suffixing repeats', async () => {
    t.clock.now = Date.UTC(2022, 6, 15, 16, 57, 27);
    expect((await createKey(t)).name).toBe('API Key name 20220715165727');
    expect((await createKey(t)).name).toBe('API Key name 20220715165727 (2)');
    expect((await createKey(t, { name: '  padded  ' })).name).toBe('padded');
  });

  it('refuses a duplicate name for the same account, allows it for another account', async () => {
    await createKey(t, { name: 'dup' });
    const again = await t.call('POST', keysUrl(), { body: { name: 'dup' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 'error', type: 'duplicateNameError', error: { field: 'name' } });
    const dev = await addMember(t, 'developer');
    expect((await t.call('POST', keysUrl(), { body: { name: 'dup' }, token: dev.token })).status).toBe(201);
  });

  it('enforces name rules: required, at most 200 characters', async () => {
    expect((await t.call('POST', keysUrl(), { body: { name: '   ' } })).body).toMatchObject({ type: 'validationError', error: { field: 'name' } });
    expect((await t.call('POST', keysUrl(), { body: { name: 'x'.repeat(201) } })).status).toBe(400);
    expect((await t.call('POST', keysUrl(), { body: { name: 'x'.repeat(200) } })).status).toBe(201);
  });

  it('allows at most maxKeysPerAccount (10) keys per account per project', async () => {
    for (let i = 0; i < 9; i++) await createKey(t); // the owner already holds its admin key
    const refused = await t.call('POST', keysUrl(), { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('keyLimitReachedError');
    expect(refused.body.error.message).toMatch(/limit is 10/);
    const total = (await t.call('GET', keysUrl())).body.total;
    expect(total).toBe(10);
    // The limit is per account: another member may still add keys.
    const dev = await addMember(t, 'developer');
    expect((await t.call('POST', keysUrl(), { body: {}, token: dev.token })).status).toBe(201);
    // ...and per project, configurable.
    await t.call('PATCH', `/v1/projects/${t.projectId}`, { body: { maxKeysPerAccount: 11 } });
    expect((await t.call('POST', keysUrl(), { body: {} })).status).toBe(201);
    // Deleting a key frees a place.
    const one = (await t.call('GET', keysUrl(), { query: { pageSize: 1 } })).body.apiKeys[0];
    await t.call('DELETE', `/v1/keys/${one.id}`);
    expect((await t.call('POST', keysUrl(), { body: {} })).status).toBe(201);
  });

  it('accepts only the project’s scopes plus admin', async () => {
    const refused = await t.call('POST', keysUrl(), { body: { scopes: ['inference', 'billing'] } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe('scopes[1]');
    expect(refused.body.error.message).toMatch(/billing/);
    expect((await createKey(t, { scopes: ['admin', 'inference', 'inference'] })).scopes).toEqual(['admin', 'inference']);
  });

  it('creates a key for another account only with keys:manage_all, bound to that account for life', async () => {
    const dev = await addMember(t, 'developer');
    const forDev = await createKey(t, { accountId: dev.accountId });
    expect(forDev.accountId).toBe(dev.accountId);
    const other = await addMember(t, 'developer');
    const refused = await t.call('POST', keysUrl(), { body: { accountId: other.accountId }, token: dev.token });
    expect(refused.status).toBe(403);
    const patch = await t.call('PATCH', `/v1/keys/${forDev.id}`, { body: { accountId: t.ownerId } });
    expect(patch.status).toBe(400);
    expect(patch.body.error.field).toBe('accountId');
    const unknown = await t.call('POST', keysUrl(), { body: { accountId: 'acc_01HZZZZZZZZZZZZZZZZZZZZZZZ' } });
    expect(unknown.status).toBe(404);
  });

  it('stores limits, refill, rate limit, host, meta and expiry as given', async () => {
    const expiresAt = new Date(t.clock.now + 86_400_000).toISOString();
    const key = await createKey(t, {
      environment: 'test',
      host: '*.Example.com',
      limitedAmount: 1000,
      refill: { interval: 'monthly' },
      rateLimit: { limit: 10, windowMs: 1000 },
      meta: { tier: 'gold', nested: { a: [1, 2] } },
      expiresAt,
      enabled: false,
    });
    expect(key).toMatchObject({
      environment: 'test',
      host: '*.example.com',
      limitedAmount: 1000,
      usedAmount: 0,
      refill: { interval: 'monthly' },
      rateLimit: { limit: 10, windowMs: 1000 },
      meta: { tier: 'gold', nested: { a: [1, 2] } },
      expiresAt,
      enabled: false,
      status: 'disabled',
    });
    expect(key.key).toMatch(/^kw_test_/);
  });

  it('uses the project prefix', async () => {
    await t.call('PATCH', `/v1/projects/${t.projectId}`, { body: { prefix: 'acme' } });
    expect((await createKey(t)).key).toMatch(/^acme_live_/);
  });
});

describe('list', () => {
  it('pages newest first with totals', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      created.push((await createKey(t, { name: `k${i}` })).id);
    }
    const page1 = await t.call('GET', keysUrl(), { query: { pageSize: 2 } });
    expect(page1.body).toMatchObject({ page: 1, pageSize: 2, total: 6 });
    expect(page1.body.apiKeys.map((k: { name: string }) => k.name)).toEqual(['k4', 'k3']);
    const page3 = await t.call('GET', keysUrl(), { query: { pageSize: 2, page: 3 } });
    expect(page3.body.apiKeys.map((k: { name: string }) => k.name)).toEqual(['k0', 'Owner admin key']);
    expect((await t.call('GET', keysUrl(), { query: { page: 9 } })).body.apiKeys).toEqual([]);
    expect((await t.call('GET', keysUrl())).body.pageSize).toBe(100);
  });

  // On SQLite an unfiltered list reads its total from project_key_counts, which triggers keep.
  it('keeps each project’s total right as keys and projects come and go', async () => {
    const db = t.built.services.storage.db;
    const other = (await t.call('POST', '/v1/projects', { body: { name: 'Other' } })).body.project as { id: string };
    const third = (await t.call('POST', '/v1/projects', { body: { name: 'Third' } })).body.project as { id: string };
    const check = async () => {
      for (const projectId of [t.projectId, other.id, third.id]) {
        const counted = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow();
        const listed = await t.call('GET', `/v1/projects/${projectId}/keys`, { query: { pageSize: 1 } });
        if (listed.status === 404) expect(Number(counted.n)).toBe(0);
        else expect({ projectId, total: listed.body.total }).toEqual({ projectId, total: Number(counted.n) });
      }
    };
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await createKey(t, { name: `here ${i}` }));
    for (let i = 0; i < 4; i++) await t.call('POST', `/v1/projects/${other.id}/keys`, { body: { name: `there ${i}` } });
    await t.call('POST', `/v1/projects/${third.id}/keys`, { body: { name: 'third' } });
    await check();
    expect((await t.call('DELETE', `/v1/keys/${keys[1]!.id}`)).status).toBe(204);
    await check();
    expect((await t.call('DELETE', `/v1/projects/${other.id}`, { query: { force: 'true' } })).status).toBe(204);
    await check();
    expect((await t.call('GET', keysUrl())).body.total).toBe(3); // the owner's admin key and two of three
    if (t.config.databaseUrl === undefined) {
      const keptCounts = () => db.selectFrom('project_key_counts').select(['project_id', 'keys']).orderBy('project_id').execute();
      const kept = await keptCounts();
      expect(kept.map((row) => row.project_id)).toEqual([t.projectId, third.id].sort()); // the deleted project's row went with it
      // Migrating a store that has keys counts them.
      const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
      expect((await migrator.migrateTo('0011_usage_chunks')).error).toBeUndefined();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      expect(await keptCounts()).toEqual(kept);
      await check();
    }
  });

  it('searches names fuzzily: case-insensitive substring and one-character typos', async () => {
    await createKey(t, { name: 'Production backend' });
    await createKey(t, { name: 'staging worker' });
    await createKey(t, { name: 'analytics' });
    const names = async (search: string) =>
      (await t.call('GET', keysUrl(), { query: { search } })).body.apiKeys.map((k: { name: string }) => k.name);
    expect(await names('PROD')).toEqual(['Production backend']);
    expect(await names('prodcution')).toEqual(['Production backend']);
    expect(await names('stagign')).toEqual(['staging worker']);
    expect(await names('analitics')).toEqual(['analytics']);
    expect(await names('zzz')).toEqual([]);
    const paged = await t.call('GET', keysUrl(), { query: { search: 'o', pageSize: 1, page: 2 } });
    expect(paged.body.total).toBe(3); // "Production backend", "staging worker", "Owner admin key"
    expect(paged.body.apiKeys).toHaveLength(1);
  });

  it('pages search results newest first, with filters, and counts every match past the last page too', async () => {
    for (const name of ['billing worker', 'Billing backend', 'bilING job', 'shipping']) {
      t.clock.advance(1000);
      await createKey(t, { name });
    }
    t.clock.advance(1000);
    await createKey(t, { name: 'billing off', enabled: false });
    const search = async (query: Record<string, string | number>) => {
      const { body } = await t.call('GET', keysUrl(), { query: { search: 'biling', pageSize: 2, ...query } });
      return { total: body.total, names: body.apiKeys.map((k: { name: string }) => k.name) };
    };
    expect(await search({ page: 1 })).toEqual({ total: 4, names: ['billing off', 'bilING job'] });
    expect(await search({ page: 2 })).toEqual({ total: 4, names: ['Billing backend', 'billing worker'] });
    expect(await search({ page: 3 })).toEqual({ total: 4, names: [] });
    expect(await search({ page: 1, status: 'active' })).toEqual({ total: 3, names: ['bilING job', 'Billing backend'] });
  });

  // Whatever narrows the search in SQL (pieces, LIKE, the matcher inside SQLite) must find what
  // nameMatcher finds among all names, also where a character outside ASCII lowercases into ASCII
  // (the Kelvin sign into k, İ into i and a dot), which the databases' LIKE does not fold.
  it('finds exactly what nameMatcher finds, newest first, whatever the case and LIKE wildcards in names', async () => {
    await t.call('PATCH', `/v1/projects/${t.projectId}`, { body: { maxKeysPerAccount: 50 } });
    const names = [
      ...['Billing 100%', 'billing_worker', 'BILLING\\prod', 'bilIng job', 'biling', 'bil ling', 'ilbling'],
      ...['Acme integration 7', 'INTEGRATOIN', 'intgration x', 'in_te%gration', 'IN_TE%GRATION 2', 'integraton', 'Integr ation'],
      ...['checkout eu', 'CHECKOUT us', 'CHEKCOUT', 'check out', 'chekout prod', 'Tomás checkuot', 'école 1', 'résumé'],
      ...['w\u0130\u212Ai', 'l\u0130n\u212A prod', '\u212Ai\u212Aat', 'CHEC\u212AOUT tr'],
    ];
    for (const name of names) {
      t.clock.advance(1000);
      await createKey(t, { name });
    }
    const newestFirst = [...names].reverse().concat('Owner admin key');
    for (const search of ['biling', 'BILLING', 'integraton', 'Integration', 'chekout', 'checkuot', 'in_te%gration', '100%', '_w', 'g\\p', 'in_te%', 'É', 'sumé', 'zzz', 'wi', 'ki', 'k', 'tk', 'link', 'kika']) {
      const matches = nameMatcher(search);
      const expected = newestFirst.filter((name) => matches(name));
      const { body } = await t.call('GET', keysUrl(), { query: { search } });
      expect({ search, total: body.total, names: body.apiKeys.map((k: { name: string }) => k.name) }).toEqual({ search, total: expected.length, names: expected });
    }
  });

  it('filters by environment, status and account', async () => {
    await createKey(t, { name: 'live one' });
    await createKey(t, { name: 'test one', environment: 'test' });
    await createKey(t, { name: 'off', enabled: false });
    await createKey(t, { name: 'soon', expiresAt: new Date(t.clock.now + 1000).toISOString() });
    t.clock.advance(1000);
    const names = async (query: Record<string, string>) =>
      (await t.call('GET', keysUrl(), { query })).body.apiKeys.map((k: { name: string }) => k.name).sort();
    expect(await names({ environment: 'test' })).toEqual(['test one']);
    expect(await names({ status: 'disabled' })).toEqual(['off']);
    expect(await names({ status: 'expired' })).toEqual(['soon']);
    expect(await names({ status: 'active' })).toEqual(['Owner admin key', 'live one', 'test one']);
    const dev = await addMember(t, 'developer');
    expect(await names({ accountId: dev.accountId })).toEqual(['developer admin key']);
  });

  it('shows a caller without keys:manage_all only its own keys', async () => {
    const dev = await addMember(t, 'developer');
    await createKey(t, { name: 'owner key' });
    const mine = await t.call('GET', keysUrl(), { token: dev.token });
    expect(mine.body.apiKeys.map((k: { name: string }) => k.name)).toEqual(['developer admin key']);
    expect((await t.call('GET', keysUrl(), { token: dev.token, query: { accountId: t.ownerId } })).status).toBe(403);
    const all = await t.call('GET', keysUrl());
    expect(all.body.total).toBe(3);
  });
});

describe('update', () => {
  it('changes only the fields sent; null clears optional fields', async () => {
    const key = await createKey(t, { name: 'a', host: 'a.com', limitedAmount: 5, rateLimit: { limit: 1, windowMs: 1000 }, meta: { x: 1 } });
    t.clock.advance(5000);
    const patched = await t.call('PATCH', `/v1/keys/${key.id}`, { body: { name: 'b', host: null, limitedAmount: null, rateLimit: null, meta: null } });
    expect(patched.status).toBe(200);
    expect(patched.body.apiKey).toMatchObject({ name: 'b', host: null, limitedAmount: null, rateLimit: null, meta: null, scopes: [], createdAt: key.createdAt });
    expect(patched.body.apiKey.updatedAt).toBe(new Date(t.clock.now).toISOString());
    expect(patched.body.apiKey.key).toBeUndefined();
  });

  it('refuses a name another key of the account has, and leaves the key unchanged', async () => {
    await createKey(t, { name: 'taken' });
    const key = await createKey(t, { name: 'mine' });
    const refused = await t.call('PATCH', `/v1/keys/${key.id}`, { body: { name: 'taken', scopes: ['inference'] } });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('duplicateNameError');
    expect((await t.call('GET', `/v1/keys/${key.id}`)).body.apiKey).toMatchObject({ name: 'mine', scopes: [] });
    expect((await t.call('PATCH', `/v1/keys/${key.id}`, { body: { name: 'mine' } })).status).toBe(200); // its own name is fine
  });

  it('may set a past expiry to expire a key now', async () => {
    const key = await createKey(t);
    const patched = await t.call('PATCH', `/v1/keys/${key.id}`, { body: { expiresAt: new Date(t.clock.now - 1).toISOString() } });
    expect(patched.body.apiKey.status).toBe('expired');
    expect((await verify(t, { key: key.key })).code).toBe('EXPIRED');
  });

  it('refuses refill without a quota', async () => {
    const key = await createKey(t);
    const refused = await t.call('PATCH', `/v1/keys/${key.id}`, { body: { refill: { interval: 'daily' } } });
    expect(refused.body).toMatchObject({ type: 'validationError', error: { field: 'refill' } });
    const cleared = await createKey(t, { limitedAmount: 3, refill: { interval: 'daily' } });
    expect((await t.call('PATCH', `/v1/keys/${cleared.id}`, { body: { limitedAmount: null } })).status).toBe(400);
  });

  it('a new rate limit applies from the next verify', async () => {
    const key = await createKey(t, { rateLimit: { limit: 1, windowMs: 60_000 } });
    await verify(t, { key: key.key });
    expect((await verify(t, { key: key.key })).code).toBe('RATE_LIMITED');
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { rateLimit: { limit: 5, windowMs: 60_000 } } });
    expect(await verify(t, { key: key.key })).toMatchObject({ code: 'VALID', rateLimit: { limit: 5, remaining: 4 } });
  });
});

describe('delete', () => {
  it('removes the key; it no longer verifies, lists or counts', async () => {
    const key = await createKey(t);
    expect((await t.call('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
    expect((await t.call('GET', `/v1/keys/${key.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/v1/keys/${key.id}`)).status).toBe(404);
    expect((await verify(t, { key: key.key })).code).toBe('NOT_FOUND');
  });

  it('accepts DELETE with an empty JSON body', async () => {
    const key = await createKey(t);
    const response = await t.call('DELETE', `/v1/keys/${key.id}`, { headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(204);
  });
});

describe('rotate', () => {
  it('issues a new secret; the old one stops at once by default', async () => {
    const key = await createKey(t, { name: 'r' });
    await verify(t, { key: key.key });
    const rotated = await t.call('POST', `/v1/keys/${key.id}/rotate`);
    expect(rotated.status).toBe(200);
    const next = rotated.body.apiKey;
    expect(next).toMatchObject({ id: key.id, name: 'r' });
    expect(next.key).not.toBe(key.key);
    expect(next.start).toBe(next.key.slice(0, 12));
    expect((await verify(t, { key: key.key })).code).toBe('EXPIRED');
    expect((await verify(t, { key: next.key })).code).toBe('VALID');
  });

  it('keeps the old secret working through the grace period (Stripe-style)', async () => {
    const key = await createKey(t);
    const rotated = await t.call('POST', `/v1/keys/${key.id}/rotate`, { body: { gracePeriodSeconds: 3600 } });
    const next = rotated.body.apiKey.key;
    t.clock.advance(3_599_000);
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect((await verify(t, { key: next })).code).toBe('VALID');
    t.clock.advance(1000);
    expect((await verify(t, { key: key.key })).code).toBe('EXPIRED');
    expect((await verify(t, { key: next })).code).toBe('VALID');
  });

  it('a second rotation does not extend the first secret’s grace', async () => {
    const key = await createKey(t);
    const first = (await t.call('POST', `/v1/keys/${key.id}/rotate`, { body: { gracePeriodSeconds: 60 } })).body.apiKey.key;
    const second = (await t.call('POST', `/v1/keys/${key.id}/rotate`, { body: { gracePeriodSeconds: 3600 } })).body.apiKey.key;
    t.clock.advance(61_000);
    expect((await verify(t, { key: key.key })).code).toBe('EXPIRED');
    expect((await verify(t, { key: first })).code).toBe('VALID');
    expect((await verify(t, { key: second })).code).toBe('VALID');
  });

  it('rotates an identity key’s password and keeps its username', async () => {
    const key = await createKey(t, { type: 'identity' });
    const rotated = (await t.call('POST', `/v1/keys/${key.id}/rotate`)).body.apiKey;
    expect(rotated.username).toBe(key.username);
    expect(rotated.password).not.toBe(key.password);
    expect((await verify(t, { key: `${key.username}:${rotated.password}` })).code).toBe('VALID');
  });
});

describe('reveal', () => {
  it('is refused in projects that do not keep recoverable keys', async () => {
    const key = await createKey(t);
    const refused = await t.call('POST', `/v1/keys/${key.id}/reveal`);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('conflictError');
  });

  it('returns the current secret in recoverable projects, also after rotation', async () => {
    const project = (await t.call('POST', '/v1/projects', { body: { name: 'Recoverable', recoverable: true } })).body.project;
    const created = (await t.call('POST', `/v1/projects/${project.id}/keys`, { body: { name: 'r' } })).body.apiKey;
    const revealed = await t.call('POST', `/v1/keys/${created.id}/reveal`);
    expect(revealed.status).toBe(200);
    expect(revealed.body.apiKey.key).toBe(created.key);
    const rotated = (await t.call('POST', `/v1/keys/${created.id}/rotate`)).body.apiKey;
    expect((await t.call('POST', `/v1/keys/${created.id}/reveal`)).body.apiKey.key).toBe(rotated.key);
  });

  it('refuses to start with another master key; a secret it cannot decrypt is refused clearly', async () => {
    await t.close();
    t = await startApp({ env: { KEYWARD_MASTER_KEY: 'a'.repeat(40) } });
    await t.call('PATCH', `/v1/projects/${t.projectId}`, { body: { recoverable: true } });
    const key = await createKey(t, { name: 'sealed' });
    const dataDir = t.dataDir;
    await t.built.app.close();
    await expect(startApp({ env: { KEYWARD_MASTER_KEY: 'b'.repeat(40) }, dataDir, backend: t.backend })).rejects.toThrow(/KEYWARD_MASTER_KEY does not match/);
    // A database whose check value is gone (e.g. restored from before it existed) accepts the new
    // key, and then a reveal says what is wrong instead of returning garbage.
    const storage = openStorage(storageOptions(t.config));
    await storage.db.deleteFrom('settings').execute();
    await storage.close();
    const reopened = await startApp({ env: { KEYWARD_MASTER_KEY: 'b'.repeat(40) }, dataDir, backend: t.backend });
    try {
      const owner = (await reopened.call('GET', `/v1/keys/${key.id}`, { token: t.ownerKey })).status;
      expect(owner).toBe(200);
      const refused = await reopened.call('POST', `/v1/keys/${key.id}/reveal`, { token: t.ownerKey });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/master key/);
    } finally {
      await reopened.close();
    }
  });
});
