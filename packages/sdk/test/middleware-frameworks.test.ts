// Each adapter in its real framework (node:http, Express 5, Fastify 5, Hono 4 on @hono/node-server)
// serving a small protected route on a loopback port, called with fetch, in front of a real
// Keyward. The core's details are in middleware-core.test.ts; these check the wiring: the handler
// sees the key, refusals carry status, envelope and headers, a quota is counted exactly, a revoked
// key is refused within the TTL, and Keyward being down fails closed or open.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve as serveHono } from '@hono/node-server';
import type { GuardOptions } from '../src/middleware/core.js';
import { keyward as nodeKeyward } from '../src/middleware/node.js';
import { keyward as expressKeyward } from '../src/middleware/express.js';
import { keyward as fastifyKeyward } from '../src/middleware/fastify.js';
import { keyward as honoKeyward, type KeywardEnv } from '../src/middleware/hono.js';
import type { CreateKeyRequest } from '../src/index.js';
import { waitFor, type ServedKeyward } from './keyward-server.js';
import { basic, closedPort, newKeyOn, recordingLogger, serveWithRoomForKeys } from './middleware-helpers.js';

interface Served {
  url: string;
  close(): Promise<void>;
}

/** GET /protected needs `inference`, GET /admin needs `admin`; both answer `{keyId}` from what the middleware attached. */
type Serve = (options: GuardOptions) => Promise<Served>;

