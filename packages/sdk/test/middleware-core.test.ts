// The middleware's framework-neutral core against a real Keyward on a loopback port: credentials,
// the failure mapping, the cache (and what it must never do: count a quota short, outlive a
// revocation), and Keyward being down. Keys come from one server shared by the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, readCredential, type CheckResult, type GuardOptions } from '../src/middleware/core.js';
import type { CreateKeyRequest } from '../src/index.js';
import { waitFor, type ServedKeyward } from './keyward-server.js';
import { basic, closedPort, countingFetch, newKeyOn, recordingLogger, serveWithRoomForKeys, silentServer } from './middleware-helpers.js';

let s: ServedKeyward;

beforeAll(async () => {
  s = await serveWithRoomForKeys();
});

afterAll(async () => {
  await s.close();
});

const newKey = (request: CreateKeyRequest = {}) => newKeyOn(s, request);
const guardFor = (options: Partial<GuardOptions> = {}) => createGuard({ baseUrl: s.baseUrl, logger: () => {}, ...options });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function refusal(outcome: CheckResult) {
  expect(outcome.ok).toBe(false);
  return outcome as Extract<CheckResult, { ok: false }>;
}

describe('credentials', () => {
  it('reads Bearer, X-API-Key, Basic keyId:token, Basic and Proxy-Authorization username:password', () => {
    expect(readCredential({ authorization: 'Bearer kw_live_abc' })).toEqual({ key: 'kw_live_abc', keyId: null });
    expect(readCredential({ 'x-api-key': ' kw_live_abc ' })).toEqual({ key: 'kw_live_abc', keyId: null });
    expect(readCredential(new Headers({ 'X-API-Key': 'kw_live_abc' }))).toEqual({ key: 'kw_live_abc', keyId: null });
    expect(readCredential({ authorization: basic('key_01ABC', 'kw_live_abc') })).toEqual({ key: 'kw_live_abc', keyId: 'key_01ABC' });
    expect(readCredential({ authorization: basic('alice', 'pw') })).toEqual({ key: 'alice:pw', keyId: null });
    expect(readCredential({ 'proxy-authorization': basic('alice', 'pw') })).toEqual({ key: 'alice:pw', keyId: null });
    // Authorization wins; an unknown scheme there leaves room for X-API-Key.
    expect(readCredential({ authorization: 'Bearer a', 'x-api-key': 'b' })).toEqual({ key: 'a', keyId: null });
    expect(readCredential({ authorization: 'Digest x', 'x-api-key': 'b' })).toEqual({ key: 'b', keyId: null });
  });

  it('tells a missing credential from an unreadable one', () => {
    expect(readCredential({})).toBeNull();
    expect(readCredential({ authorization: 'Bearer ' })).toBe('malformed');
    expect(readCredential({ authorization: 'Basic !!!' })).toBe('malformed');
    expect(readCredential({ authorization: basic('nocolon', '').slice(0, -4) })).toBe('malformed');
    expect(readCredential({ authorization: 'Digest x' })).toBe('malformed');
    expect(readCredential({ 'x-api-key': '  ' })).toBe('malformed');
    expect(readCredential({ 'proxy-authorization': 'Bearer x' })).toBe('malformed');
  });
});

