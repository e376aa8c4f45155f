import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../test/helpers.js';

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
