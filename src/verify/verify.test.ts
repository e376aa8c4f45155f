import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND, createKey, startApp, verify, addMember, type TestApp } from '../../test/helpers.js';
import { checksumOf } from '../domain/token.js';

let t: TestApp;
beforeEach(async () => {
  t = await startApp();
});
afterEach(async () => {
  await t.close();
});

describe('POST /v1/keys/verify', () => {
  it('accepts a fresh key and describes it', async () => {
    const key = await createKey(t, { name: 'backend', scopes: ['inference'], meta: { plan: 'pro' } });
    const result = await verify(t, { key: key.key });
    expect(result).toEqual({
      valid: true,
      code: 'VALID',
      key: {
        id: key.id,
        name: 'backend',
        projectId: t.projectId,
        accountId: t.ownerId,
        environment: 'live',
        type: 'token',
        scopes: ['inference'],
        meta: { plan: 'pro' },
        expiresAt: null,
      },
      cacheForMs: 5000,
    });
  });

  it('cacheForMs: how long a client may reuse a VALID answer', async () => {
    const plain = await createKey(t, { name: 'plain' });
    expect((await verify(t, { key: plain.key })).cacheForMs).toBe(5000);
    // Never past the key's expiry.
    const expiring = await createKey(t, { name: 'expiring', expiresAt: new Date(t.clock.now + 1_500).toISOString() });
    expect((await verify(t, { key: expiring.key })).cacheForMs).toBe(1_500);
    // Every use of a counted key must reach the server.
    const quota = await createKey(t, { name: 'quota', limitedAmount: 5 });
    expect((await verify(t, { key: quota.key })).cacheForMs).toBe(0);
    const limited = await createKey(t, { name: 'limited', rateLimit: { limit: 5, windowMs: 1000 } });
    expect((await verify(t, { key: limited.key })).cacheForMs).toBe(0);
    // A rotated-out secret only until its grace ends.
    const rotated = await createKey(t, { name: 'rotated' });
    expect((await t.call('POST', `/v1/keys/${rotated.id}/rotate`, { body: { gracePeriodSeconds: 2 } })).status).toBe(200);
    expect((await verify(t, { key: rotated.key })).cacheForMs).toBe(2_000);
    // Invalid answers carry none.
    await t.call('PATCH', `/v1/keys/${plain.id}`, { body: { enabled: false } });
    expect((await verify(t, { key: plain.key })).cacheForMs).toBeUndefined();
  });

  it('KEYWARD_VERIFY_CACHE_HINT_MS sets the longest cacheForMs (0: never cache)', async () => {
    const off = await startApp({ env: { KEYWARD_VERIFY_CACHE_HINT_MS: '0' } });
    try {
      const key = await createKey(off, { name: 'k' });
      expect((await verify(off, { key: key.key })).cacheForMs).toBe(0);
    } finally {
      await off.close();
    }
  });

  it('MALFORMED: bad checksum, wrong shape, empty, huge', async () => {
    const key = await createKey(t);
    const last = key.key.at(-1) === 'a' ? 'b' : 'a';
    for (const bad of [key.key.slice(0, -1) + last, 'nope', '', 'x'.repeat(50_000), `${key.key}:`]) {
      expect((await verify(t, { key: bad })).code).toBe('MALFORMED');
    }
  });

  it('NOT_FOUND: well-formed but unknown, and a deleted key', async () => {
    const payload = 'kw_live_' + 'Q'.repeat(29);
    expect(await verify(t, { key: payload + checksumOf(payload) })).toEqual({ valid: false, code: 'NOT_FOUND' });
    const key = await createKey(t);
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect((await t.call('DELETE', `/v1/keys/${key.id}`)).status).toBe(204);
    expect((await verify(t, { key: key.key })).code).toBe('NOT_FOUND');
  });

  it('NOT_FOUND for a key of another project when projectId is given', async () => {
    const key = await createKey(t);
    const other = await t.call('POST', '/v1/projects', { body: { name: 'Other' } });
    expect((await verify(t, { key: key.key, projectId: other.body.project.id })).code).toBe('NOT_FOUND');
    expect((await verify(t, { key: key.key, projectId: t.projectId })).code).toBe('VALID');
  });

  it('DISABLED takes effect on the very next verify, and re-enabling restores it', async () => {
    const key = await createKey(t);
    expect((await verify(t, { key: key.key })).code).toBe('VALID'); // now cached
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: false } });
    expect((await verify(t, { key: key.key })).code).toBe('DISABLED');
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: true } });
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
  });

  it('EXPIRED once expiresAt passes (the key stays listed as expired)', async () => {
    const key = await createKey(t, { expiresAt: new Date(t.clock.now + 60_000).toISOString() });
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    t.clock.advance(60_000);
    const result = await verify(t, { key: key.key });
    expect(result.code).toBe('EXPIRED');
    expect(result.valid).toBe(false);
    const listed = await t.call('GET', `/v1/keys/${key.id}`);
    expect(listed.body.apiKey.status).toBe('expired');
  });

  it('WRONG_ENVIRONMENT when the caller requires another environment', async () => {
    const key = await createKey(t, { environment: 'test' });
    expect(key.key).toMatch(/^kw_test_/);
    expect((await verify(t, { key: key.key, environment: 'live' })).code).toBe('WRONG_ENVIRONMENT');
    expect((await verify(t, { key: key.key, environment: 'test' })).code).toBe('VALID');
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
  });

  it('FORBIDDEN_HOST outside the bound domain, wildcard or CIDR', async () => {
    const domain = await createKey(t, { host: 'api.example.com' });
    expect((await verify(t, { key: domain.key, host: 'api.example.com' })).code).toBe('VALID');
    expect((await verify(t, { key: domain.key, host: 'API.example.com:443' })).code).toBe('VALID');
    expect((await verify(t, { key: domain.key, host: 'evil.com' })).code).toBe('FORBIDDEN_HOST');
    expect((await verify(t, { key: domain.key })).code).toBe('FORBIDDEN_HOST');
    const wildcard = await createKey(t, { host: '*.example.com' });
    expect((await verify(t, { key: wildcard.key, host: 'a.example.com' })).code).toBe('VALID');
    expect((await verify(t, { key: wildcard.key, host: 'example.com' })).code).toBe('FORBIDDEN_HOST');
    const cidr = await createKey(t, { host: '10.0.0.0/8' });
    expect((await verify(t, { key: cidr.key, host: '10.1.2.3' })).code).toBe('VALID');
    expect((await verify(t, { key: cidr.key, host: '192.168.0.1' })).code).toBe('FORBIDDEN_HOST');
  });

  it('INSUFFICIENT_SCOPE names what is missing; a scope edit applies at once', async () => {
    const key = await createKey(t, { scopes: ['inference'] });
    const refused = await verify(t, { key: key.key, scopes: ['inference', 'project'] });
    expect(refused).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE', missingScopes: ['project'] });
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { scopes: ['inference', 'project'] } });
    expect((await verify(t, { key: key.key, scopes: ['inference', 'project'] })).code).toBe('VALID');
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { scopes: [] } });
    expect((await verify(t, { key: key.key, scopes: ['inference'] })).code).toBe('INSUFFICIENT_SCOPE');
  });

  it('scopes follow the account: a demoted account’s keys lose data scopes at once', async () => {
    const dev = await addMember(t, 'developer');
    const key = await createKey(t, { accountId: dev.accountId, scopes: ['inference'] });
    expect((await verify(t, { key: key.key, scopes: ['inference'] })).code).toBe('VALID');
    await t.call('PATCH', `/v1/accounts/${dev.accountId}`, { body: { role: 'viewer' } });
    expect((await verify(t, { key: key.key, scopes: ['inference'] })).code).toBe('INSUFFICIENT_SCOPE');
    await t.call('DELETE', `/v1/accounts/${dev.accountId}`);
    expect((await verify(t, { key: key.key })).code).toBe('NOT_FOUND');
  });

  it('a scope removed from the project is removed from its keys at once', async () => {
    const key = await createKey(t, { scopes: ['inference'] });
    expect((await verify(t, { key: key.key, scopes: ['inference'] })).code).toBe('VALID');
    await t.call('PATCH', `/v1/projects/${t.projectId}`, { body: { scopes: ['project'] } });
    expect((await verify(t, { key: key.key, scopes: ['inference'] })).code).toBe('INSUFFICIENT_SCOPE');
  });

  it('RATE_LIMITED past the window limit, with reset time; the next window admits again', async () => {
    t.clock.now = Date.UTC(2030, 0, 15, 12, 0, 0); // aligned to a 10 s window
    const key = await createKey(t, { rateLimit: { limit: 3, windowMs: 10_000 } });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await verify(t, { key: key.key })).code);
    expect(codes).toEqual(['VALID', 'VALID', 'VALID', 'RATE_LIMITED', 'RATE_LIMITED']);
    const limited = await verify(t, { key: key.key });
    expect(limited.rateLimit).toEqual({ limit: 3, remaining: 0, resetAt: new Date(t.clock.now + 10_000).toISOString() });
    t.clock.advance(10_000);
    expect(await verify(t, { key: key.key })).toMatchObject({ code: 'VALID', rateLimit: { remaining: 2 } });
  });

  it('a cached key with only a rate limit counted in memory (embedded) is decided at once, without a promise; in the database it is awaited, and so is a quota', async () => {
    t.clock.now = Date.UTC(2030, 0, 15, 12, 0, 0);
    const limited = await createKey(t, { name: 'rate limited', rateLimit: { limit: 2, windowMs: 10_000 } });
    const quota = await createKey(t, { name: 'quota', limitedAmount: 5 });
    const service = t.built.services.verify;
    // The first call loads each record into the cache (a promise); the next ones are cache hits.
    await service.verify({ key: limited.key });
    await service.verify({ key: quota.key });
    const inMemory = BACKEND === 'sqlite'; // PostgreSQL keeps rate limits in the database
    const second = service.verifyNow({ key: limited.key });
    expect(second instanceof Promise).toBe(!inMemory);
    expect(await second).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 0, resetAt: '2030-01-15T12:00:10.000Z' } });
    const third = service.verifyNow({ key: limited.key });
    expect(third instanceof Promise).toBe(!inMemory);
    expect(await third).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 10 });
    const charged = service.verifyNow({ key: quota.key });
    expect(charged).toBeInstanceOf(Promise);
    expect(await charged).toMatchObject({ code: 'VALID', usage: { used: 2 } });
  });

  it('USAGE_EXCEEDED at the quota; cost is charged; refused calls charge nothing', async () => {
    const key = await createKey(t, { limitedAmount: 5 });
    expect(await verify(t, { key: key.key, cost: 3 })).toMatchObject({ code: 'VALID', usage: { limit: 5, used: 3, remaining: 2 } });
    expect(await verify(t, { key: key.key, cost: 3 })).toMatchObject({ code: 'USAGE_EXCEEDED', usage: { used: 3, remaining: 2 } });
    expect(await verify(t, { key: key.key, cost: 2 })).toMatchObject({ code: 'VALID', usage: { used: 5, remaining: 0 } });
    expect((await verify(t, { key: key.key })).code).toBe('USAGE_EXCEEDED');
    expect((await t.call('GET', `/v1/keys/${key.id}`)).body.apiKey).toMatchObject({ limitedAmount: 5, usedAmount: 5 });
  });

  it('a throttled call burns no quota (rate limit is checked before the quota)', async () => {
    const key = await createKey(t, { limitedAmount: 10, rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect((await verify(t, { key: key.key })).code).toBe('RATE_LIMITED');
    expect((await t.call('GET', `/v1/keys/${key.id}`)).body.apiKey.usedAmount).toBe(1);
  });

  it('a daily refill starts the quota again at the next UTC day', async () => {
    t.clock.now = Date.UTC(2030, 0, 15, 23, 59, 0);
    const key = await createKey(t, { limitedAmount: 2, refill: { interval: 'daily' } });
    expect((await verify(t, { key: key.key, cost: 2 })).code).toBe('VALID');
    expect(await verify(t, { key: key.key })).toMatchObject({ code: 'USAGE_EXCEEDED', usage: { remaining: 0, refillAt: '2030-01-16T00:00:00.000Z' } });
    t.clock.advance(60_000);
    expect(await verify(t, { key: key.key })).toMatchObject({ code: 'VALID', usage: { used: 1, remaining: 1, refillAt: '2030-01-17T00:00:00.000Z' } });
    const monthly = await createKey(t, { limitedAmount: 2, refill: { interval: 'monthly' } });
    expect((await verify(t, { key: monthly.key })).usage).toEqual({ limit: 2, used: 1, remaining: 1, refillAt: '2030-02-01T00:00:00.000Z' });
    const once = await createKey(t, { limitedAmount: 2 });
    expect((await verify(t, { key: once.key })).usage).toEqual({ limit: 2, used: 1, remaining: 1 });
  });

  it('checks in DESIGN order: disabled before expired before environment before host before scope', async () => {
    const key = await createKey(t, {
      environment: 'test',
      host: 'a.example.com',
      scopes: [],
      expiresAt: new Date(t.clock.now + 1000).toISOString(),
      limitedAmount: 0,
    });
    const request = { key: key.key, environment: 'live', host: 'b.example.com', scopes: ['inference'] };
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: false } });
    t.clock.advance(2000);
    expect((await verify(t, request)).code).toBe('DISABLED');
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: true } });
    expect((await verify(t, request)).code).toBe('EXPIRED');
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { expiresAt: null } });
    expect((await verify(t, request)).code).toBe('WRONG_ENVIRONMENT');
    expect((await verify(t, { ...request, environment: 'test' })).code).toBe('FORBIDDEN_HOST');
    expect((await verify(t, { ...request, environment: 'test', host: 'a.example.com' })).code).toBe('INSUFFICIENT_SCOPE');
    expect((await verify(t, { key: key.key, environment: 'test', host: 'a.example.com' })).code).toBe('USAGE_EXCEEDED');
  });

  it('writes lastUsedAt and usage counts behind, in batches', async () => {
    const key = await createKey(t);
    for (let i = 0; i < 5; i++) await verify(t, { key: key.key, cost: 2 });
    const before = (await t.call('GET', `/v1/keys/${key.id}`)).body.apiKey;
    expect(before.lastUsedAt).toBeNull(); // not written per verify
    // One pending entry for five verifies, plus one for the owner's admin key used by the GET.
    expect(t.built.usage.depth).toBe(2);
    await t.built.usage.flush();
    const after = (await t.call('GET', `/v1/keys/${key.id}`)).body.apiKey;
    expect(after.lastUsedAt).toBe(new Date(t.clock.now).toISOString());
    expect(after.usedAmount).toBe(10);
  });

  it('identity keys verify with username:password or the password alone', async () => {
    const key = await createKey(t, { type: 'identity' });
    expect(key.key).toBeUndefined();
    expect(key.username).toMatch(/^kwu/);
    expect(key.password).toMatch(/^kw_live_/);
    expect((await verify(t, { key: `${key.username}:${key.password}` })).code).toBe('VALID');
    expect((await verify(t, { key: key.password })).code).toBe('VALID');
    expect((await verify(t, { key: `someoneelse:${key.password}` })).code).toBe('NOT_FOUND');
  });

  it('rejects bad verify bodies with a validationError naming the field', async () => {
    const key = await createKey(t);
    for (const [body, field] of [
      [{}, 'key'],
      [{ key: 1 }, 'key'],
      [{ key: key.key, cost: -1 }, 'cost'],
      [{ key: key.key, cost: 1.5 }, 'cost'],
      [{ key: key.key, cost: 1e300 }, 'cost'],
      [{ key: key.key, environment: 'prod' }, 'environment'],
      [{ key: key.key, scopes: 'inference' }, 'scopes'],
      [{ key: key.key, extra: true }, 'extra'],
    ] as const) {
      const response = await t.call('POST', '/v1/keys/verify', { body, token: null });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ status: 'error', type: 'validationError', error: { field } });
    }
  });
});
