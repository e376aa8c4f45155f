// Deployments compared in one run: one node on SQLite, one node on PostgreSQL alone, one node on
// PostgreSQL + Redis, and three nodes (quick: two) on PostgreSQL + Redis behind an even split of
// the connections. Each is measured on a cached valid key and on a key with a quota (every verify
// is an atomic counter update: SQLite, PostgreSQL or Redis). Then the cache-invalidation delay: a
// key is disabled on node A while the other nodes are asked about it in a tight loop, and the time
// until all of them refuse it is recorded.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { load, loadSpread, mean, roundOrder, type Measurement, type Span } from './load.js';
import { api, createKey, defaultProjectId } from './api.js';
import { allStarted, defaultKeyward, startKeyward, type Server } from './servers.js';
import { dropSchema } from '../src/storage/storage.js';

const DATABASE_URL = process.env.KEYWARD_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.KEYWARD_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MASTER_KEY = 'bench-master-key-'.padEnd(40, 'x');

export interface Deployment {
  name: string;
  nodes: number;
  valid: Measurement;
  quota: Measurement;
}

export interface ScaleOutResult {
  deployments: Deployment[];
  /** Milliseconds from the disable's reply on node A until the other nodes all refused the key. */
  invalidationMs: { samples: number; p50: number; p99: number; max: number };
}

interface Target {
  name: string;
  nodes: Server[];
  validKey: string;
  quotaKey: string;
}

async function cluster(count: number, env: Record<string, string>): Promise<Server[]> {
  const first = await startKeyward(env); // creates the schema and the first workspace
  try {
    return [first, ...(await allStarted(...Array.from({ length: count - 1 }, () => startKeyward(env))))];
  } catch (error) {
    await first.stop();
    throw error;
  }
}

async function prepare(name: string, nodes: Server[]): Promise<Target> {
  const projectId = await defaultProjectId(nodes[0]!);
  const valid = await createKey(nodes[0]!, projectId, { name: 'bench valid', scopes: ['inference'] });
  const quota = await createKey(nodes[0]!, projectId, { name: 'bench quota', scopes: ['inference'], limitedAmount: 1_000_000_000 });
  return { name, nodes, validKey: valid.key, quotaKey: quota.key };
}

function measure(target: Target, key: string, span: Span): Promise<Measurement> {
  const body = { key, scopes: ['inference'] };
  const urls = target.nodes.map((node) => node.url);
  return urls.length === 1 ? load(urls[0]!, body, span) : loadSpread(urls, body, span);
}

async function verifyCode(server: Server, key: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/keys/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
  return ((await response.json()) as { code: string }).code;
}

/** Disables (then re-enables) a key on node A; polls the other nodes until all answer accordingly. */
async function invalidationDelay(nodes: Server[], samples: number): Promise<ScaleOutResult['invalidationMs']> {
  const [a, ...others] = nodes;
  const projectId = await defaultProjectId(a!);
  const key = await createKey(a!, projectId, { name: 'bench invalidation' });
  const delays: number[] = [];
  for (let i = 0; i < samples; i++) {
    const enabled = i % 2 === 1;
    const expected = enabled ? 'VALID' : 'DISABLED';
    for (const node of others) await verifyCode(node, key.key); // cached on every node
    await api(a!, 'PATCH', `/v1/keys/${key.id}`, { enabled });
    const changed = performance.now();
    const deadline = changed + 5_000;
    const pending = new Set(others);
    while (pending.size > 0) {
      if (performance.now() > deadline) throw new Error(`a change did not reach every node within 5 s (sample ${i})`);
      for (const node of [...pending]) if ((await verifyCode(node, key.key)) === expected) pending.delete(node);
    }
    delays.push(performance.now() - changed);
  }
  delays.sort((x, y) => x - y);
  const at = (q: number) => Number(delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!.toFixed(2));
  return { samples, p50: at(0.5), p99: at(0.99), max: Number(delays[delays.length - 1]!.toFixed(2)) };
}

async function dropBackend(schemas: string[]): Promise<void> {
  for (const schema of schemas) await dropSchema(DATABASE_URL, schema);
  const redis = new Redis(REDIS_URL);
  try {
    for (const prefix of schemas) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

export async function scaleOut(span: Span, rounds: number, warmUpSeconds: number, invalidationSamples: number, clusterNodes: number): Promise<ScaleOutResult> {
  const id = randomBytes(4).toString('hex');
  const schemas = { pg: `bench_pg_${id}`, one: `bench_one_${id}`, cluster: `bench_cluster_${id}` };
  const postgres = (schema: string) => ({ DATABASE_URL, KEYWARD_DB_SCHEMA: schema, KEYWARD_MASTER_KEY: MASTER_KEY });
  const withRedis = (schema: string) => ({ ...postgres(schema), REDIS_URL, KEYWARD_REDIS_PREFIX: schema });
  const servers: Server[] = [];
  try {
    const setups: [string, Promise<Server[]>][] = [
      ['1 node, SQLite', defaultKeyward().then((node) => [node])],
      ['1 node, PostgreSQL', cluster(1, postgres(schemas.pg))],
      ['1 node, PostgreSQL + Redis', cluster(1, withRedis(schemas.one))],
      [`${clusterNodes} nodes, PostgreSQL + Redis`, cluster(clusterNodes, withRedis(schemas.cluster))],
    ];
    // They start at once: every node that came up is stopped at the end, also when another failed.
    const started = await Promise.allSettled(setups.map(([, nodes]) => nodes));
    const nodes = started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : []));
    servers.push(...nodes.flat());
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    const targets: Target[] = [];
    for (const [i, [name]] of setups.entries()) targets.push(await prepare(name, nodes[i]!));
    const results = targets.map(() => ({ valid: [] as Measurement[], quota: [] as Measurement[] }));
    if (warmUpSeconds > 0) {
      for (const target of targets) {
        await measure(target, target.validKey, { seconds: warmUpSeconds });
        await measure(target, target.quotaKey, { seconds: warmUpSeconds });
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const i of roundOrder(targets.length, round)) results[i]!.valid.push(await measure(targets[i]!, targets[i]!.validKey, span));
      for (const i of roundOrder(targets.length, round)) results[i]!.quota.push(await measure(targets[i]!, targets[i]!.quotaKey, span));
    }
    const deployments = targets.map((target, i) => ({ name: target.name, nodes: target.nodes.length, valid: mean(results[i]!.valid), quota: mean(results[i]!.quota) }));
    const invalidationMs = await invalidationDelay(targets[3]!.nodes, invalidationSamples);
    return { deployments, invalidationMs };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await dropBackend(Object.values(schemas));
  }
}
