// Webhook push with several real Keyward processes over one PostgreSQL schema (and one Redis
// prefix in the redis project): a stream is leased per batch, so two running nodes never send at
// the same time and nothing is sent twice, and a node killed mid-batch leaves that batch, once its
// lease (3 × KEYWARD_PUSH_TIMEOUT_MS) ran out, to a node started afterwards.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedBackend, TEST_DATABASE_URL, WITH_REDIS, type IsolatedBackend } from './helpers.js';
import { Receiver, verifySignature } from './webhook-receiver.js';
import { startKeyward, stopKeyward, type KeywardProcess } from './keyward-process.js';
import { expandEvents } from '../src/storage/usage-chunk.js';
import type { EventRow } from '../src/storage/database.js';

const ROOT_KEY = 'multi-node-push-root-key-'.padEnd(48, 'z');
const PUSH_TIMEOUT_MS = 2500; // A must be killed before its own send times out: room for a slow, shared machine
const LEASE_MS = 3 * PUSH_TIMEOUT_MS;

let backend: IsolatedBackend;
const nodes: KeywardProcess[] = [];
const receivers: Receiver[] = [];

async function startNode(name: string): Promise<KeywardProcess> {
  const node = await startKeyward(`push-${name}`, {
    ...backend.env,
    KEYWARD_ROOT_KEY: ROOT_KEY,
    KEYWARD_MASTER_KEY: 'multi-node-push-master-key-0123456789abcdef',
    KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true',
    KEYWARD_PUSH_TIMEOUT_MS: String(PUSH_TIMEOUT_MS),
    KEYWARD_USAGE_FLUSH_MS: '100',
  });
  nodes.push(node);
  return node;
}

async function receiver(options: { delayMs?: number } = {}): Promise<Receiver> {
  const rx = await Receiver.start(options);
  receivers.push(rx);
  return rx;
}

beforeEach(() => {
  backend = isolatedBackend();
});

afterEach(async () => {
  for (const node of nodes.splice(0)) await stopKeyward(node);
  for (const rx of receivers.splice(0)) await rx.close();
  await backend.drop();
}, 30_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are inspected loosely
async function call(node: KeywardProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(node.url + path, {
    method,
    headers: { authorization: `Bearer ${ROOT_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function withDatabase<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The project's events as recorded (what a history push must deliver), in stream order: each
 * entry of a usage-log chunk on its own (storage/usage-chunk.ts). */
async function recordedEventIds(projectId: string): Promise<string[]> {
  return withDatabase(async (client) => {
    const { rows } = await client.query(`select * from ${backend.env.KEYWARD_DB_SCHEMA}.events where project_id = $1 order by tx, seq`, [projectId]);
    return expandEvents(rows as EventRow[]).map((entry) => entry.id);
  });
}

/** The history stream's row: its lease and how far it got. */
function historyStream(keyId: string) {
  return withDatabase(async (client) => {
    const { rows } = await client.query(
      `select state, attempts, batch_end_seq, delivered::int, lease_owner, lease_until::float8 from ${backend.env.KEYWARD_DB_SCHEMA}.push_streams where id = $1`,
      [`${keyId}:history`],
    );
    return rows[0] as { state: string; attempts: number; batch_end_seq: string | null; delivered: number; lease_owner: string | null; lease_until: number | null };
  });
}

/**
 * A pusher key and `verifications` usage events of another key, verified through `via` in turn,
 * written behind: returns once the logs list all of them. The key is created through the first node.
 */
async function makeEvents(via: KeywardProcess[], verifications: number): Promise<{ projectId: string; pusherId: string }> {
  const { body: projects } = await call(via[0]!, 'GET', '/v1/projects');
  const projectId = projects.projects[0].id as string;
  const created = await Promise.all(
    ['pusher', 'verified'].map(async (name) => {
      const response = await call(via[0]!, 'POST', `/v1/projects/${projectId}/keys`, { name });
      expect(response.status).toBe(201);
      return response.body.apiKey as { id: string; key: string };
    }),
  );
  const [pusher, verified] = created as [{ id: string }, { id: string; key: string }];
  for (let i = 0; i < verifications; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, verifications - i) }, async (_, j) => {
        const node = via[(i + j) % via.length]!;
        const response = await fetch(`${node.url}/v1/keys/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: verified.key }) });
        expect(((await response.json()) as { code: string }).code).toBe('VALID');
      }),
    );
  }
  const logged = async () => (await call(via[0]!, 'GET', `/v1/projects/${projectId}/logs?keyId=${verified.id}&limit=1000`)).body.logs.length as number;
  await waitFor(async () => (await logged()) === verifications, `${verifications} usage logs`);
  return { projectId, pusherId: pusher.id };
}

/** Sets the webhook address through `node`; returns the whsec_ secret. */
async function configure(node: KeywardProcess, keyId: string, webhookUrl: string): Promise<string> {
  const response = await call(node, 'PUT', `/v1/keys/${keyId}/push`, { webhookUrl });
  expect(response.status).toBe(200);
  return response.body.push.secret as string;
}

async function historyOn(node: KeywardProcess, keyId: string): Promise<{ state: string; total: number; delivered: number; progress: number }> {
  const response = await call(node, 'GET', `/v1/keys/${keyId}/push`);
  expect(response.status).toBe(200);
  return response.body.push.history;
}