describe('check', () => {
  it('lets a valid key through with the key, by every header form', async () => {
    const created = await newKey();
    const guard = guardFor();
    for (const headers of [bearer(created.key!), { 'x-api-key': created.key! }, { authorization: basic(created.id, created.key!) }]) {
      const outcome = await guard.check(headers, { scopes: ['inference'] });
      expect(outcome).toMatchObject({ ok: true, key: { id: created.id, projectId: s.t.projectId, scopes: ['inference'] } });
    }
  });

  it('verifies identity keys by Basic and Proxy-Authorization', async () => {
    const identity = await newKey({ type: 'identity' });
    const guard = guardFor({ cacheTtlMs: 0 });
    for (const name of ['authorization', 'proxy-authorization']) {
      const outcome = await guard.check({ [name]: basic(identity.username!, identity.password!) });
      expect(outcome).toMatchObject({ ok: true, key: { id: identity.id, type: 'identity' } });
    }
    const wrong = refusal(await guard.check({ 'proxy-authorization': basic(identity.username!, `${identity.password!}x`) }));
    expect(wrong.status).toBe(401);
  });

  it('answers 401 with a challenge for a missing, malformed, unknown or mismatched credential', async () => {
    const guard = guardFor({ realm: 'my api' });
    const missing = refusal(await guard.check({}));
    expect(missing).toMatchObject({ status: 401, body: { status: 'error', type: 'unauthorizedApiKeyError' } });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="my api"');
    expect(missing.body.error.message).toMatch(/Missing API key/);

    expect(refusal(await guard.check({ authorization: 'Bearer ' }))).toMatchObject({ status: 401, body: { error: { message: 'Malformed credential header' } } });
    const unknown = refusal(await guard.check(bearer('kw_live_notarealtokenatall')));
    expect(unknown).toMatchObject({ status: 401, code: 'MALFORMED', body: { type: 'unauthorizedApiKeyError', error: { message: 'Invalid API key' } } });
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="my api", error="invalid_token"');

    // Basic keyId:token where the token is another key's.
    const [a, b] = [await newKey(), await newKey()];
    const mismatched = refusal(await guard.check({ authorization: basic(a.id, b.key!) }));
    expect(mismatched).toMatchObject({ status: 401, body: { error: { message: 'The key id does not match the token' } } });
    // Still refused when the token's VALID answer comes from the cache.
    expect((await guard.check(bearer(b.key!))).ok).toBe(true);
    expect(refusal(await guard.check({ authorization: basic(a.id, b.key!) })).status).toBe(401);
  });

  it('maps disabled and expired keys to 401, scope, environment and host to 403', async () => {
    const guard = guardFor();
    const disabled = await newKey({ enabled: false });
    expect(refusal(await guard.check(bearer(disabled.key!)))).toMatchObject({ status: 401, code: 'DISABLED' });

    const key = await newKey({ scopes: ['inference'] });
    const scope = refusal(await guard.check(bearer(key.key!), { scopes: ['inference', 'data_extraction'] }));
    expect(scope).toMatchObject({ status: 403, code: 'INSUFFICIENT_SCOPE', body: { type: 'unauthorizedApiKeyError' } });
    expect(scope.body.error.message).toContain("'data_extraction'");
    expect(scope.headers['www-authenticate']).toBe('Bearer realm="keyward", error="insufficient_scope", scope="inference data_extraction"');

    expect(refusal(await guard.check(bearer(key.key!), { environment: 'test' }))).toMatchObject({ status: 403, code: 'WRONG_ENVIRONMENT' });

    const bound = await newKey({ host: 'api.example.com' });
    expect((await guard.check({ ...bearer(bound.key!), host: 'api.example.com:8443' })).ok).toBe(true);
    expect(refusal(await guard.check({ ...bearer(bound.key!), host: 'evil.example.net' }))).toMatchObject({ status: 403, code: 'FORBIDDEN_HOST' });
    // The host can be fixed per route, or not sent.
    expect((await guard.check({ ...bearer(bound.key!), host: 'evil.example.net' }, { host: 'api.example.com' })).ok).toBe(true);
    expect(refusal(await guard.check({ ...bearer(bound.key!), host: 'api.example.com' }, { host: false })).code).toBe('FORBIDDEN_HOST');
    const noHeader = guardFor({ hostFromHeader: false });
    expect(refusal(await noHeader.check({ ...bearer(bound.key!), host: 'api.example.com' })).code).toBe('FORBIDDEN_HOST');
  });

  it('accepts only keys of the route project', async () => {
    const key = await newKey();
    const other = await s.kw.projects.create({ name: `other ${Date.now()}` });
    const guard = guardFor();
    expect((await guard.check(bearer(key.key!), { projectId: s.t.projectId })).ok).toBe(true);
    expect(refusal(await guard.check(bearer(key.key!), { projectId: other.id }))).toMatchObject({ status: 401, code: 'NOT_FOUND' });
  });

  it('answers 429 with Retry-After for a rate limit', async () => {
    const key = await newKey({ rateLimit: { limit: 2, windowMs: 60_000 } });
    const guard = guardFor();
    expect((await guard.check(bearer(key.key!))).ok).toBe(true);
    expect((await guard.check(bearer(key.key!))).ok).toBe(true);
    const limited = refusal(await guard.check(bearer(key.key!)));
    expect(limited).toMatchObject({ status: 429, code: 'RATE_LIMITED', body: { type: 'rateLimitedError' } });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });
});

