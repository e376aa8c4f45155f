// Races over real sockets: the quota and the key limit must hold under hundreds of concurrent calls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKey, startApp, type TestApp } from './helpers.js';

let t: TestApp;
let base: string;
beforeEach(async () => {
  t = await startApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await t.close();
});

async function post(path: string, body: unknown, token?: string): Promise<{ status: number; body: { code?: string; type?: string } }> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { code?: string; type?: string } };
}

describe('under concurrency', () => {
  it('500 concurrent verifies of a key with limitedAmount 100 admit exactly 100', async () => {
    const key = await createKey(t, { limitedAmount: 100 });
    const results = await Promise.all(Array.from({ length: 500 }, () => post('/v1/keys/verify', { key: key.key })));
    const codes = results.map((r) => r.body.code);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(codes.filter((c) => c === 'VALID')).toHaveLength(100);
    expect(codes.filter((c) => c === 'USAGE_EXCEEDED')).toHaveLength(400);
    const stored = await t.call('GET', `/v1/keys/${key.id}`);
    expect(stored.body.apiKey.usedAmount).toBe(100);
  });

  it('concurrent verifies with costs never pass the quota', async () => {
    const key = await createKey(t, { limitedAmount: 1000 });
    const costs = Array.from({ length: 300 }, (_, i) => (i % 7) + 1);
    const results = await Promise.all(costs.map((cost) => post('/v1/keys/verify', { key: key.key, cost })));
    const admitted = results.reduce((sum, r, i) => sum + (r.body.code === 'VALID' ? costs[i]! : 0), 0);
    expect(admitted).toBeLessThanOrEqual(1000);
    const stored = await t.call('GET', `/v1/keys/${key.id}`);
    expect(stored.body.apiKey.usedAmount).toBe(admitted);
  });

  it('a rate limit of 50 per window admits exactly 50 of 200 concurrent calls', async () => {
    t.clock.now = Date.UTC(2030, 0, 1); // start of a window, so the burst stays in one
    const key = await createKey(t, { rateLimit: { limit: 50, windowMs: 60_000 } });
    const results = await Promise.all(Array.from({ length: 200 }, () => post('/v1/keys/verify', { key: key.key })));
    expect(results.filter((r) => r.body.code === 'VALID')).toHaveLength(50);
    expect(results.filter((r) => r.body.code === 'RATE_LIMITED')).toHaveLength(150);
  });

  it('30 concurrent creates for one account stop exactly at the key limit', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => post(`/v1/projects/${t.projectId}/keys`, {}, t.ownerKey)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(9); // plus the owner's admin key = 10
    expect(results.filter((r) => r.status === 409 && r.body.type === 'keyLimitReachedError')).toHaveLength(21);
    expect((await t.call('GET', `/v1/projects/${t.projectId}/keys`)).body.total).toBe(10);
  });

  it('concurrent creates with the same name make exactly one key', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => post(`/v1/projects/${t.projectId}/keys`, { name: 'same' }, t.ownerKey)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.type === 'duplicateNameError')).toHaveLength(7);
  });
});
