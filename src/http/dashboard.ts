// Serves the dashboard (the React app built into dist/web) on the API's port: its hashed assets
// with long caching, and index.html for any other page a browser asks for (Accept: text/html)
// outside the API, so client-side routes (/keys/…) load the app. API clients keep getting JSON
// 404s. The pages are locked down with a strict CSP.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** dist/web, from src/http (tsx) as from dist/http (built). */
export const WEB_ROOT = join(import.meta.dirname, '..', '..', 'dist', 'web');

const API_PATH = /^\/(v\d+|docs|openapi\.json|metrics|healthz|readyz)(\/|$)/;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Keyward</title>
<p>The dashboard has not been built. Run <code>npm run build</code> (<code>npm ci</code> and <code>npm start</code> do it for you), then reload.</p>`;

export interface Dashboard {
  /** Answers a request no route matched with the app's page, or returns false when it is not a page request. */
  fallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

export async function registerDashboard(app: FastifyInstance, root = WEB_ROOT): Promise<Dashboard> {
  const indexFile = join(root, 'index.html');
  if (existsSync(root)) {
    await app.register(fastifyStatic, {
      root,
      wildcard: true, // files are looked up per request, so a rebuild needs no restart; a miss falls through to the 404 handler
      index: false,
      cacheControl: false, // set below: long for hashed assets, none for the rest
      setHeaders: (response, path) => {
        response.setHeader('x-content-type-options', 'nosniff');
        // Vite names assets by content hash: they never change.
        if (path.includes(`${join('web', 'assets')}`)) response.setHeader('cache-control', 'public, max-age=31536000, immutable');
      },
    });
  }
  // Read per request (pages are rare; the API is not served from here), like the assets.
  const sendPage = async (reply: FastifyReply) => {
    const page = await readFile(indexFile, 'utf8').catch(() => NOT_BUILT);
    return reply.code(200).headers(PAGE_HEADERS).send(page);
  };
  app.get('/', { schema: { hide: true } }, (_request, reply) => sendPage(reply));
  return {
    fallback(request, reply) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return false;
      if (!(request.headers.accept ?? '').includes('text/html')) return false;
      const path = request.url.split('?')[0]!;
      if (API_PATH.test(path)) return false;
      if (/\.[a-z0-9]+$/i.test(path)) return false; // a missing file stays a 404
      void sendPage(reply);
      return true;
    },
  };
}
