// Three real Keyward processes over one PostgreSQL schema (and one Redis prefix in the redis
// project), started at the same moment: one first workspace between them, a quota exact across
// all three, a disable on one node refused on the others within a second, and a node killed in
// the middle of a load losing no usage that the surviving nodes reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedBackend, TEST_DATABASE_URL, WITH_REDIS, type IsolatedBackend } from './helpers.js';
import pg from 'pg';
import { startKeyward, stopKeyward, type KeywardProcess } from './keyward-process.js';

const ROOT_KEY = 'multi-node-root-key-'.padEnd(48, 'z');

type Node = KeywardProcess;

let backend: IsolatedBackend;
let nodes: Node[] = [];

function startNode(name: string): Promise<Node> {
  return startKeyward(name, {
    ...backend.env,
    KEYWARD_ROOT_KEY: ROOT_KEY,
    KEYWARD_MASTER_KEY: 'multi-node-master-key-0123456789abcdef',
    KEYWARD_DB_POOL_SIZE: '8',
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are inspected loosely
async function call(node: Node, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(node.url + path, {
    method,
    headers: { authorization: `Bearer ${ROOT_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function verifyOn(node: Node, key: string): Promise<{ code: string; used?: number }> {
  const response = await fetch(`${node.url}/v1/keys/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
  const body = (await response.json()) as { code: string; usage?: { used: number } };
  return { code: body.code, ...(body.usage !== undefined && { used: body.usage.used }) };
}

async function createKey(node: Node, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const { body: projects } = await call(node, 'GET', '/v1/projects');
  const created = await call(node, 'POST', `/v1/projects/${projects.projects[0].id}/keys`, body);
  expect(created.status).toBe(201);
  return created.body.apiKey;
}

beforeAll(async () => {
  backend = isolatedBackend();
  nodes = await Promise.all(['a', 'b', 'c'].map(startNode)); // at the same moment, on an empty database
}, 60_000);

afterAll(async () => {
  for (const node of nodes) await stopKeyward(node);
  await backend.drop();
});

describe(`three nodes (${WITH_REDIS ? 'PostgreSQL + Redis' : 'PostgreSQL only'})`, () => {
  it('started together, they made exactly one first workspace', async () => {
    const seen = await Promise.all(nodes.map(async (node) => (await call(node, 'GET', '/v1/workspace')).body.workspace.id as string));
    expect(new Set(seen).size).toBe(1);
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query(`select count(*)::int as n from ${backend.env.KEYWARD_DB_SCHEMA}.workspaces`);
      expect(rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('1,000 concurrent verifies spread over the nodes against limitedAmount 250 → exactly 250 valid', async () => {
    const key = await createKey(nodes[0]!, { name: 'quota 250', limitedAmount: 250 });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => verifyOn(nodes[i % 3]!, key.key)));
    expect(results.filter((r) => r.code === 'VALID')).toHaveLength(250);
    expect(results.filter((r) => r.code === 'USAGE_EXCEEDED')).toHaveLength(750);
    expect((await call(nodes[1]!, 'GET', `/v1/keys/${key.id}`)).body.apiKey.usedAmount).toBe(250);
  });

  it('a disable on node A is refused on nodes B and C within a second', async () => {
    const key = await createKey(nodes[0]!, { name: 'to disable' });
    for (const node of nodes) expect((await verifyOn(node, key.key)).code).toBe('VALID'); // cached everywhere
    expect((await call(nodes[0]!, 'PATCH', `/v1/keys/${key.id}`, { enabled: false })).status).toBe(200);
    const disabledAt = Date.now();
    const delays = await Promise.all(
      nodes.slice(1).map(async (node) => {
        while ((await verifyOn(node, key.key)).code !== 'DISABLED') {
          if (Date.now() - disabledAt > 1000) throw new Error(`${node.name} still accepts the key after 1 s`);
        }
        return Date.now() - disabledAt;
      }),
    );
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(1000);
  });

  it('killing a node in the middle of a load loses no usage the surviving nodes reported', async () => {
    const key = await createKey(nodes[0]!, { name: 'under load', limitedAmount: 1_000_000 });
    const victim = nodes[2]!;
    let answered = 0;
    const requests = Array.from({ length: 900 }, async (_, i) => {
      const node = nodes[i % 3]!;
      try {
        const result = await verifyOn(node, key.key);
        if (++answered === 300) victim.process.kill('SIGKILL'); // mid-load, without any chance to flush
        return { node: node.name, ...result };
      } catch {
        return { node: node.name, code: 'UNREACHABLE' };
      }
    });
    const results = await Promise.all(requests);
    const valid = results.filter((r) => r.code === 'VALID');
    expect(valid.length).toBeGreaterThan(300);
    // The authoritative counter (Redis, or the database itself) counted every VALID answer; it may
    // also hold calls the killed node counted but never answered.
    const live = (await call(nodes[0]!, 'GET', `/v1/keys/${key.id}`)).body.apiKey.usedAmount as number;
    const unanswered = results.filter((r) => r.node === victim.name && r.code === 'UNREACHABLE').length;
    expect(live).toBeGreaterThanOrEqual(valid.length);
    expect(live).toBeLessThanOrEqual(valid.length + unanswered);
    // The stored usage converges to at least every count the surviving nodes reported (their
    // write-behind, at most a second or so): only the killed node's own unflushed last second is at risk.
    const reported = Math.max(...valid.filter((r) => r.node !== victim.name).map((r) => r.used!));
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const stored = async () =>
        Number((await client.query(`select used_amount from ${backend.env.KEYWARD_DB_SCHEMA}.api_keys where id = $1`, [key.id])).rows[0].used_amount);
      const deadline = Date.now() + 10_000;
      while ((await stored()) < reported && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await stored()).toBeGreaterThanOrEqual(reported);
    } finally {
      await client.end();
    }
    // The surviving nodes keep serving.
    for (const node of nodes.slice(0, 2)) expect((await verifyOn(node, key.key)).code).toBe('VALID');
  });
});