async function listen(server: Server): Promise<Served> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const FRAMEWORKS: [string, Serve][] = [
  [
    'node:http',
    async (options) => {
      const kw = nodeKeyward(options);
      const reply = (keyId: string | null) => JSON.stringify({ keyId });
      const routes = {
        '/protected': kw.protect((req, res) => res.end(reply(req.keyward?.id ?? null)), { scopes: ['inference'] }),
        '/admin': kw.protect((req, res) => res.end(reply(req.keyward?.id ?? null)), { scopes: ['admin'] }),
      };
      return listen(
        createServer((req, res) => {
          const route = routes[req.url as keyof typeof routes];
          if (route === undefined) res.writeHead(404).end();
          else void route(req, res);
        }),
      );
    },
  ],
  [
    'express',
    async (options) => {
      const guard = expressKeyward(options);
      const app = express();
      app.get('/protected', guard({ scopes: ['inference'] }), (req, res) => {
        res.json({ keyId: req.keyward?.id ?? null });
      });
      app.get('/admin', guard({ scopes: ['admin'] }), (req, res) => {
        res.json({ keyId: req.keyward?.id ?? null });
      });
      return listen(createServer(app));
    },
  ],
  [
    'fastify',
    async (options) => {
      const guard = fastifyKeyward(options);
      const app = Fastify();
      app.decorateRequest('keyward', null);
      app.get('/protected', { preHandler: guard({ scopes: ['inference'] }) }, async (request) => ({ keyId: request.keyward?.id ?? null }));
      app.get('/admin', { preHandler: guard({ scopes: ['admin'] }) }, async (request) => ({ keyId: request.keyward?.id ?? null }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    },
  ],
  [
    'hono',
    async (options) => {
      const guard = honoKeyward(options);
      const app = new Hono<KeywardEnv>();
      app.get('/protected', guard({ scopes: ['inference'] }), (c) => c.json({ keyId: c.get('keyward')?.id ?? null }));
      app.get('/admin', guard({ scopes: ['admin'] }), (c) => c.json({ keyId: c.get('keyward')?.id ?? null }));
      const server = await new Promise<Server>((resolve) => {
        const s = serveHono({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
      });
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  ],
];

let s: ServedKeyward;

beforeAll(async () => {
  s = await serveWithRoomForKeys();
});

afterAll(async () => {
  await s.close();
});

const newKey = (request: CreateKeyRequest = {}) => newKeyOn(s, request);

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

describe.each(FRAMEWORKS)('%s', (_name, serve) => {
  let app: Served;

  beforeAll(async () => {
    app = await serve({ baseUrl: s.baseUrl, logger: () => {} });
  });

  afterAll(async () => {
    await app.close();
  });

  it('lets a valid key through, and the handler sees it', async () => {
    const key = await newKey();
    const forms: Record<string, string>[] = [{ authorization: `Bearer ${key.key!}` }, { 'x-api-key': key.key! }, { authorization: basic(key.id, key.key!) }];
    for (const headers of forms) {
      const ok = await get(`${app.url}/protected`, headers);
      expect(ok).toMatchObject({ status: 200, body: { keyId: key.id } });
    }
    const identity = await newKey({ type: 'identity' });
    const proxied = await get(`${app.url}/protected`, { 'proxy-authorization': basic(identity.username!, identity.password!) });
    expect(proxied).toMatchObject({ status: 200, body: { keyId: identity.id } });
  });

  it('answers 401 with WWW-Authenticate without a key, 403 for a missing scope', async () => {
    const missing = await get(`${app.url}/protected`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="keyward"');
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(missing.body).toMatchObject({ status: 'error', type: 'unauthorizedApiKeyError', error: { message: expect.stringMatching(/Missing API key/) } });

    const key = await newKey();
    const forbidden = await get(`${app.url}/admin`, { authorization: `Bearer ${key.key!}` });
    expect(forbidden).toMatchObject({ status: 403, body: { status: 'error', type: 'unauthorizedApiKeyError' } });
    expect(forbidden.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('admits exactly a quota of 20, cache or not', async () => {
    const key = await newKey({ limitedAmount: 20 });
    const statuses: number[] = [];
    for (let i = 0; i < 23; i++) statuses.push((await get(`${app.url}/protected`, { authorization: `Bearer ${key.key!}` })).status);
    expect(statuses).toEqual([...Array<number>(20).fill(200), 429, 429, 429]);
    const spent = await get(`${app.url}/protected`, { authorization: `Bearer ${key.key!}` });
    expect(spent).toMatchObject({ status: 429, body: { type: 'usageExceededError' } });
    expect(spent.headers.get('retry-after')).toBeNull();
  });

  it('answers 429 with Retry-After for a rate limit', async () => {
    const key = await newKey({ rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await get(`${app.url}/protected`, { authorization: `Bearer ${key.key!}` })).status).toBe(200);
    const limited = await get(`${app.url}/protected`, { authorization: `Bearer ${key.key!}` });
    expect(limited).toMatchObject({ status: 429, body: { type: 'rateLimitedError' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('refuses a revoked key within the TTL', async () => {
    const short = await serve({ baseUrl: s.baseUrl, cacheTtlMs: 300, logger: () => {} });
    try {
      const key = await newKey();
      const call = () => get(`${short.url}/protected`, { authorization: `Bearer ${key.key!}` });
      expect((await call()).status).toBe(200);
      await s.kw.keys.update(key.id, { enabled: false });
      await waitFor(async () => (await call()).status === 401, 'the disabled key to be refused', 2_300);
    } finally {
      await short.close();
    }
  });

  it('fails closed (503) or open (200, key null) when Keyward is down, with a log line', async () => {
    const baseUrl = await closedPort();
    const key = await newKey();
    for (const failOpen of [false, true]) {
      const { logger, lines } = recordingLogger();
      const down = await serve({ baseUrl, failOpen, logger });
      try {
        const answer = await get(`${down.url}/protected`, { authorization: `Bearer ${key.key!}` });
        if (failOpen) expect(answer).toMatchObject({ status: 200, body: { keyId: null } });
        else expect(answer).toMatchObject({ status: 503, body: { status: 'error', type: 'keywardUnavailableError' } });
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(failOpen ? 'failing OPEN' : 'failing closed');
      } finally {
        await down.close();
      }
    }
  });
});