describe('cache', () => {
  it('serves a plain key from the cache: one verification for many requests', async () => {
    const key = await newKey();
    const counter = countingFetch();
    const guard = guardFor({ fetch: counter.fetch });
    const first = await guard.check(bearer(key.key!), { scopes: ['inference'] });
    expect(first).toMatchObject({ ok: true, cached: false, result: { cacheForMs: 5000 } });
    for (let i = 0; i < 10; i++) expect(await guard.check(bearer(key.key!), { scopes: ['inference'] })).toMatchObject({ ok: true, cached: true, key: { id: key.id } });
    expect(counter.verifies()).toBe(1);
    // Another requirement is another question.
    expect(await guard.check(bearer(key.key!), { scopes: ['inference'], environment: 'live' })).toMatchObject({ ok: true, cached: false });
    expect(counter.verifies()).toBe(2);
    expect(guard.size).toBe(2);

    // The server's log has the one verification per requirement.
    await s.t.built.logs.flush();
    const { logs } = await s.kw.logs.list(s.t.projectId, { keyId: key.id });
    expect(logs).toHaveLength(2);
  });

  it('caches nothing with cacheTtlMs 0, and no refusal ever', async () => {
    const key = await newKey();
    const counter = countingFetch();
    const off = guardFor({ fetch: counter.fetch, cacheTtlMs: 0 });
    for (let i = 0; i < 3; i++) expect(await off.check(bearer(key.key!))).toMatchObject({ ok: true, cached: false });
    expect(counter.verifies()).toBe(3);

    const on = guardFor({ fetch: counter.fetch });
    for (let i = 0; i < 3; i++) expect((await on.check(bearer(key.key!), { scopes: ['admin'] })).ok).toBe(false);
    expect(counter.verifies()).toBe(6);
    expect(on.size).toBe(0);
  });

  it('admits exactly the quota: 20 of 20, then 429, every one counted by the server', async () => {
    const key = await newKey({ limitedAmount: 20 });
    const counter = countingFetch();
    const guard = guardFor({ fetch: counter.fetch, cacheTtlMs: 60_000 });
    const outcomes = [];
    for (let i = 0; i < 25; i++) outcomes.push(await guard.check(bearer(key.key!)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(20);
    expect(outcomes.slice(0, 20).every((o) => o.ok && !o.cached && o.result?.cacheForMs === 0)).toBe(true);
    const spent = refusal(outcomes[20]!);
    expect(spent).toMatchObject({ status: 429, code: 'USAGE_EXCEEDED', body: { type: 'usageExceededError' }, headers: {} });
    expect(counter.verifies()).toBe(25);
    expect(guard.size).toBe(0);
  });

  it('a spent quota that refills says when (Retry-After); one that does not, does not', async () => {
    const daily = await newKey({ limitedAmount: 1, refill: { interval: 'daily' } });
    const guard = guardFor({ now: s.t.clock.read }); // the server's clock
    expect((await guard.check(bearer(daily.key!))).ok).toBe(true);
    const spent = refusal(await guard.check(bearer(daily.key!)));
    expect(spent).toMatchObject({ status: 429, code: 'USAGE_EXCEEDED' });
    const midnight = new Date(s.t.clock.read());
    midnight.setUTCHours(24, 0, 0, 0);
    // The wall clock moves between the server's answer and this line: within a second.
    expect(Math.abs(Number(spent.headers['retry-after']) - (midnight.getTime() - s.t.clock.read()) / 1000)).toBeLessThanOrEqual(1);

    const once = await newKey({ limitedAmount: 1 });
    expect((await guard.check(bearer(once.key!))).ok).toBe(true);
    expect(refusal(await guard.check(bearer(once.key!))).headers).toEqual({});
  });

  it('admits exactly the quota under concurrency too', async () => {
    const key = await newKey({ limitedAmount: 20 });
    const guard = guardFor({ cacheTtlMs: 60_000 });
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => guard.check(bearer(key.key!))));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(20);
    expect(outcomes.filter((o) => !o.ok && o.status === 429)).toHaveLength(20);
  });

  it('refuses a disabled or deleted key within the TTL', async () => {
    const ttl = 300;
    for (const revoke of [(id: string) => s.kw.keys.update(id, { enabled: false }), (id: string) => s.kw.keys.delete(id)]) {
      const key = await newKey();
      const guard = guardFor({ cacheTtlMs: ttl });
      expect(await guard.check(bearer(key.key!))).toMatchObject({ ok: true, cached: false });
      expect(await guard.check(bearer(key.key!))).toMatchObject({ ok: true, cached: true });
      const revokedAt = Date.now();
      await revoke(key.id);
      // Allowed while the cached answer lasts; refused once it is gone (generous margin: no tight timing).
      await waitFor(async () => !(await guard.check(bearer(key.key!))).ok, 'the revoked key to be refused', ttl + 2_000);
      expect(Date.now() - revokedAt).toBeLessThan(ttl + 2_000);
      expect((await guard.check(bearer(key.key!))).ok).toBe(false);
    }
  });

  it('never keeps an answer longer than the server says', async () => {
    const key = await newKey({ expiresAt: new Date(Date.now() + 400).toISOString() });
    const guard = guardFor({ cacheTtlMs: 60_000 });
    const first = await guard.check(bearer(key.key!));
    expect(first.ok).toBe(true);
    expect(first.ok && first.result!.cacheForMs).toBeLessThanOrEqual(400);
    await waitFor(async () => !(await guard.check(bearer(key.key!))).ok, 'the expired key to be refused', 3_000);
  });

  it('holds at most maxEntries answers, dropping the least recently used', async () => {
    const keys = [await newKey(), await newKey(), await newKey()];
    const counter = countingFetch();
    const guard = guardFor({ fetch: counter.fetch, maxEntries: 2 });
    await guard.check(bearer(keys[0]!.key!));
    await guard.check(bearer(keys[1]!.key!));
    await guard.check(bearer(keys[0]!.key!)); // 0 is now the most recent
    await guard.check(bearer(keys[2]!.key!)); // evicts 1
    expect(guard.size).toBe(2);
    expect(counter.verifies()).toBe(3);
    expect(await guard.check(bearer(keys[0]!.key!))).toMatchObject({ cached: true });
    expect(await guard.check(bearer(keys[1]!.key!))).toMatchObject({ cached: false });
    expect(counter.verifies()).toBe(4);
  });
});

