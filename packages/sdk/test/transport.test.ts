// Timeouts, retries and error mapping against scripted loopback servers: which failures are
// retried for which methods, how often, and what the caller gets when they are not.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyward, KeywardError, type KeywardOptions } from '../src/index.js';
import { backoffMs, isRetryable, parseRetryAfter, RETRY_BASE_MS, RETRY_CAP_MS } from '../src/transport.js';
import { envelope, StubServer, type Answer } from './stub-server.js';
import { failure } from './failure.js';

const KEY_ID = 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const PROJECT_ID = 'proj_01ARZ3NDEKTSV4RRFFQ69G5FAV';

const stubs: StubServer[] = [];
afterEach(async () => {
  for (const stub of stubs.splice(0)) await stub.close();
});

async function stub(...answers: Answer[]): Promise<StubServer> {
  const server = await StubServer.start();
  stubs.push(server);
  return server.answer(...answers);
}

function client(server: StubServer, options: Partial<KeywardOptions> = {}): Keyward {
  return new Keyward({ baseUrl: server.baseUrl, token: 'kw_live_admin', ...options });
}

const unavailable: Answer = { status: 503, body: envelope('internalError', 'Service unavailable') };

describe('requests', () => {
  it('sends the admin token, JSON and a User-Agent; encodes path and query; never sends the token to verify', async () => {
    const server = await stub({ status: 200, body: { apiKeys: [] } }, { status: 201, body: { apiKey: { id: KEY_ID } } }, { status: 200, body: { valid: false } });
    const kw = client(server);
    await kw.keys.list(PROJECT_ID, { search: 'a b&c', pageSize: 5, environment: undefined });
    await kw.keys.create(PROJECT_ID, { name: 'x' });
    await kw.verify({ key: 'kw_live_x' });

    const [list, create, verify] = server.requests;
    expect(list).toMatchObject({ method: 'GET', url: `/v1/projects/${PROJECT_ID}/keys?search=a+b%26c&pageSize=5`, body: '' });
    expect(list!.headers).toMatchObject({ authorization: 'Bearer kw_live_admin', accept: 'application/json' });
    expect(list!.headers['user-agent']).toMatch(/^keyward-sdk\/\d+\.\d+\.\d+$/);
    expect(list!.headers['content-type']).toBeUndefined();
    expect(create).toMatchObject({ method: 'POST', body: '{"name":"x"}' });
    expect(create!.headers['content-type']).toBe('application/json');
    expect(verify).toMatchObject({ method: 'POST', url: '/v1/keys/verify', body: '{"key":"kw_live_x"}' });
    expect(verify!.headers.authorization).toBeUndefined();
  });

  it('keeps a path prefix of the base URL and takes a custom fetch and User-Agent', async () => {
    const server = await stub();
    const seen: string[] = [];
    const kw = new Keyward({
      baseUrl: `${server.baseUrl}/keyward/`,
      userAgent: 'my-service/1.0',
      fetch: (input, init) => {
        seen.push(input instanceof Request ? input.url : input.toString());
        return fetch(input, init);
      },
    });
    await kw.workspace.get();
    expect(seen).toEqual([`${server.baseUrl}/keyward/v1/workspace`]);
    expect(server.requests[0]!.headers['user-agent']).toBe('my-service/1.0');
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses a bad base URL or path parameter before sending anything', async () => {
    expect(() => new Keyward({ baseUrl: 'not a url' })).toThrow(TypeError);
    expect(() => new Keyward({ baseUrl: 'http://x', retries: -1 })).toThrow(RangeError);
    expect(() => new Keyward({ baseUrl: 'http://x', token: 'kw_live_secret\n' })).toThrow(/^(?!.*kw_live_secret).*printable ASCII/);
    const server = await stub();
    await expect(client(server).keys.get('')).rejects.toThrow(TypeError);
    await client(server).keys.get('key/../../x');
    expect(server.requests.map((request) => request.url)).toEqual(['/v1/keys/key%2F..%2F..%2Fx']);
  });
});

