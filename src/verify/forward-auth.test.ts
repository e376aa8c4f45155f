// Forward-auth as a gateway calls it: the original request's headers in, a status and X-Keyward-*
// headers out. (The real nginx in front of it is exercised elsewhere.)
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMember, createKey, startApp, type ApiResponse, type TestApp } from '../../test/helpers.js';

let t!: TestApp;
beforeEach(async () => {
  t = await startApp();
});
afterEach(async () => {
  await t.close();
});

function forward(headers: Record<string, string>, query = '', method: 'GET' | 'POST' = 'GET', path = '/v1/forward-auth'): Promise<ApiResponse> {
  return t.call(method, `${path}${query}`, { token: null, headers });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('forward-auth', () => {
  it('200 with the key described in X-Keyward-* headers, for every way of presenting it', async () => {
    const key = await createKey(t, { name: 'gateway', scopes: ['inference', 'project'], limitedAmount: 100 });
    const ways: Record<string, string>[] = [{ authorization: `Bearer ${key.key}` }, { 'x-api-key': key.key }, { authorization: basic(key.id, key.key) }];
    for (const [i, headers] of ways.entries()) {
      const response = await forward(headers, '?scopes=inference');
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(response.headers).toMatchObject({
        'x-keyward-code': 'VALID',
        'x-keyward-key-id': key.id,
        'x-keyward-account-id': t.ownerId,
        'x-keyward-project-id': t.projectId,
        'x-keyward-environment': 'live',
        'x-keyward-scopes': 'inference,project',
        'x-keyward-remaining': String(100 - (i + 1)),
        'cache-control': 'no-store',
      });
    }
  });

  it('identity keys through Proxy-Authorization: Basic username:password', async () => {
    const identity = await createKey(t, { name: 'proxy user', type: 'identity' });
    const ok = await forward({ 'proxy-authorization': basic(identity.username, identity.password) });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-keyward-key-id']).toBe(identity.id);
    // The last character changed (to one it is not: a password may well end in 'x').
    const wrongPassword = identity.password.slice(0, -1) + (identity.password.endsWith('x') ? 'y' : 'x');
    const wrong = await forward({ 'proxy-authorization': basic(identity.username, wrongPassword) });
    expect(wrong.status).toBe(401);
  });

  it('401 with a challenge for a missing, malformed, unknown, disabled or expired key', async () => {
    const disabled = await createKey(t, { name: 'off', enabled: false });
    const cases: [Record<string, string>, string][] = [
      [{}, 'MISSING'],
      [{ authorization: 'Bearer' }, 'MALFORMED'],
      [{ authorization: 'Bearer kw_live_nope' }, 'MALFORMED'],
      [{ authorization: `Bearer ${disabled.key}` }, 'DISABLED'],
    ];
    for (const [headers, code] of cases) {
      const response = await forward(headers);
      expect(response.status, code).toBe(401);
      expect(response.headers['x-keyward-code']).toBe(code);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="keyward"/);
      expect(response.body).toMatchObject({ status: 'error', type: 'unauthorizedApiKeyError' });
    }
    // Basic keyId:token must name the token's own key.
    const a = await createKey(t, { name: 'a' });
    const b = await createKey(t, { name: 'b' });
    expect((await forward({ authorization: basic(b.id, a.key) })).status).toBe(401);
  });

  it('403 for a missing scope, another environment or a host outside the binding', async () => {
    const key = await createKey(t, { name: 'bound', scopes: ['inference'], host: 'api.example.com' });
    const auth = { authorization: `Bearer ${key.key}` };
    const scope = await forward({ ...auth, 'x-forwarded-host': 'api.example.com' }, '?scopes=inference,data_extraction');
    expect(scope.status).toBe(403);
    expect(scope.headers['x-keyward-code']).toBe('INSUFFICIENT_SCOPE');
    expect(scope.body.error.message).toContain('data_extraction');
    const environment = await forward({ ...auth, 'x-forwarded-host': 'api.example.com' }, '?environment=test');
    expect(environment.headers['x-keyward-code']).toBe('WRONG_ENVIRONMENT');
    expect(environment.status).toBe(403);
    const host = await forward({ ...auth, 'x-forwarded-host': 'evil.example.com' });
    expect([host.status, host.headers['x-keyward-code']]).toEqual([403, 'FORBIDDEN_HOST']);
    const original = await forward({ ...auth, 'x-original-host': 'api.example.com:8443' });
    expect(original.status).toBe(200);
  });

  it('429 with Retry-After for a rate limit, and for a spent quota', async () => {
    const limited = await createKey(t, { name: 'limited', rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await forward({ authorization: `Bearer ${limited.key}` })).status).toBe(200);
    const throttled = await forward({ authorization: `Bearer ${limited.key}` });
    expect(throttled.status).toBe(429);
    expect(throttled.headers['x-keyward-code']).toBe('RATE_LIMITED');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const quota = await createKey(t, { name: 'quota', limitedAmount: 3 });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await forward({ authorization: `Bearer ${quota.key}` }, '?cost=1')).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const spent = await forward({ authorization: `Bearer ${quota.key}` });
    expect([spent.status, spent.headers['x-keyward-code'], spent.headers['retry-after']]).toEqual([429, 'USAGE_EXCEEDED', undefined]);
    // A refilling quota says when it comes back.
    const daily = await createKey(t, { name: 'daily', limitedAmount: 1, refill: { interval: 'daily' } });
    expect((await forward({ authorization: `Bearer ${daily.key}` })).status).toBe(200);
    const wait = await forward({ authorization: `Bearer ${daily.key}` });
    expect(wait.status).toBe(429);
    expect(Number(wait.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(wait.headers['retry-after'])).toBeLessThanOrEqual(86_400);
  });

  it('below the prefix (Envoy) takes requirements only from X-Keyward-Require-* headers; the base path only from its query', async () => {
    const key = await createKey(t, { name: 'envoy', scopes: ['inference'], limitedAmount: 10 });
    const auth = { authorization: `Bearer ${key.key}` };
    const missing = await forward({ ...auth, 'x-keyward-require-scopes': 'data_extraction' }, '', 'POST', '/v1/forward-auth/api/v2/things');
    expect(missing.status).toBe(403);
    const ok = await forward({ ...auth, 'x-keyward-require-scopes': 'inference', 'x-keyward-require-cost': '4', 'content-type': 'text/plain' }, '', 'POST', '/v1/forward-auth/api/v2/things');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-keyward-remaining']).toBe('6');
    // The client's own query, appended by Envoy, cannot lower what the gateway requires.
    const sneaky = await forward({ ...auth, 'x-keyward-require-scopes': 'data_extraction' }, '?scopes=inference&cost=0&anything=else', 'POST', '/v1/forward-auth/api');
    expect(sneaky.status).toBe(403);
    const clientQuery = await forward({ ...auth, 'x-keyward-require-scopes': 'inference' }, '?page=2&q=anything', 'GET', '/v1/forward-auth/api/items');
    expect(clientQuery.status).toBe(200);
    // Nor can headers a client slips through nginx lower what the address's query requires.
    const headers = await forward({ ...auth, 'x-keyward-require-cost': '0', 'x-keyward-require-scopes': 'inference' }, '?scopes=data_extraction&cost=1');
    expect(headers.status).toBe(403);
    const charged = await forward({ ...auth, 'x-keyward-require-cost': '0' }, '?cost=2');
    expect(charged.headers['x-keyward-remaining']).toBe('3'); // 10 − 4 − 1 (the client-query call) − 2
  });

  it('refuses bad requirements with a validation error naming them', async () => {
    const key = await createKey(t, { name: 'k' });
    const auth = { authorization: `Bearer ${key.key}` };
    for (const [query, headers, field] of [
      ['?scopes=Bad Scope', {}, 'scopes'],
      ['?environment=prod', {}, 'environment'],
      ['?cost=-1', {}, 'cost'],
      ['/x', { 'x-keyward-require-cost': 'lots' }, 'cost'],
      ['/x', { 'x-keyward-require-environment': 'staging' }, 'environment'],
    ] as const) {
      const response = query.startsWith('/') ? await forward({ ...auth, ...headers }, '', 'GET', `/v1/forward-auth${query}`) : await forward({ ...auth, ...headers }, query);
      expect(response.status, `${query} ${JSON.stringify(headers)}`).toBe(400);
      expect(response.body.error.field).toBe(field);
    }
  });

  it('is recorded like any verification, and a viewer’s key works for data-plane scopes only as verify allows', async () => {
    const key = await createKey(t, { name: 'logged' });
    await forward({ authorization: `Bearer ${key.key}` });
    await t.built.logs.flush();
    const logs = await t.call('GET', `/v1/projects/${t.projectId}/logs`, { query: { keyId: key.id } });
    expect(logs.body.logs.map((entry: { outcome: string }) => entry.outcome)).toEqual(['VALID']);
    const viewer = await addMember(t, 'viewer', ['inference']);
    const refused = await forward({ authorization: `Bearer ${viewer.token}` }, '?scopes=inference');
    expect(refused.status).toBe(403);
  });
});
