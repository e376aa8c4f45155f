// The verify fast path (real HTTP) answers exactly as the Fastify route does (inject, which does
// not pass through the server's request handler): same status, body and content type, for good
// and bad input alike; and what it hands to Fastify still gets Fastify's answers.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, startApp, type TestApp } from '../../test/helpers.js';

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await startApp({ env: { KEYWARD_TRUST_PROXY: 'true', KEYWARD_USAGE_FLUSH_MS: '60000' } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await t.close();
});

interface Answer {
  status: number;
  contentType: string | undefined;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

function overHttp(body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/v1/keys/verify', method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: text === '' ? undefined : JSON.parse(text), headers: res.headers }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function throughFastify(body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/v1/keys/verify', method = 'POST'): Promise<Answer> {
  const response = await t.app.inject({ method: method as 'POST', url: path, headers, payload: body });
  return {
    status: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    body: response.body === '' ? undefined : response.json(),
    headers: response.headers as Answer['headers'],
  };
}

async function expectSame(body: string | Buffer, headers?: Record<string, string>): Promise<Answer> {
  const [fast, fastify] = [await overHttp(body, headers), await throughFastify(body, headers)];
  expect({ status: fast.status, contentType: fast.contentType, body: fast.body }).toEqual({ status: fastify.status, contentType: fastify.contentType, body: fastify.body });
  return fast;
}

describe('verify fast path', () => {
  it('answers valid, refused, unknown and malformed keys as the Fastify route does', async () => {
    const key = await createKey(t, { name: 'fast', scopes: ['inference'], meta: { plan: 'pro' } });
    const wellFormedUnknown = key.key.slice(0, 8) + 'A'.repeat(key.key.length - 8);
    const cases = [
      { key: key.key },
      { key: key.key, scopes: ['inference'], environment: 'live', cost: 0 },
      { key: key.key, scopes: ['data_extraction'] },
      { key: key.key, environment: 'test' },
      { key: key.key, projectId: 'proj_01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      { key: wellFormedUnknown },
      { key: key.key.slice(0, -1) + (key.key.endsWith('a') ? 'b' : 'a') },
      { key: '' },
    ];
    for (const body of cases) {
      const answer = await expectSame(JSON.stringify(body));
      expect(answer.status).toBe(200);
    }
    const valid = await overHttp(JSON.stringify({ key: key.key }));
    expect(valid.body).toMatchObject({ valid: true, code: 'VALID', key: { id: key.id, meta: { plan: 'pro' } }, cacheForMs: expect.any(Number) });
  });

  it('answers with usage, rate limit and missing scopes, and meta that needs escaping, in JSON', async () => {
    const meta = { note: 'quote " backslash \\ newline \n tab \t', emoji: '🔑', nested: { list: [1, null, 'x'] } };
    const key = await createKey(t, { name: 'counted', scopes: ['inference'], meta, limitedAmount: 5, refill: { interval: 'daily' }, rateLimit: { limit: 100, windowMs: 60_000 } });
    for (const used of [1, 2]) {
      const answer = await overHttp(JSON.stringify({ key: key.key, scopes: ['inference'] }));
      expect(answer.body).toEqual({
        valid: true,
        code: 'VALID',
        key: expect.objectContaining({ id: key.id, meta, scopes: ['inference'] }),
        usage: { limit: 5, used, remaining: 5 - used, refillAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT00:00:00\.000Z$/) },
        rateLimit: { limit: 100, remaining: 100 - used, resetAt: expect.any(String) },
        cacheForMs: 0,
      });
    }
    const missing = await expectSame(JSON.stringify({ key: key.key, scopes: ['inference', 'data_extraction'] }));
    expect(missing.body).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE', missingScopes: ['data_extraction'], key: { meta } });
  });

  it('refuses bad input with the same 400 envelope naming the field', async () => {
    const bad = [
      '{"key": ',
      '[]',
      '"kw_live_x"',
      '{}',
      '{"key": 12}',
      '{"key": "x", "extra": true}',
      '{"key": "a", "key": "b"}',
      '{"key": "x", "__proto__": {"admin": true}}',
      '{"key": "x", "cost": 1e400}',
      '{"key": "x", "cost": -1}',
      '{"key": "x", "scopes": "inference"}',
      '{"key": "x", "host": "' + 'h'.repeat(301) + '"}',
    ];
    for (const body of bad) {
      const answer = await expectSame(body);
      expect(answer.status, body.slice(0, 60)).toBe(400);
      expect(answer.body).toMatchObject({ status: 'error', type: 'validationError', error: { field: expect.any(String) } });
    }
    // A control character is a string like any other (the key is then MALFORMED); bytes that are
    // not UTF-8 are read the same way on both paths.
    expect((await expectSame('{"key": "x\\u0000"}')).body).toMatchObject({ code: 'MALFORMED' });
    await expectSame(Buffer.from([0x7b, 0x22, 0x6b, 0x65, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  });

  it('hands what it does not handle to Fastify: other media types, oversized bodies, other methods and paths', async () => {
    expect((await expectSame('{"key":"x"}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await expectSame('{"key":"x"}', { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await expectSame('{"key":"x"}', { 'content-type': 'Application/JSON' })).status).toBe(200);
    expect((await expectSame(JSON.stringify({ key: 'x'.repeat(70 * 1024) }))).status).toBe(413);
    // GET /v1/keys/verify is the admin route GET /v1/keys/{keyId}: no credential, 401.
    const get = await overHttp('', {}, '/v1/keys/verify', 'GET');
    expect(get.status).toBe(401);
    const query = await overHttp('{"key":"x"}', { 'content-type': 'application/json' }, '/v1/keys/verify?debug=1');
    expect(query.status).toBe(200);
  });

  it('reads a body that arrives in pieces, and shrugs off a client that hangs up halfway through one', async () => {
    const key = await createKey(t, { name: 'in pieces' });
    const body = JSON.stringify({ key: key.key });
    const head = `POST /v1/keys/verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    // Pieces: the body's halves a turn apart reach the handler as two chunks.
    const pieces = connect(port, '127.0.0.1');
    let reply = '';
    pieces.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    const closed = new Promise((resolve) => pieces.once('close', resolve));
    pieces.write(head + body.slice(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 50));
    pieces.write(body.slice(20));
    await closed;
    expect(reply).toMatch(/^HTTP\/1.1 200 OK/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ valid: true, code: 'VALID' });
    // Hang-up: half a body, then the connection is gone; no answer is owed, and the server goes on.
    const halfway = connect(port, '127.0.0.1');
    await new Promise((resolve) => halfway.once('connect', resolve));
    halfway.write(head + body.slice(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 50));
    halfway.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await overHttp(body)).body).toMatchObject({ valid: true, code: 'VALID' });
  });

  it('logs the client address X-Forwarded-For names when the proxy is trusted, and counts the requests in /metrics', async () => {
    const key = await createKey(t, { name: 'behind a proxy' });
    const answer = await overHttp(JSON.stringify({ key: key.key }), { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9, 10.0.0.1' });
    expect(answer.status).toBe(200);
    await t.built.logs.flush();
    const logs = await t.call('GET', `/v1/projects/${t.projectId}/logs`, { query: { keyId: key.id } });
    expect(logs.body.logs.map((entry: { ip: string }) => entry.ip)).toEqual(['203.0.113.9']);
    const metrics = await t.call('GET', '/metrics');
    expect(metrics.text).toMatch(/keyward_http_requests_total\{method="POST",route="\/v1\/keys\/verify",status="200"\} \d+/);
    expect(metrics.text).toMatch(/keyward_http_requests_total\{method="POST",route="\/v1\/keys\/verify",status="400"\} \d+/);
  });
});