describe(`webhook push on several nodes (${WITH_REDIS ? 'PostgreSQL + Redis' : 'PostgreSQL only'})`, () => {
  it('two nodes running: one request in flight at a time, every event delivered once, signed', async () => {
    const [a, b] = await Promise.all([startNode('a'), startNode('b')]);
    // Answers take a while, so a second sender would overlap with the first and be seen.
    const rx = await receiver({ delayMs: 40 });
    // More events than one batch (100) holds, so the stream is claimed again and again.
    const { projectId, pusherId } = await makeEvents([a, b], 450);
    const secret = await configure(a, pusherId, rx.url);
    const recorded = await recordedEventIds(projectId);
    expect(recorded.length).toBeGreaterThan(450);

    const started = await call(a, 'POST', `/v1/keys/${pusherId}/push/history`);
    expect(started.status).toBe(200);
    expect(started.body.push.history).toMatchObject({ state: 'running', total: recorded.length });
    await waitFor(async () => (await historyOn(b, pusherId)).state === 'completed', 'the history to complete', 60_000);

    expect(rx.received.length).toBeGreaterThan(1);
    // Never two requests at once: not of the same batch, not of different batches.
    expect(rx.maxInFlight).toBe(1);
    for (const [webhookId, most] of rx.maxInFlightById) expect(most, webhookId).toBe(1);
    // No batch sent twice: every request carried a new webhook-id and was answered 200.
    expect(new Set(rx.received.map((entry) => entry.headers['webhook-id'])).size).toBe(rx.received.length);
    expect(rx.accepted).toHaveLength(rx.received.length);
    for (const entry of rx.received) expect(() => verifySignature(secret, entry)).not.toThrow();
    // Every recorded event, none twice, in recorded order.
    expect(rx.acceptedEvents().map((event) => event.id)).toEqual(recorded);

    expect(await historyOn(b, pusherId)).toEqual({ state: 'completed', total: recorded.length, delivered: recorded.length, progress: 100 });
  }, 120_000);

  it('a node killed mid-batch: after its lease ran out, another node sends that batch again, then the rest', async () => {
    const a = await startNode('a');
    const rx = await receiver();
    const { projectId, pusherId } = await makeEvents([a], 250);
    const secret = await configure(a, pusherId, rx.url);
    const recorded = await recordedEventIds(projectId);
    expect(recorded.length).toBeGreaterThan(250); // several batches

    rx.hold();
    const started = await call(a, 'POST', `/v1/keys/${pusherId}/push/history`);
    expect(started.status).toBe(200);
    expect(started.body.push.history).toMatchObject({ state: 'running', total: recorded.length });
    // A is the only node, so the first batch is A's; kill A while the receiver holds it (before
    // A's own request timeout could make it give the lease back).
    await waitFor(() => rx.received.length === 1, "A's first batch");
    await stopKeyward(a, 'SIGKILL');
    const first = rx.received[0]!;
    // A still held the lease when it died: nothing delivered, nothing released, nothing retried.
    const leased = await historyStream(pusherId);
    expect(leased).toMatchObject({ state: 'running', attempts: 0, batch_end_seq: null, delivered: 0 });
    expect(leased.lease_owner).not.toBeNull();
    const leaseUntil = leased.lease_until!;
    expect(leaseUntil).toBeGreaterThan(first.receivedAt);
    await waitFor(() => first.aborted, "A's connection to close");
    rx.open(); // answer 200 from now on (A's request has no one left to answer)

    const b = await startNode('b');
    await waitFor(() => rx.received.length >= 2, "B's first batch", 30_000);
    const resent = rx.received[1]!;
    // The same batch, as a retry: same webhook-id and events, signed anew.
    expect(resent.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(resent.batch.data.events.map((event) => event.id)).toEqual(first.batch.data.events.map((event) => event.id));
    expect(resent.batch.data.events.map((event) => event.id)).toEqual(recorded.slice(0, resent.batch.data.events.length));
    // Only once A's lease had run out (taken just before A sent, 3 × the timeout).
    expect(resent.receivedAt).toBeGreaterThanOrEqual(leaseUntil);
    expect(resent.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(LEASE_MS / 2);

    await waitFor(async () => (await historyOn(b, pusherId)).state === 'completed', 'the history to complete', 60_000);
    expect(first.aborted).toBe(true);
    expect(rx.accepted).toHaveLength(rx.received.length - 1);
    // The first batch was sent twice (by A, then B), every other batch once.
    const webhookIds = rx.received.map((entry) => entry.headers['webhook-id']);
    expect(webhookIds.filter((id) => id === first.headers['webhook-id'])).toHaveLength(2);
    expect(new Set(webhookIds).size).toBe(webhookIds.length - 1);
    for (const entry of rx.received) expect(() => verifySignature(secret, entry)).not.toThrow();
    expect(rx.acceptedEvents().map((event) => event.id)).toEqual(recorded);
    expect(await historyOn(b, pusherId)).toEqual({ state: 'completed', total: recorded.length, delivered: recorded.length, progress: 100 });
  }, 120_000);
});