describe('errors without an envelope', () => {
  it('a non-Keyward error answer is an httpError with its status', async () => {
    const server = await stub({ status: 404, body: '<html>Not here</html>' });
    expect(await failure(client(server).projects.list())).toMatchObject({ type: 'httpError', status: 404 });
  });

  it('a 2xx answer that is not JSON is an invalidResponseError', async () => {
    const server = await stub({ status: 200, body: 'hello' });
    expect(await failure(client(server).projects.list())).toMatchObject({ type: 'invalidResponseError', status: 200 });
  });

  it('a refused connection is a networkError with status 0 and the cause', async () => {
    const port = await closedPort();
    const error = await failure(new Keyward({ baseUrl: `http://127.0.0.1:${port}`, retries: 0 }).projects.list());
    expect(error).toMatchObject({ type: 'networkError', status: 0 });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('timeouts', () => {
  it('a server that never answers is a timeoutError (status 0)', async () => {
    const server = await stub('hang');
    const error = await failure(client(server, { timeoutMs: 200 }).keys.create(PROJECT_ID));
    expect(error).toMatchObject({ type: 'timeoutError', status: 0 });
    expect(error.message).toContain('200 ms');
    expect(server.requests).toHaveLength(1);
  });

  it('the body must arrive within the timeout too', async () => {
    const server = await stub('hang-after-headers');
    expect(await failure(client(server, { timeoutMs: 200, retries: 0 }).projects.list())).toMatchObject({ type: 'timeoutError', status: 0 });
  });

  it('an idempotent call is tried again after a timeout', async () => {
    const server = await stub('hang', { status: 200, body: { projects: [] } });
    expect(await client(server, { timeoutMs: 200 }).projects.list()).toEqual({ projects: [] });
    expect(server.requests).toHaveLength(2);
  });
});

describe('retries', () => {
  it('GET: 503 twice, then 200: succeeds on the third request', async () => {
    const server = await stub(unavailable, unavailable, { status: 200, body: { projects: [] } });
    expect(await client(server).projects.list()).toEqual({ projects: [] });
    expect(server.requests).toHaveLength(3);
  });

  it('GET: at most `retries` extra attempts, then the last error', async () => {
    const server = await stub(unavailable, unavailable, { status: 502, body: envelope('internalError', 'Bad gateway') });
    expect(await failure(client(server).projects.list())).toMatchObject({ type: 'internalError', status: 502 });
    expect(server.requests).toHaveLength(3);

    const none = await stub(unavailable);
    expect(await failure(client(none, { retries: 0 }).projects.list())).toMatchObject({ status: 503 });
    expect(none.requests).toHaveLength(1);
  });

  it('GET: a network error (connection dropped) is tried again', async () => {
    const server = await stub('drop', { status: 200, body: { projects: [] } });
    expect(await client(server).projects.list()).toEqual({ projects: [] });
    expect(server.requests).toHaveLength(2);
  });

  it('PUT and DELETE are idempotent too', async () => {
    const server = await stub(unavailable, { status: 200, body: { push: { webhookUrl: 'https://x' } } }, unavailable, { status: 204 });
    expect(await client(server).push.set(KEY_ID, { webhookUrl: 'https://x' })).toEqual({ webhookUrl: 'https://x' });
    await client(server).keys.delete(KEY_ID);
    expect(server.requests.map((request) => request.method)).toEqual(['PUT', 'PUT', 'DELETE', 'DELETE']);
  });

  it('DELETE: a 404 after an attempt of unknown fate means the first one deleted it', async () => {
    const notFound: Answer = { status: 404, body: envelope('notFoundError', 'Key not found') };
    const server = await stub('drop', notFound);
    await client(server).keys.delete(KEY_ID);
    expect(server.requests).toHaveLength(2);
    // A 404 at the first attempt stays an error.
    const direct = await stub(notFound);
    expect(await failure(client(direct).keys.delete(KEY_ID))).toMatchObject({ type: 'notFoundError', status: 404 });
  });

  it('POST: a 503 without Retry-After is not retried (the work may have been done)', async () => {
    const server = await stub(unavailable);
    expect(await failure(client(server).keys.create(PROJECT_ID))).toMatchObject({ type: 'internalError', status: 503 });
    expect(server.requests).toHaveLength(1);
  });

  it('POST: a network error or timeout is not retried; a verify is never sent twice', async () => {
    const server = await stub('drop');
    expect(await failure(client(server).verify({ key: 'kw_live_x' }))).toMatchObject({ type: 'networkError', status: 0 });
    expect(server.requests).toHaveLength(1);
  });

  it('PATCH: a 500 is not retried', async () => {
    const server = await stub({ status: 500, body: envelope('internalError', 'Internal server error') });
    expect(await failure(client(server).keys.update(KEY_ID, { enabled: false }))).toMatchObject({ status: 500 });
    expect(server.requests).toHaveLength(1);
  });

  it('POST: a 429 or 503 with Retry-After is retried (the server refused before doing anything)', async () => {
    const throttled: Answer = { status: 429, headers: { 'retry-after': '0' }, body: envelope('rateLimitedError', 'Rate limit of this API key reached') };
    const server = await stub(throttled, { status: 200, body: { apiKey: { id: KEY_ID } } });
    expect(await client(server).keys.rotate(KEY_ID)).toEqual({ id: KEY_ID });
    expect(server.requests).toHaveLength(2);

    const busy = await stub({ ...unavailable, headers: { 'retry-after': '0' } }, { status: 200, body: { valid: true } });
    expect(await client(busy).verify({ key: 'kw_live_x' })).toEqual({ valid: true });
    expect(busy.requests).toHaveLength(2);
  });

  it('429 without Retry-After (a spent quota) is final, for GET too', async () => {
    const server = await stub({ status: 429, body: envelope('usageExceededError', 'Usage limit of this API key reached') });
    const error = await failure(client(server).projects.list());
    expect(error).toMatchObject({ type: 'usageExceededError', status: 429, retryAfterSeconds: undefined });
    expect(server.requests).toHaveLength(1);
  });

  it('a Retry-After beyond maxRetryAfterSeconds is handed to the caller instead of waited for', async () => {
    const server = await stub({ status: 429, headers: { 'retry-after': '120' }, body: envelope('rateLimitedError', 'Rate limit of this API key reached') });
    const error = await failure(client(server).projects.list());
    expect(error).toMatchObject({ type: 'rateLimitedError', status: 429, retryAfterSeconds: 120 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('retry rules', () => {
  const error = (status: number, type = 'internalError', retryAfterSeconds?: number) => new KeywardError({ type, status, message: '', retryAfterSeconds });

  it('retries idempotent methods after network errors, timeouts and 5xx; POST and PATCH only when refused with Retry-After', () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      expect(isRetryable(method, error(0, 'networkError'))).toBe(true);
      expect(isRetryable(method, error(0, 'timeoutError'))).toBe(true);
      expect(isRetryable(method, error(500))).toBe(true);
      expect(isRetryable(method, error(429, 'rateLimitedError', 1))).toBe(true);
      expect(isRetryable(method, error(429, 'usageExceededError'))).toBe(false);
      expect(isRetryable(method, error(404, 'notFoundError'))).toBe(false);
    }
    for (const method of ['POST', 'PATCH'] as const) {
      expect(isRetryable(method, error(0, 'networkError'))).toBe(false);
      expect(isRetryable(method, error(0, 'timeoutError'))).toBe(false);
      expect(isRetryable(method, error(500))).toBe(false);
      expect(isRetryable(method, error(503))).toBe(false);
      expect(isRetryable(method, error(502, 'internalError', 1))).toBe(false);
      expect(isRetryable(method, error(503, 'internalError', 0))).toBe(true);
      expect(isRetryable(method, error(429, 'rateLimitedError', 3))).toBe(true);
    }
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffMs(0, () => 0)).toBe(0);
    expect(backoffMs(0, () => 0.999)).toBeLessThan(RETRY_BASE_MS);
    expect(backoffMs(3, () => 0.999)).toBeLessThan(RETRY_BASE_MS * 8);
    expect(backoffMs(3, () => 0.999)).toBeGreaterThan(RETRY_BASE_MS * 4);
    expect(backoffMs(20, () => 0.999)).toBeLessThan(RETRY_CAP_MS);
    expect(backoffMs(20, () => 0.999)).toBeGreaterThan(RETRY_CAP_MS / 2);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2030, 0, 1, 0, 0, 0);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('0')).toBe(0);
    expect(parseRetryAfter(' 12 ')).toBe(12);
    expect(parseRetryAfter(new Date(now + 5_500).toUTCString(), now)).toBe(5);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
