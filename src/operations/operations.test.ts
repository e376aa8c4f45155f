import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../test/helpers.js';
import { ERROR_TYPES } from '../errors.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t.close();
});

const CONTRACT: [string, string][] = [
  ['post', '/v1/keys/verify'],
  ['get', '/v1/workspace'],
  ['get', '/v1/projects'],
  ['post', '/v1/projects'],
  ['get', '/v1/projects/{projectId}'],
  ['patch', '/v1/projects/{projectId}'],
  ['delete', '/v1/projects/{projectId}'],
  ['get', '/v1/accounts'],
  ['post', '/v1/accounts'],
  ['get', '/v1/accounts/{accountId}'],
  ['patch', '/v1/accounts/{accountId}'],
  ['delete', '/v1/accounts/{accountId}'],
  ['post', '/v1/projects/{projectId}/keys'],
  ['get', '/v1/projects/{projectId}/keys'],
  ['get', '/v1/keys/{keyId}'],
  ['patch', '/v1/keys/{keyId}'],
  ['delete', '/v1/keys/{keyId}'],
  ['post', '/v1/keys/{keyId}/rotate'],
  ['post', '/v1/keys/{keyId}/reveal'],
  ['get', '/healthz'],
  ['get', '/readyz'],
];

describe('operations', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await t.call('GET', '/openapi.json', { token: null });
    expect(response.status).toBe(200);
    const doc = response.body;
    expect(doc.openapi).toBe('3.1.0');
    for (const [method, path] of CONTRACT) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      if (path.startsWith('/v1/')) expect(Object.keys(operation.responses), `${method} ${path}`).toContain('400');
      const admin = path.startsWith('/v1/') && path !== '/v1/keys/verify';
      expect(operation.security !== undefined, `${method} ${path} security`).toBe(admin);
    }
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, { operationId?: string; parameters?: { in: string; name: string; required?: boolean; schema: { default?: unknown } }[]; responses: Record<string, unknown> }>).map(
        ([method, operation]) => ({ name: `${method} ${path}`, ...operation }),
      ),
    );
    // Every operation is named once (SDK generators use the names).
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.filter((id) => id === undefined), 'operations without an operationId').toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // A query parameter the server defaults is optional to the caller.
    const defaultedButRequired = operations.flatMap((o) => (o.parameters ?? []).filter((p) => p.in === 'query' && p.required === true && p.schema.default !== undefined).map((p) => `${o.name} ${p.name}`));
    expect(defaultedButRequired).toEqual([]);
    expect(doc.paths['/v1/projects/{projectId}/keys'].get.parameters.find((p: { name: string }) => p.name === 'pageSize')).toMatchObject({ required: false, schema: { default: 100 } });
    // Verify takes no credentials: it never answers 401/403/429 (an invalid key is a 200 with a code).
    expect(Object.keys(doc.paths['/v1/keys/verify'].post.responses).sort()).toEqual(['200', '400', '413', '415', '503']);
    expect(doc.paths['/v1/keys/verify'].post.responses['200'].content['application/json'].schema.properties.usage.properties.refillAt).toMatchObject({ format: 'date-time' });
    // The envelope names every error type a client can branch on.
    expect(doc.components.schemas.ErrorEnvelope.properties.type.enum).toEqual([...ERROR_TYPES]);
    // Forward-auth is documented once (GET); the other methods answer the same but are not separate operations.
    expect(Object.keys(doc.paths['/v1/forward-auth'])).toEqual(['get']);
    const create = doc.paths['/v1/projects/{projectId}/keys'].post;
    expect(create.requestBody.content['application/json'].schema.properties.name.maxLength).toBe(200);
    expect(doc.components.securitySchemes.basicAuth.scheme).toBe('basic');
  });

  it('serves the docs page and its assets locally (no CDN)', async () => {
    const page = await t.call('GET', '/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    expect(page.text).not.toMatch(/src="https?:\/\//);
    const bundle = await t.call('GET', '/docs/static/swagger-ui-bundle.js', { token: null });
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });

  it('answers health and readiness probes without credentials', async () => {
    expect((await t.call('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    expect((await t.call('GET', '/readyz', { token: null })).body).toEqual({ status: 'ok' });
  });
});

describe('shutting down', () => {
  it('answers a request still arriving on an open connection with a 503 envelope, Retry-After and Connection: close', async () => {
    const closing = await startApp();
    await closing.app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect((closing.app.server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    const ended = once(socket, 'end');
    // The request has begun (so the connection is not idle and survives the close) ...
    socket.write('POST /v1/keys/verify HTTP/1.1\r\nHost: keyward\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = closing.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // ... and ends once the close is under way.
    const body = '{"key":"kw_live_x"}';
    socket.write(`Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await ended;
    await closed;
    const [head = '', payload = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/^retry-after: 1$/im);
    expect(head).toMatch(/^connection: close$/im);
    expect(JSON.parse(payload)).toEqual({ status: 'error', type: 'serviceUnavailableError', error: { message: 'Keyward is shutting down; retry shortly' } });
  });
});
