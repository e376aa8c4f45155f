// Forward-auth behind a real nginx (Debian's, installed by .ci/run): Keyward in-process, a small
// upstream that records what reaches it, and nginx between the client and both, configured by
// deploy/nginx/keyward.conf with only its ADDRESS lines rewritten to this run's ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, startApp, type TestApp } from './helpers.js';

const NGINX = '/usr/sbin/nginx';
const EXAMPLE = join(import.meta.dirname, '..', 'deploy', 'nginx', 'keyward.conf');

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let t: TestApp | undefined;
let upstream: Server | undefined;
let nginx: ChildProcess | undefined;
let nginxLog = '';
let dir: string | undefined;
let base = '';
const seen: Seen[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** deploy/nginx/keyward.conf with this run's addresses; fails loudly if the example's ADDRESS lines moved. */
function renderExample(keywardPort: number, upstreamPort: number, listenPort: number): string {
  const example = readFileSync(EXAMPLE, 'utf8');
  const replacements: [RegExp, string][] = [
    [/server 127\.0\.0\.1:8080;(\s+# ADDRESS: Keyward)/, `server 127.0.0.1:${keywardPort};$1`],
    [/server 127\.0\.0\.1:3000;(\s+# ADDRESS: your API)/, `server 127.0.0.1:${upstreamPort};$1`],
    [/listen 127\.0\.0\.1:8000;(\s+# ADDRESS: where clients connect)/, `listen 127.0.0.1:${listenPort};$1`],
  ];
  return replacements.reduce((text, [pattern, value]) => {
    if (!pattern.test(text)) throw new Error(`deploy/nginx/keyward.conf: no line matching ${pattern}`);
    return text.replace(pattern, value);
  }, example);
}

async function waitForNginx(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (nginx?.exitCode !== null) throw new Error(`nginx exited with ${nginx?.exitCode}:\n${nginxLog}`);
    try {
      await fetch(`${url}/healthz`);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not accept connections on ${url}:\n${nginxLog}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

beforeAll(async () => {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: install Debian's nginx (apt-get install -y nginx; .ci/run does it)`);
  t = await startApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const keywardPort = (t.app.server.address() as AddressInfo).port;

  upstream = createServer((request, response) => {
    seen.push({ method: request.method!, url: request.url!, headers: request.headers });
    request.resume();
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('upstream ok');
  });
  await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  dir = mkdtempSync(join(tmpdir(), 'keyward-nginx-'));
  chmodSync(dir, 0o755); // nginx's workers run as nobody when the test runs as root
  const listenPort = await freePort();
  writeFileSync(join(dir, 'keyward.conf'), renderExample(keywardPort, upstreamPort, listenPort));
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${join(dir!, name)};`),
      `  include ${join(dir, 'keyward.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  nginx.stdout!.on('data', (chunk: Buffer) => (nginxLog += chunk.toString()));
  nginx.stderr!.on('data', (chunk: Buffer) => (nginxLog += chunk.toString()));
  base = `http://127.0.0.1:${listenPort}`;
  await waitForNginx(base);
});

afterAll(async () => {
  if (nginx !== undefined && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx!.once('exit', resolve));
    nginx.kill('SIGTERM'); // fast shutdown; the workers go with the master
    await exited;
  }
  if (upstream !== undefined) {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream!.close(resolve));
  }
  await t?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A request through nginx, and what the upstream saw of it (undefined when nothing reached it). */
async function through(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string; upstream: Seen | undefined }> {
  const before = seen.length;
  const response = await fetch(base + path, { headers });
  const body = await response.text();
  return { status: response.status, headers: response.headers, body, upstream: seen.length > before ? seen[seen.length - 1] : undefined };
}

/** Like through(), with a Host header of our choosing (fetch will not send one). */
function withHost(host: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; upstream: Seen | undefined }> {
  const before = seen.length;
  return new Promise((resolve, reject) => {
    const req = request(base + path, { headers: { ...headers, host } }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode!, headers: response.headers, upstream: seen.length > before ? seen[seen.length - 1] : undefined }));
    });
    req.once('error', reject);
    req.end();
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('forward-auth behind nginx (deploy/nginx/keyward.conf)', () => {
  it('without a key: 401 with the challenge, and the upstream sees nothing', async () => {
    for (const path of ['/api/things', '/anything']) {
      const response = await through(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="keyward"/);
      expect(response.headers.get('x-keyward-code')).toBe('MISSING');
      expect(response.upstream).toBeUndefined();
    }
    const wrong = await through('/api/things', bearer('kw_live_nope'));
    expect([wrong.status, wrong.headers.get('x-keyward-code'), wrong.upstream]).toEqual([401, 'MALFORMED', undefined]);
  });

  it('a key with the scope reaches the upstream, which sees who it is; the client cannot spoof that', async () => {
    const key = await createKey(t!, { name: 'through nginx', scopes: ['inference', 'data_extraction'], limitedAmount: 10 });
    const response = await through('/api/things?x=1', {
      ...bearer(key.key),
      // None of these may reach the upstream as sent.
      'x-keyward-key-id': 'key_spoofed',
      'x-keyward-account-id': 'acc_spoofed',
      'x-keyward-scopes': 'admin',
      'x-keyward-remaining': '999999',
      'x-keyward-code': 'VALID',
    });
    expect(response.status).toBe(200);
    expect(response.body).toBe('upstream ok');
    expect(response.headers.get('x-keyward-code')).toBeNull(); // only refusals carry it to the client
    expect(response.upstream).toMatchObject({ method: 'GET', url: '/api/things?x=1' });
    expect(response.upstream!.headers).toMatchObject({
      'x-keyward-key-id': key.id,
      'x-keyward-account-id': t!.ownerId,
      'x-keyward-project-id': t!.projectId,
      'x-keyward-environment': 'live',
      'x-keyward-scopes': 'inference,data_extraction',
      'x-keyward-remaining': '9',
    });
    expect(response.upstream!.headers['x-keyward-code']).toBeUndefined();
    const again = await through('/api/things', { 'x-api-key': key.key });
    expect(again.status).toBe(200);
    expect(again.upstream!.headers['x-keyward-remaining']).toBe('8');
  });

  it('a key without a quota: no X-Keyward-Remaining upstream, even if the client sends one', async () => {
    const key = await createKey(t!, { name: 'no quota', scopes: ['inference'] });
    const response = await through('/api/things', { ...bearer(key.key), 'x-keyward-remaining': '999999' });
    expect(response.status).toBe(200);
    expect(response.upstream!.headers['x-keyward-key-id']).toBe(key.id);
    expect(response.upstream!.headers['x-keyward-remaining']).toBeUndefined();
  });

  it('a key without the location’s scope: 403, and the upstream sees nothing', async () => {
    const key = await createKey(t!, { name: 'other scope', scopes: ['data_extraction'] });
    const refused = await through('/api/things', bearer(key.key));
    expect([refused.status, refused.headers.get('x-keyward-code'), refused.upstream]).toEqual([403, 'INSUFFICIENT_SCOPE', undefined]);
    // The location without a scope requirement lets the same key through.
    const open = await through('/other', bearer(key.key));
    expect(open.status).toBe(200);
    expect(open.upstream!.headers['x-keyward-key-id']).toBe(key.id);
  });

  it('an identity key through Proxy-Authorization: Basic username:password', async () => {
    const identity = await createKey(t!, { name: 'proxy user', type: 'identity' });
    const ok = await through('/proxied', { 'proxy-authorization': basic(identity.username, identity.password) });
    expect(ok.status).toBe(200);
    expect(ok.upstream!.headers['x-keyward-key-id']).toBe(identity.id);
    const wrong = await through('/proxied', { 'proxy-authorization': basic(identity.username, `${identity.password}x`) });
    expect([wrong.status, wrong.upstream]).toEqual([401, undefined]);
  });

  it('a spent quota and a rate limit: 429 with the code (nginx’s 500 for an unexpected status, mapped back)', async () => {
    const quota = await createKey(t!, { name: 'quota', scopes: ['inference'], limitedAmount: 2 });
    // A client asking Keyward for a zero cost is not listened to: requirements come from the config.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await through('/api/things', { ...bearer(quota.key), 'x-keyward-require-cost': '0' })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const spent = await through('/api/things', bearer(quota.key));
    expect([spent.status, spent.headers.get('x-keyward-code'), spent.upstream]).toEqual([429, 'USAGE_EXCEEDED', undefined]);
    expect(JSON.parse(spent.body)).toMatchObject({ code: 'USAGE_EXCEEDED' });

    const limited = await createKey(t!, { name: 'limited', rateLimit: { limit: 1, windowMs: 60_000 } });
    expect((await through('/anything', bearer(limited.key))).status).toBe(200);
    const throttled = await through('/anything', bearer(limited.key));
    expect([throttled.status, throttled.headers.get('x-keyward-code'), throttled.upstream]).toEqual([429, 'RATE_LIMITED', undefined]);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('the host binding is checked against the Host the client asked for, not a client-sent X-Forwarded-Host', async () => {
    const bound = await createKey(t!, { name: 'bound', host: 'api.example.com' });
    const right = await withHost('api.example.com', '/anything', bearer(bound.key));
    expect(right.status).toBe(200);
    expect(right.upstream!.headers.host).toBe('api.example.com');
    const other = await withHost('evil.example.com', '/anything', { ...bearer(bound.key), 'x-forwarded-host': 'api.example.com', 'x-original-host': 'api.example.com' });
    expect([other.status, other.headers['x-keyward-code'], other.upstream]).toEqual([403, 'FORBIDDEN_HOST', undefined]);
  });
});