describe('Keyward unavailable', () => {
  it('fails closed by default: 503 and a log line', async () => {
    const { logger, lines } = recordingLogger();
    const guard = createGuard({ baseUrl: await closedPort(), logger });
    const started = Date.now();
    const outcome = refusal(await guard.check(bearer('kw_live_whatever')));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome).toMatchObject({ status: 503, body: { status: 'error', type: 'keywardUnavailableError' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Keyward is unavailable \(networkError: .*\); failing closed/);
  });

  it('fails open when configured: through with key null, and a log line', async () => {
    const { logger, lines } = recordingLogger();
    const guard = createGuard({ baseUrl: await closedPort(), logger, failOpen: true });
    expect(await guard.check(bearer('kw_live_whatever'))).toEqual({ ok: true, key: null, result: null, cached: false });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/failing OPEN/);
    // A request without any credential is still refused: failing open is about Keyward, not about the caller.
    expect(refusal(await guard.check({})).status).toBe(401);
  });

  it('never hangs: a Keyward that does not answer times out', async () => {
    const silent = await silentServer();
    try {
      for (const failOpen of [false, true]) {
        const { logger, lines } = recordingLogger();
        const guard = createGuard({ baseUrl: silent.baseUrl, logger, failOpen, timeoutMs: 300 });
        const started = Date.now();
        const outcome = await guard.check(bearer('kw_live_whatever'));
        expect(Date.now() - started).toBeLessThan(300 + 1_500);
        expect(outcome.ok).toBe(failOpen);
        if (!outcome.ok) expect(outcome.status).toBe(503);
        expect(lines[0]).toMatch(/timeoutError/);
      }
    } finally {
      await silent.close();
    }
  });

  it('keeps serving cached answers while Keyward is down, and logs at most once per interval', async () => {
    const key = await newKey();
    const live = countingFetch();
    let down = false;
    const { logger, lines } = recordingLogger();
    const guard = createGuard({
      baseUrl: s.baseUrl,
      logger,
      logIntervalMs: 60_000,
      fetch: (input, init) => (down ? Promise.reject(new TypeError('fetch failed')) : live.fetch(input, init)),
    });
    expect((await guard.check(bearer(key.key!))).ok).toBe(true);
    down = true;
    expect(await guard.check(bearer(key.key!))).toMatchObject({ ok: true, cached: true });
    for (let i = 0; i < 5; i++) expect(refusal(await guard.check(bearer(`${key.key!}x`))).status).toBe(503);
    expect(lines).toHaveLength(1);
  });
});
