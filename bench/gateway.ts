// nginx with Keyward forward-auth (deploy/nginx/keyward.conf, a valid key on a location requiring
// a scope) against the same nginx proxying the same upstream without auth_request: what putting
// Keyward in front of an API costs in requests per second. Alternates A B B A, like the others.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, rotate, runAutocannon, type Measurement, type Span } from './load.js';
import { createKey, defaultProjectId } from './api.js';
import { allStarted, defaultKeyward, startUpstreamServer } from './servers.js';

const NGINX = '/usr/sbin/nginx';
const EXAMPLE = join(import.meta.dirname, '..', 'deploy', 'nginx', 'keyward.conf');

export interface GatewayComparison {
  scenario: string;
  /** nginx + forward-auth (auth_request to Keyward on every request). */
  withAuth: Measurement;
  /** nginx proxying alone. */
  withoutAuth: Measurement;
  ratio: number;
  nginxWorkers: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const portOf = (url: string) => Number(new URL(url).port);

function get(url: string, headers: Record<string, string>, span: Span): Promise<Measurement> {
  return runAutocannon({ url, method: 'GET', connections: CONNECTIONS, headers }, span);
}

async function waitFor(url: string, nginx: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${log()}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not come up on ${url}: ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function gatewayOverhead(span: Span, rounds: number, warmUpSeconds: number, nginxWorkers = 1): Promise<GatewayComparison> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: apt-get install -y nginx`);
  const [keyward, upstream] = await allStarted(defaultKeyward(), startUpstreamServer());
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-nginx-'));
  chmodSync(dir, 0o755);
  let nginx: ChildProcess | undefined;
  try {
    const key = await createKey(keyward, await defaultProjectId(keyward), { name: 'bench gateway', scopes: ['inference'] });
    const [authPort, plainPort] = [await freePort(), await freePort()];
    const example = readFileSync(EXAMPLE, 'utf8')
      .replace(/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${portOf(keyward.url)};`)
      .replace(/server 127\.0\.0\.1:3000;/, `server 127.0.0.1:${portOf(upstream.url)};`)
      .replace(/listen 127\.0\.0\.1:8000;/, `listen 127.0.0.1:${authPort};`);
    writeFileSync(join(dir, 'keyward.conf'), example);
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        `worker_processes ${nginxWorkers};`,
        'events { worker_connections 4096; }',
        'http {',
        '  access_log off;',
        // A load's connections stay open for the whole run (nginx closes a client connection
        // after 1,000 requests by default, and a request racing that close counts as an error).
        '  keepalive_requests 10000000;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${join(dir, name)};`),
        `  include ${join(dir, 'keyward.conf')};`,
        // The baseline: the same upstream (and keep-alive pool), no auth_request.
        '  server {',
        `    listen 127.0.0.1:${plainPort};`,
        '    location / {',
        '      proxy_http_version 1.1;',
        '      proxy_set_header Connection "";',
        '      proxy_set_header Host $host;',
        '      proxy_pass http://protected_api;',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    let log = '';
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr warn;`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    nginx.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    nginx.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    await waitFor(`http://127.0.0.1:${plainPort}/`, nginx, () => log);

    const targets = [
      { url: `http://127.0.0.1:${authPort}/api/bench`, headers: { authorization: `Bearer ${key.key}` } },
      { url: `http://127.0.0.1:${plainPort}/api/bench`, headers: { authorization: `Bearer ${key.key}` } },
    ];
    const probe = await fetch(targets[0]!.url, { headers: targets[0]!.headers });
    if (probe.status !== 200) throw new Error(`forward-auth through nginx answered ${probe.status}: ${log}`);

    const [withAuth, withoutAuth] = (await rotate(targets.length, (i, loadSpan) => get(targets[i]!.url, targets[i]!.headers, loadSpan), span, rounds, warmUpSeconds)) as [Measurement, Measurement];
    return {
      scenario: 'nginx + forward-auth vs nginx alone',
      withAuth,
      withoutAuth,
      ratio: Number((withAuth.requestsPerSecond / withoutAuth.requestsPerSecond).toFixed(3)),
      nginxWorkers,
    };
  } finally {
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await keyward.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
