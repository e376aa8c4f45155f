// Webhook push end to end: a real HTTP receiver on loopback records every request, can fail or
// hold requests on demand, and checks each signature with the `standardwebhooks` npm verifier.
// The app reads wall-clock time (signatures carry a timestamp the verifier checks against now,
// and retries are scheduled in clock time); usage logs are flushed by hand, never by timer.
import { afterEach, describe, expect, it } from 'vitest';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { addMember, BACKEND, createKey, isolatedBackend, startApp, TEST_DATABASE_URL, TestClock, verify, type StartOptions, type TestApp } from '../../test/helpers.js';
import { Receiver, verifySignature } from '../../test/webhook-receiver.js';
import { createWorkspace } from '../workspaces/service.js';
import { newId } from '../domain/ids.js';
import { loadMasterKey } from '../secrets/master-key.js';
import { between, comparePositions, END, isBetween, ORIGIN, position, readable, type Position } from '../storage/stream-position.js';
import { expandEvents } from '../storage/usage-chunk.js';

/** Reads the real time, so signature timestamps are current and retry delays elapse. */
class WallClock extends TestClock {
  override readonly read = () => Date.now();
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ALLOW_PRIVATE = { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true', KEYWARD_USAGE_FLUSH_MS: '60000' };
const TICK_MS = 20;

async function start(push: StartOptions['push'] = {}, env: Record<string, string> = ALLOW_PRIVATE): Promise<TestApp> {
  const t = await startApp({ env, clock: new WallClock(Date.now()), push: { retryBaseMs: 20, tickMs: TICK_MS, ...push } });
  cleanups.push(() => t.close());
  return t;
}

async function receiver(): Promise<Receiver> {
  const rx = await Receiver.start();
  cleanups.push(() => rx.close());
  return rx;
}

const pushUrl = (keyId: string) => `/v1/keys/${keyId}/push`;

/** Sets the webhook address; returns the secret. */
async function configure(t: TestApp, keyId: string, webhookUrl: string): Promise<string> {
  const response = await t.call('PUT', pushUrl(keyId), { body: { webhookUrl } });
  expect(response.status, response.text).toBe(200);
  return response.body.push.secret as string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function pushState(t: TestApp, keyId: string, token?: string): Promise<any> {
  const response = await t.call('GET', pushUrl(keyId), token === undefined ? {} : { token });
  expect(response.status, response.text).toBe(200);
  return response.body.push;
}

/** After every event. */
const LAST: Position = { tx: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER, index: END };

/** The project's events as recorded (the ground truth pushes must deliver), in stream order: each
 * entry of a usage-log chunk on its own. */
async function recordedEvents(t: TestApp, options: { projectId?: string; after?: Position; until?: Position } = {}) {
  const after = options.after ?? ORIGIN;
  const until = options.until ?? LAST;
  const rows = await t.built.services.storage.db
    .selectFrom('events')
    .selectAll()
    .where('project_id', '=', options.projectId ?? t.projectId)
    .where((eb) => between(eb, after, until))
    .orderBy('tx')
    .orderBy('seq')
    .execute();
  return expandEvents(rows).filter((entry) => isBetween(entry, after, until));
}

/** Where a realtime stream started (its stored start position). */
async function startOf(t: TestApp, keyId: string): Promise<Position> {
  const row = (await streamRow(t, keyId, 'realtime'))!;
  return position(row.start_tx, row.start_seq)!;
}

function streamRow(t: TestApp, keyId: string, kind: 'realtime' | 'history') {
  return t.built.services.storage.db.selectFrom('push_streams').selectAll().where('id', '=', `${keyId}:${kind}`).executeTakeFirst();
}

/** Key lifecycle events of three other keys plus `verifications` usage events of two outcomes. */
let eventRound = 0;
async function makeEvents(t: TestApp, verifications: number): Promise<{ lifecycle: [string, string][]; tokens: string[] }> {
  const round = ++eventRound;
  const alpha = await createKey(t, { name: `alpha ${round}`, scopes: ['inference'] });
  const beta = await createKey(t, { name: `beta ${round}` });
  const gamma = await createKey(t, { name: `gamma ${round}` });
  expect((await t.call('PATCH', `/v1/keys/${alpha.id}`, { body: { name: `alpha ${round} renamed` } })).status).toBe(200);
  const rotated = await t.call('POST', `/v1/keys/${beta.id}/rotate`, { body: {} });
  expect(rotated.status).toBe(200);
  expect((await t.call('DELETE', `/v1/keys/${gamma.id}`)).status).toBe(204);
  for (let i = 0; i < verifications; i++) {
    const scopes = i % 4 === 0 ? ['data_extraction'] : ['inference'];
    expect((await verify(t, { key: alpha.key, scopes })).code).toBe(i % 4 === 0 ? 'INSUFFICIENT_SCOPE' : 'VALID');
  }
  await t.built.logs.flush();
  return {
    lifecycle: [
      ['key.created', alpha.id],
      ['key.created', beta.id],
      ['key.created', gamma.id],
      ['key.updated', alpha.id],
      ['key.rotated', beta.id],
      ['key.deleted', gamma.id],
    ],
    tokens: [alpha.key, beta.key, gamma.key, rotated.body.apiKey.key],
  };
}

const sorted = <T>(values: T[]) => [...values].sort();
const isNonDecreasing = (values: string[]) => values.every((value, i) => i === 0 || values[i - 1]! <= value);

// ---------------------------------------------------------------------------------------------

describe('push configuration', () => {
  it('PUT shows the whsec_ secret once, GET never; a second PUT issues a new secret that signs from then on', async () => {
    const t = await start();
    const rx = await receiver();
    const key = await createKey(t, { name: 'pusher' });

    const put = await t.call('PUT', pushUrl(key.id), { body: { webhookUrl: rx.url } });
    expect(put.status).toBe(200);
    const secret = put.body.push.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(put.body.push).toEqual({
      webhookUrl: rx.url,
      realtime: false,
      history: { state: 'idle', total: 0, delivered: 0, progress: 0 },
      delivery: { lastDeliveryAt: null, lastError: null, failedEvents: 0, pendingRetry: false },
      secret,
    });

    const get = await t.call('GET', pushUrl(key.id));
    expect(get.status).toBe(200);
    expect(get.body.push).not.toHaveProperty('secret');
    expect(get.body.push.webhookUrl).toBe(rx.url);
    expect(get.text).not.toContain(secret.slice(6));
    // Nor does the audit trail of the change hold it.
    const audit = await t.call('GET', '/v1/audit-log');
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('push.configured');
    expect(audit.text).not.toContain(secret.slice(6));

    const again = await t.call('PUT', pushUrl(key.id), { body: { webhookUrl: rx.url } });
    expect(again.status).toBe(200);
    const newSecret = again.body.push.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);
    expect((await t.call('GET', pushUrl(key.id))).text).not.toContain(newSecret.slice(6));

    // Deliveries are now signed with the new secret only.
    expect((await t.call('POST', `${pushUrl(key.id)}/realtime`, { body: { enabled: true } })).body.push.realtime).toBe(true);
    await createKey(t, { name: 'after-rotation' });
    await waitFor(() => rx.accepted.length > 0, 'a delivery');
    verifySignature(newSecret, rx.accepted[0]!);
    expect(() => verifySignature(secret, rx.accepted[0]!)).toThrow();
  });

  it('refuses to start either push without a webhook address (409 naming the address)', async () => {
    const t = await start();
    const key = await createKey(t, { name: 'no-address' });
    for (const [path, body] of [
      ['realtime', { enabled: true }],
      ['history', undefined],
    ] as const) {
      const response = await t.call('POST', `${pushUrl(key.id)}/${path}`, body === undefined ? {} : { body });
      expect(response.status, path).toBe(409);
      expect(response.body).toMatchObject({ status: 'error', type: 'conflictError' });
      expect(response.body.error.message).toMatch(/webhook address/i);
    }
    expect(await pushState(t, key.id)).toMatchObject({ webhookUrl: null, realtime: false, history: { state: 'idle', progress: 0 } });
  });
});

describe('real-time push', () => {
  it('delivers lifecycle and usage events as they happen: signed, batched, in recorded order', async () => {
    const t = await start();
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    const secret = await configure(t, pusher.id, rx.url);
    const started = await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } });
    expect(started.status).toBe(200);
    expect(started.body.push.realtime).toBe(true);
    const startPosition = await startOf(t, pusher.id);

    const { lifecycle, tokens } = await makeEvents(t, 24);
    // Another project's events are not this key's to receive.
    const project = await t.call('POST', '/v1/projects', { body: { name: 'elsewhere' } });
    expect(project.status).toBe(201);
    const outsider = await t.call('POST', `/v1/projects/${project.body.project.id}/keys`, { body: { name: 'outsider' } });
    expect(outsider.status).toBe(201);
    expect((await verify(t, { key: outsider.body.apiKey.key })).code).toBe('VALID');
    await t.built.logs.flush();
    expect(await recordedEvents(t, { projectId: project.body.project.id })).toHaveLength(2);
    const expected = await recordedEvents(t, { after: startPosition });
    await waitFor(() => rx.acceptedEvents().length >= expected.length, `${expected.length} events`);

    // Every request: Standard Webhooks headers, a signature the npm verifier accepts, one batch.
    for (const entry of rx.received) {
      expect(entry.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(entry.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
      expect(entry.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
      expect(entry.headers['content-type']).toBe('application/json');
      expect(() => verifySignature(secret, entry)).not.toThrow();
      expect(entry.batch).toMatchObject({ type: 'events.batch', data: { keyId: pusher.id } });
      // Secrets never travel in events.
      for (const token of tokens) expect(entry.body).not.toContain(token);
    }
    expect(new Set(rx.received.map((entry) => entry.headers['webhook-id'])).size).toBe(rx.received.length);

    // Exactly the recorded events, in recorded (stream) order, none twice.
    const delivered = rx.acceptedEvents();
    expect(delivered.map((event) => event.id)).toEqual(expected.map((event) => event.id));
    expect(delivered.some((event) => event.data.keyId === outsider.body.apiKey.id || event.data.apiKey?.id === outsider.body.apiKey.id)).toBe(false);
    for (const event of delivered) {
      expect(event.id).toMatch(/^evt_[0-9A-Z]{26}$/);
      expect(Number.isNaN(Date.parse(event.timestamp))).toBe(false);
    }
    // Batches hold many events: the 24 verifications flushed together travel together.
    expect(Math.max(...rx.accepted.map((entry) => entry.batch.data.events.length))).toBeGreaterThanOrEqual(24);

    // Lifecycle events of the other keys, with their resource.
    const lifecycleDelivered = delivered.filter((event) => event.type !== 'key.verified');
    expect(lifecycleDelivered.map((event) => [event.type, event.data.apiKey.id])).toEqual(lifecycle);
    const { name } = lifecycleDelivered[0]!.data.apiKey;
    expect(lifecycleDelivered.find((event) => event.type === 'key.updated')!.data).toMatchObject({
      apiKey: { name: `${name} renamed` },
      changes: { name: { before: name, after: `${name} renamed` } },
    });
    // Usage events carry the outcome.
    const usage = delivered.filter((event) => event.type === 'key.verified');
    const alphaId = lifecycle[0]![1];
    const alphaUsage = usage.filter((event) => event.data.keyId === alphaId);
    expect(alphaUsage).toHaveLength(24);
    expect(alphaUsage.filter((event) => event.data.outcome === 'VALID')).toHaveLength(18);
    expect(alphaUsage.filter((event) => event.data.outcome === 'INSUFFICIENT_SCOPE')).toHaveLength(6);
    expect(alphaUsage[0]!.data).toMatchObject({ projectId: t.projectId, scopes: ['data_extraction'], cost: 1 });
    // Timestamps (and the time-ordered ids) never go back within each kind of event. Lifecycle
    // events are written at once and usage events behind, so across kinds only `seq` orders them.
    for (const group of [lifecycleDelivered, usage]) {
      expect(isNonDecreasing(group.map((event) => event.timestamp))).toBe(true);
    }
    expect(isNonDecreasing(alphaUsage.map((event) => event.id))).toBe(true);

    const state = await pushState(t, pusher.id);
    expect(state.delivery).toMatchObject({ lastError: null, failedEvents: 0, pendingRetry: false });
    expect(state.delivery.lastDeliveryAt).not.toBeNull();

    // Stopping real-time push: later events are not sent.
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: false } })).body.push.realtime).toBe(false);
    const count = rx.received.length;
    await createKey(t, { name: 'after-stop' });
    await t.built.logs.flush();
    expect(await t.built.dispatcher.runOnce()).toBe(0);
    expect(rx.received.length).toBe(count);
  });
});

describe('historical push', () => {
  it('delivers every earlier event exactly once, progress 0 → 100; a second start is refused', async () => {
    const t = await start({ batchSize: 5 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    const { lifecycle } = await makeEvents(t, 40);
    const secret = await configure(t, pusher.id, rx.url);
    await t.built.logs.flush();

    // What was recorded before the start, as the API shows it: usage logs plus the lifecycle
    // events caused above; and as the database holds it.
    const logs = await t.call('GET', `/v1/projects/${t.projectId}/logs`, { query: { limit: 1000 } });
    expect(logs.status).toBe(200);
    expect(logs.body.nextCursor).toBeNull();
    const before = await recordedEvents(t);
    expect(sorted(before.filter((event) => event.type === 'key.verified').map((event) => event.id))).toEqual(
      sorted(logs.body.logs.map((log: { id: string }) => log.id)),
    );
    expect(before.filter((event) => event.type !== 'key.verified').map((event) => [event.type, event.key_id])).toEqual([
      ['key.created', pusher.id],
      ...lifecycle,
    ]);
    expect(before.length).toBeGreaterThan(40);

    rx.hold();
    const started = await t.call('POST', `${pushUrl(pusher.id)}/history`);
    expect(started.status).toBe(200);
    expect(started.body.push.history).toEqual({ state: 'running', total: before.length, delivered: 0, progress: 0 });
    // Events after the start are not part of the history.
    const late = await createKey(t, { name: 'late' });
    await t.built.logs.flush();

    const progress: number[] = [0];
    await waitFor(() => rx.waiting === 1, 'the first batch');
    const first = await pushState(t, pusher.id);
    expect(first.history).toMatchObject({ state: 'running', delivered: 0, progress: 0 });
    progress.push(first.history.progress);
    rx.release();
    await waitFor(() => rx.waiting === 1 && rx.received.length === 2, 'the second batch');
    const second = await pushState(t, pusher.id);
    expect(second.history).toEqual({ state: 'running', total: before.length, delivered: 5, progress: Math.floor((5 / before.length) * 100) });
    expect(second.history.progress).toBeGreaterThan(0);
    expect(second.history.progress).toBeLessThan(100);
    progress.push(second.history.progress);
    expect(await t.built.dispatcher.queueDepth()).toBe(before.length - 5);
    rx.release();
    // Batches 3 to 6, each while it is held: the queue is what is left to send, also while the
    // cursor is within the verifications' stored chunk (one row of 40 entries).
    let withinChunk = 0;
    for (let batch = 3; batch <= 6; batch++) {
      await waitFor(() => rx.waiting === 1 && rx.received.length === batch, `batch ${batch}`);
      const state = await pushState(t, pusher.id);
      progress.push(state.history.progress);
      expect(await t.built.dispatcher.queueDepth()).toBe(before.length - state.history.delivered);
      if ((await streamRow(t, pusher.id, 'history'))!.cursor_index! > 0) withinChunk++;
      if (batch < 6) rx.release();
    }
    expect(withinChunk).toBeGreaterThan(0);
    rx.open();

    await waitFor(async () => {
      const state = await pushState(t, pusher.id);
      progress.push(state.history.progress);
      return state.history.state === 'completed';
    }, 'the history to complete');
    expect(isNonDecreasing(progress.map((value) => String(value).padStart(3, '0')))).toBe(true);
    expect(progress.at(-1)).toBe(100);
    expect(new Set(progress).size).toBeGreaterThanOrEqual(4);

    // Exactly once in total: every earlier event, no later one, none twice.
    const ids = rx.acceptedEvents().map((event) => event.id);
    expect(ids).toHaveLength(before.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(before.map((event) => event.id));
    expect(rx.acceptedEvents().some((event) => event.data.apiKey?.id === late.id)).toBe(false);
    expect(rx.received.length).toBe(Math.ceil(before.length / 5));
    for (const entry of rx.received) {
      verifySignature(secret, entry);
      expect(entry.batch.data.events.length).toBeLessThanOrEqual(5);
    }

    const done = await pushState(t, pusher.id);
    expect(done.history).toEqual({ state: 'completed', total: before.length, delivered: before.length, progress: 100 });
    expect(done.delivery).toMatchObject({ failedEvents: 0, lastError: null, pendingRetry: false });

    const again = await t.call('POST', `${pushUrl(pusher.id)}/history`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 'error', type: 'conflictError' });
    expect(again.body.error.message).toMatch(/already ran|only once/i);
    expect((await pushState(t, pusher.id)).history).toEqual(done.history);
    expect(rx.received.length).toBe(Math.ceil(before.length / 5));
  });

  it('history first, real-time later: real-time continues where history ends, so no event falls between', async () => {
    const t = await start();
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    await makeEvents(t, 6);
    await configure(t, pusher.id, rx.url);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/history`)).status).toBe(200);
    const history = (await streamRow(t, pusher.id, 'history'))!;
    // Events after the history's end, before real-time push starts…
    await makeEvents(t, 3);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    const realtime = (await streamRow(t, pusher.id, 'realtime'))!;
    expect([realtime.cursor_tx, realtime.cursor_seq].map(Number)).toEqual([history.until_tx, history.until_seq].map(Number));
    // …and after it.
    await makeEvents(t, 3);
    await t.built.logs.flush();
    const expected = (await recordedEvents(t)).map((event) => event.id);
    await waitFor(() => new Set(rx.acceptedEvents().map((event) => event.id)).size >= expected.length, 'every event');
    const delivered = rx.acceptedEvents().map((event) => event.id);
    expect(sorted(delivered)).toEqual(sorted(expected)); // every event, none twice
  });

  it('loses nothing when the server restarts in the middle, and resumes after the last acknowledged batch', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-push-restart-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const rx = await receiver();
    const env = { ...ALLOW_PRIVATE, KEYWARD_MASTER_KEY: 'push-restart-test-master-key-0123456789abcdef' };
    const backend = isolatedBackend(); // the same database for both lives (a PostgreSQL schema, or nothing for SQLite)
    cleanups.push(() => backend.drop());
    const options = { env, dataDir, backend, push: { batchSize: 5, retryBaseMs: 20, tickMs: TICK_MS } };

    const first = await startApp({ ...options, clock: new WallClock(Date.now()) });
    let firstOpen = true;
    cleanups.push(async () => {
      if (firstOpen) await first.close();
    });
    const pusher = await createKey(first, { name: 'pusher' });
    await makeEvents(first, 50);
    const secret = await configure(first, pusher.id, rx.url);
    await first.built.logs.flush();
    const all = (await recordedEvents(first)).map((event) => event.id);
    expect(all.length).toBeGreaterThan(50);

    rx.hold();
    expect((await first.call('POST', `${pushUrl(pusher.id)}/history`)).body.push.history).toMatchObject({ state: 'running', total: all.length });
    for (let batch = 1; batch <= 3; batch++) {
      await waitFor(() => rx.waiting === 1 && rx.received.length === batch, `batch ${batch}`);
      rx.release(200);
    }
    await waitFor(() => rx.waiting === 1 && rx.received.length === 4, 'batch 4');
    const midway = await pushState(first, pusher.id);
    expect(midway.history).toMatchObject({ state: 'running', delivered: 15 });
    expect(midway.history.progress).toBeGreaterThan(0);
    expect(midway.history.progress).toBeLessThan(100);
    // Shut down while batch 4 is in flight; its connection is cut.
    const closing = first.close();
    firstOpen = false;
    rx.release('drop');
    await closing;
    const beforeRestart = rx.acceptedEvents().map((event) => event.id);
    expect(beforeRestart).toEqual(all.slice(0, 15));

    rx.open();
    const second = await startApp({ ...options, clock: new WallClock(Date.now()) });
    cleanups.push(() => second.close());
    // The first workspace's owner key still works against the same data dir.
    await waitFor(async () => (await pushState(second, pusher.id, first.ownerKey)).history.state === 'completed', 'the history to complete');

    const delivered = rx.acceptedEvents().map((event) => event.id);
    expect(new Set(delivered)).toEqual(new Set(all)); // none missing, nothing else (duplicates would be allowed)
    // It resumed after the acknowledged batches rather than starting over.
    expect(delivered.slice(15)).toEqual(all.slice(15));
    for (const entry of rx.received) verifySignature(secret, entry);
    const done = await pushState(second, pusher.id, first.ownerKey);
    expect(done.history).toEqual({ state: 'completed', total: all.length, delivered: all.length, progress: 100 });
  });
});

describe('delivery failures', () => {
  it('retries 5xx and dropped connections with backoff until the receiver has everything', async () => {
    const t = await start({ batchSize: 5, retryBaseMs: 20 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    await makeEvents(t, 20);
    const secret = await configure(t, pusher.id, rx.url);
    await t.built.logs.flush();
    const all = (await recordedEvents(t)).map((event) => event.id);

    rx.failNext(500, 503, 'drop', 200, 'drop', 500, 200, 503);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/history`)).status).toBe(200);
    await waitFor(async () => (await pushState(t, pusher.id)).history.state === 'completed', 'the history to complete', 20_000);

    const delivered = rx.acceptedEvents().map((event) => event.id);
    expect(delivered).toEqual(all);
    // Every failed request was retried with the same batch (same message id, same body).
    const failed = rx.received.filter((entry) => !rx.accepted.includes(entry));
    expect(failed).toHaveLength(6);
    for (const entry of failed) {
      const retried = rx.accepted.find((ok) => ok.headers['webhook-id'] === entry.headers['webhook-id']);
      expect(retried, 'the failed batch was delivered later').toBeDefined();
      expect(retried!.batch.data.events).toEqual(entry.batch.data.events);
    }
    for (const entry of rx.received) verifySignature(secret, entry);
    const state = await pushState(t, pusher.id);
    expect(state.history).toEqual({ state: 'completed', total: all.length, delivered: all.length, progress: 100 });
    expect(state.delivery).toMatchObject({ failedEvents: 0, lastError: null, pendingRetry: false });
  });

  it('real-time push also retries until a failing receiver recovers', async () => {
    const t = await start({ retryBaseMs: 20 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    await configure(t, pusher.id, rx.url);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    const startPosition = await startOf(t, pusher.id);
    rx.failNext(503, 'drop', 500, 'drop');
    await makeEvents(t, 10);
    await t.built.logs.flush();
    const expected = (await recordedEvents(t, { after: startPosition })).map((event) => event.id);
    await waitFor(() => new Set(rx.acceptedEvents().map((event) => event.id)).size >= expected.length, 'every event', 20_000);
    expect(new Set(rx.acceptedEvents().map((event) => event.id))).toEqual(new Set(expected));
    expect(rx.received.length - rx.accepted.length).toBe(4);
  });

  it('a retry resends the same batch with the same webhook-id, even when new events arrived meanwhile', async () => {
    const t = await start({ retryBaseMs: 200 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    const secret = await configure(t, pusher.id, rx.url);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    rx.failNext(503);
    await makeEvents(t, 2);
    await waitFor(() => rx.received.length === 1, 'the first (failed) attempt');
    const failed = rx.received[0]!;
    await makeEvents(t, 2); // more events while the retry waits
    await waitFor(() => rx.accepted.length >= 2, 'the retry and the next batch');
    const retried = rx.accepted[0]!;
    expect(retried.headers['webhook-id']).toBe(failed.headers['webhook-id']);
    expect(retried.batch.data.events.map((event) => event.id)).toEqual(failed.batch.data.events.map((event) => event.id));
    verifySignature(secret, retried);
    const later = rx.accepted[1]!;
    expect(later.headers['webhook-id']).not.toBe(failed.headers['webhook-id']);
    expect(later.batch.data.events.some((event) => failed.batch.data.events.some((old) => old.id === event.id))).toBe(false);
  });

  it('gives up a batch answered 400 without retrying it, and says so in failedEvents and lastError', async () => {
    const t = await start({ batchSize: 5 });
    // Driven by hand, so the state right after the refused batch can be read.
    await t.built.dispatcher.stop();
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    await makeEvents(t, 12);
    await configure(t, pusher.id, rx.url);
    await t.built.logs.flush();
    const all = (await recordedEvents(t)).map((event) => event.id);

    rx.failNext(400);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/history`)).status).toBe(200);
    expect(await t.built.dispatcher.runOnce()).toBe(1);
    expect(rx.received.map((entry) => entry.reply)).toEqual([400]);
    const afterRefusal = await pushState(t, pusher.id);
    expect(afterRefusal.delivery.failedEvents).toBe(5);
    expect(afterRefusal.delivery.lastError).toMatch(/gave up on 5 events: HTTP 400/);
    expect(afterRefusal.delivery.pendingRetry).toBe(false);
    expect(afterRefusal.history).toEqual({ state: 'running', total: all.length, delivered: 0, progress: Math.floor((5 / all.length) * 100) });

    for (let i = 0; i < 50 && (await pushState(t, pusher.id)).history.state !== 'completed'; i++) await t.built.dispatcher.runOnce();
    const refusedId = rx.received[0]!.headers['webhook-id'];
    expect(rx.received.filter((entry) => entry.headers['webhook-id'] === refusedId)).toHaveLength(1);
    expect(rx.acceptedEvents().map((event) => event.id)).toEqual(all.slice(5));
    const done = await pushState(t, pusher.id);
    expect(done.history).toEqual({ state: 'completed', total: all.length, delivered: all.length - 5, progress: 100 });
    expect(done.delivery.failedEvents).toBe(5);
  });

  it('retries 408 and 429 like server errors', async () => {
    const t = await start({ batchSize: 5, retryBaseMs: 20 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    await makeEvents(t, 8);
    await configure(t, pusher.id, rx.url);
    await t.built.logs.flush();
    const all = (await recordedEvents(t)).map((event) => event.id);

    rx.failNext(408, 429, 408, 429);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/history`)).status).toBe(200);
    await waitFor(async () => (await pushState(t, pusher.id)).history.state === 'completed', 'the history to complete', 20_000);
    expect(rx.received.slice(0, 5).map((entry) => entry.reply)).toEqual([408, 429, 408, 429, 200]);
    expect(new Set(rx.received.slice(0, 5).map((entry) => entry.headers['webhook-id'])).size).toBe(1);
    expect(rx.acceptedEvents().map((event) => event.id)).toEqual(all);
    const state = await pushState(t, pusher.id);
    expect(state.history).toMatchObject({ delivered: all.length, progress: 100 });
    expect(state.delivery.failedEvents).toBe(0);
  });
});

describe('stopping', () => {
  it('deleting the key stops every push of that key and drops its queue', async () => {
    const t = await start({ batchSize: 5 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    const other = await createKey(t, { name: 'other' });
    for (let i = 0; i < 20; i++) await verify(t, { key: other.key });
    await configure(t, pusher.id, rx.url);
    await t.built.logs.flush();
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    rx.hold();
    expect((await t.call('POST', `${pushUrl(pusher.id)}/history`)).status).toBe(200);
    await waitFor(() => rx.waiting === 1, 'a history batch in flight');

    expect((await t.call('DELETE', `/v1/keys/${pusher.id}`)).status).toBe(204);
    rx.open(); // the batch that was already in flight completes; nothing follows it
    const count = rx.received.length;
    await createKey(t, { name: 'after-delete' });
    for (let i = 0; i < 5; i++) await verify(t, { key: other.key });
    await t.built.logs.flush();
    expect(await t.built.dispatcher.runOnce()).toBe(0);
    // Absence cannot be awaited: give the dispatcher's own timer several ticks to misbehave.
    await new Promise((resolve) => setTimeout(resolve, 10 * TICK_MS));
    expect(rx.received.length).toBe(count);
    const db = t.built.services.storage.db;
    expect(await db.selectFrom('push_streams').selectAll().where('key_id', '=', pusher.id).execute()).toEqual([]);
    expect(await db.selectFrom('push_subscriptions').selectAll().where('key_id', '=', pusher.id).execute()).toEqual([]);
    expect(await t.built.dispatcher.queueDepth()).toBe(0);
    expect((await t.call('GET', pushUrl(pusher.id))).status).toBe(404);
  });

  it('DELETE …/push removes the address and stops every stream', async () => {
    const t = await start({ batchSize: 5 });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    await makeEvents(t, 20);
    await configure(t, pusher.id, rx.url);
    await t.built.logs.flush();
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    rx.hold();
    expect((await t.call('POST', `${pushUrl(pusher.id)}/history`)).status).toBe(200);
    await waitFor(() => rx.waiting === 1, 'a history batch in flight');

    expect((await t.call('DELETE', pushUrl(pusher.id))).status).toBe(204);
    rx.open();
    const count = rx.received.length;
    await makeEvents(t, 5);
    expect(await t.built.dispatcher.runOnce()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 10 * TICK_MS));
    expect(rx.received.length).toBe(count);
    expect(await pushState(t, pusher.id)).toMatchObject({
      webhookUrl: null,
      realtime: false,
      history: { state: 'idle', total: 0, delivered: 0, progress: 0 },
    });
    expect(await t.built.dispatcher.queueDepth()).toBe(0);
    expect((await t.call('DELETE', pushUrl(pusher.id))).status).toBe(404);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(409);
  });
});

describe('webhook address policy (SSRF)', () => {
  it('refuses private, loopback and link-local addresses, other schemes and credentials unless allowed', async () => {
    const t = await start({}, { KEYWARD_USAGE_FLUSH_MS: '60000' });
    const key = await createKey(t, { name: 'pusher' });
    const refused = [
      'http://127.0.0.1:8080/hook',
      'http://localhost:8080/hook',
      'http://api.localhost/hook',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://2130706433/', // 127.0.0.1 written as one number
      'http://0x7f.1/', // and in hex shorthand
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@example.com/hook',
      'https://user@example.com/hook',
      'not a url',
    ];
    for (const webhookUrl of refused) {
      const response = await t.call('PUT', pushUrl(key.id), { body: { webhookUrl } });
      expect(response.status, webhookUrl).toBe(400);
      expect(response.body, webhookUrl).toMatchObject({ status: 'error', type: 'validationError', error: { field: 'webhookUrl' } });
    }
    expect(await pushState(t, key.id)).toMatchObject({ webhookUrl: null });
    expect((await t.call('PUT', pushUrl(key.id), { body: { webhookUrl: 'https://hooks.example.com/keyward' } })).status).toBe(200);
  });

  it('refuses at delivery a host name that resolves to a loopback address', async (ctx) => {
    const alias = loopbackAlias();
    const addresses = alias === undefined ? [] : await lookup(alias, { all: true }).catch(() => []);
    if (alias === undefined || addresses.length === 0 || !addresses.every((entry) => entry.address.startsWith('127.'))) {
      ctx.skip(); // no name here resolves to loopback other than "localhost", which PUT already refuses
      return;
    }
    const t = await start({}, { KEYWARD_USAGE_FLUSH_MS: '60000' });
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    // The name passes the shape check; the receiver it resolves to would accept the request.
    await configure(t, pusher.id, `http://${alias}:${rx.port}/hook`);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    await createKey(t, { name: 'event' });
    await waitFor(async () => (await pushState(t, pusher.id)).delivery.failedEvents > 0, 'the delivery to be refused');
    const state = await pushState(t, pusher.id);
    expect(state.delivery.lastError).toMatch(/resolves to a private address \(127\./);
    expect(state.delivery.pendingRetry).toBe(false);
    expect(rx.received).toHaveLength(0);
  });
});

/** A name from /etc/hosts that maps to 127.x and is not a localhost name. */
function loopbackAlias(): string | undefined {
  let hosts: string;
  try {
    hosts = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of hosts.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (address?.startsWith('127.') !== true) continue;
    const name = names.find((candidate) => candidate !== 'localhost' && !candidate.endsWith('.localhost'));
    if (name !== undefined) return name;
  }
  return undefined;
}

describe('permissions', () => {
  it('a viewer cannot configure push; a developer only on its own keys; another workspace sees 404', async () => {
    const t = await start();
    const ownerKey = await createKey(t, { name: 'owner key' });
    const viewer = await addMember(t, 'viewer');
    const developer = await addMember(t, 'developer');
    const webhookUrl = 'https://hooks.example.com/keyward';

    for (const keyId of [viewer.keyId, ownerKey.id]) {
      const response = await t.call('PUT', pushUrl(keyId), { body: { webhookUrl }, token: viewer.token });
      expect(response.status).toBe(403);
      expect(response.body.type).toBe('unauthorizedApiKeyError');
    }
    expect((await t.call('POST', `${pushUrl(viewer.keyId)}/realtime`, { body: { enabled: true }, token: viewer.token })).status).toBe(403);
    expect((await t.call('POST', `${pushUrl(viewer.keyId)}/history`, { token: viewer.token })).status).toBe(403);

    const foreign = await t.call('PUT', pushUrl(ownerKey.id), { body: { webhookUrl }, token: developer.token });
    expect(foreign.status).toBe(403);
    expect(foreign.body.type).toBe('unauthorizedApiKeyError');
    expect((await t.call('GET', pushUrl(ownerKey.id), { token: developer.token })).status).toBe(403);
    expect((await t.call('DELETE', pushUrl(ownerKey.id), { token: developer.token })).status).toBe(403);
    const own = await t.call('PUT', pushUrl(developer.keyId), { body: { webhookUrl }, token: developer.token });
    expect(own.status).toBe(200);
    expect(own.body.push.secret).toMatch(/^whsec_/);

    await configure(t, ownerKey.id, webhookUrl);
    const other = await createWorkspace(t.built.services.storage.db, {
      name: 'Other tenant',
      ownerEmail: 'push-other-owner@example.com',
      withAdminKey: true,
      now: Date.now(),
      masterKey: loadMasterKey(t.config.masterKey, t.dataDir),
    });
    const intruder = other.adminKey!.token;
    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['PUT', '', { webhookUrl }],
      ['DELETE', '', undefined],
      ['POST', '/realtime', { enabled: true }],
      ['POST', '/history', undefined],
    ] as const) {
      const response = await t.call(method, `${pushUrl(ownerKey.id)}${path}`, { token: intruder, ...(body !== undefined && { body }) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.type).toBe('notFoundError');
    }
    expect(await pushState(t, ownerKey.id)).toMatchObject({ webhookUrl, realtime: false, history: { state: 'idle' } });
  });

  it("a developer's push carries only its own keys' events; an admin's carries the whole project's", async () => {
    const t = await start();
    const devRx = await receiver();
    const adminRx = await receiver();
    const developer = await addMember(t, 'developer');
    const admin = await addMember(t, 'admin');
    const devKey = await createKey(t, { name: 'dev data key', accountId: developer.accountId });
    await t.built.logs.flush(); // the members' admin calls are verifications of their keys too
    await configure(t, developer.keyId, devRx.url);
    await configure(t, admin.keyId, adminRx.url);
    for (const keyId of [developer.keyId, admin.keyId]) {
      expect((await t.call('POST', `${pushUrl(keyId)}/history`)).status).toBe(200);
    }
    // The developer's history counts only its own keys' events; the admin's counts the project's.
    const devTotal = (await pushState(t, developer.keyId)).history.total as number;
    const adminTotal = (await pushState(t, admin.keyId)).history.total as number;
    expect(devTotal).toBeGreaterThan(0);
    expect(adminTotal).toBeGreaterThan(devTotal);
    await waitFor(async () => (await pushState(t, developer.keyId)).history.state === 'completed', 'the developer history');
    await waitFor(async () => (await pushState(t, admin.keyId)).history.state === 'completed', 'the admin history');
    const mine = new Set([developer.keyId, devKey.id]);
    const devEvents = devRx.acceptedEvents();
    expect(devEvents).toHaveLength(devTotal);
    for (const event of devEvents) {
      const keyId = (event.data.keyId ?? event.data.apiKey?.id) as string;
      expect(mine.has(keyId), `${event.type} of ${keyId}`).toBe(true);
    }
    const adminKeys = new Set(adminRx.acceptedEvents().map((event) => (event.data.keyId ?? event.data.apiKey?.id) as string));
    expect(adminKeys.has(devKey.id)).toBe(true);
    expect(adminKeys.has(developer.keyId)).toBe(true);
    expect(adminKeys.has(admin.keyId)).toBe(true);

    // Judged at delivery: once promoted, the developer's real-time push carries everyone's events.
    expect((await t.call('PATCH', `/v1/accounts/${developer.accountId}`, { body: { role: 'admin' } })).status).toBe(200);
    expect((await t.call('POST', `${pushUrl(developer.keyId)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    const ownerKey = await createKey(t, { name: 'owner key after promotion' });
    await waitFor(() => devRx.acceptedEvents().some((event) => event.data.apiKey?.id === ownerKey.id), "the owner's key.created");
  });
});

// On PostgreSQL an event's position is (tx, seq), tx being its writing transaction's id, and push
// reads only up to readable() = (oldest running transaction - 1, ∞). So while a transaction that
// wrote an event is open, no event of a later transaction may be pushed past it; once it commits,
// its events come first, in (tx, seq) order, even those inserted (higher seq) after later ones.
describe('commit order (PostgreSQL)', () => {
  interface Recorded {
    id: string;
    tx: number;
    seq: number;
    index: number;
    type: string;
    key_id: string | null;
    data: string | null;
  }

  /** The project's events after the stream's start, in stream order, with their positions. */
  function recordedAfter(t: TestApp, after: Position): Promise<Recorded[]> {
    return recordedEvents(t, { after });
  }

  /** A connection of its own on the app's schema, to hold a transaction open. */
  async function separateClient(t: TestApp): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    cleanups.push(() => client.end());
    await client.query(`set search_path to ${t.config.databaseSchema!}, public`);
    return client;
  }

  /** Inserts a `key.updated` event the way recordChange does (tx from the column default). */
  async function insertKeyUpdated(client: pg.Client, t: TestApp, keyId: string, name: string): Promise<Recorded> {
    const apiKey = (await t.call('GET', `/v1/keys/${keyId}`)).body.apiKey;
    const now = Date.now();
    const data = JSON.stringify({ apiKey: { ...apiKey, name }, changes: { name: { before: apiKey.name, after: name } } });
    const inserted = await client.query<{ id: string; tx: string; seq: string; type: string; key_id: string; data: string }>(
      `insert into events (id, time, type, workspace_id, project_id, key_id, account_id, data)
       values ($1, $2, 'key.updated', $3, $4, $5, $6, $7) returning id, tx, seq, type, key_id, data`,
      [newId('evt', now), now, t.workspaceId, t.projectId, keyId, t.ownerId, data],
    );
    const row = inserted.rows[0]!;
    return { ...row, tx: Number(row.tx), seq: Number(row.seq), index: 0 };
  }

  /** Renames `keyId` through the API; returns the event it recorded. */
  async function rename(t: TestApp, keyId: string, name: string): Promise<Recorded> {
    expect((await t.call('PATCH', `/v1/keys/${keyId}`, { body: { name } })).status).toBe(200);
    const events = await recordedAfter(t, ORIGIN);
    const event = events.find((e) => e.type === 'key.updated' && e.key_id === keyId && JSON.parse(e.data!).changes.name.after === name);
    expect(event, `the key.updated event of ${name}`).toBeDefined();
    return event!;
  }

  /** A pusher key with real-time push to a fresh receiver, another key to change, and one event already delivered. */
  async function setUp() {
    const t = await start();
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    const busy = await createKey(t, { name: 'busy' });
    const quiet = await createKey(t, { name: 'quiet' });
    const secret = await configure(t, pusher.id, rx.url);
    expect((await t.call('POST', `${pushUrl(pusher.id)}/realtime`, { body: { enabled: true } })).status).toBe(200);
    const startPosition = await startOf(t, pusher.id);
    const before = await rename(t, busy.id, 'busy 0');
    await waitFor(() => rx.acceptedEvents().some((e) => e.id === before.id), 'the event written before the held transaction');
    return { t, rx, secret, pusher, busy, quiet, startPosition, before };
  }

  /** Shows later events held back while `held` is open: recorded and committed, yet not pushed. */
  async function expectHeldBack(t: TestApp, rx: Receiver, held: Recorded, later: Recorded[]): Promise<void> {
    const heldAt: Position = { tx: held.tx, seq: held.seq, index: held.index };
    // The later events came from transactions that got their ids after the held one…
    for (const event of later) expect(event.tx).toBeGreaterThan(held.tx);
    // …so the readable position stays before the held transaction while it runs,
    const { db } = t.built.services.storage;
    expect(comparePositions(await readable(db, 'postgres'), heldAt)).toBeLessThan(0);
    // and a whole dispatch pass run now (after all of them committed) finds nothing to send.
    const requests = rx.received.length;
    expect(await t.built.dispatcher.runOnce()).toBe(0);
    // The timer-driven passes (every TICK_MS) decide alike. No event can be delivered while the
    // transaction is open to show they ran, so this is a bounded wait of ~50 ticks in which no
    // request may arrive.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(rx.received.length).toBe(requests);
    const pushed = rx.acceptedEvents();
    for (const event of later) expect(pushed.some((e) => e.id === event.id), `${event.id} pushed past the open transaction`).toBe(false);
    // Nothing at or past the held transaction's position went out,
    const positions = new Map((await recordedAfter(t, ORIGIN)).map((e) => [e.id, { tx: e.tx, seq: e.seq, index: e.index }]));
    for (const event of pushed) expect(comparePositions(positions.get(event.id)!, heldAt)).toBeLessThan(0);
    // and the later events wait in the queue (committed and visible, just not yet readable).
    expect(await t.built.dispatcher.queueDepth()).toBeGreaterThanOrEqual(later.length);
  }

  it.runIf(BACKEND === 'postgres')('an event whose transaction commits after later events is pushed first, before them, never skipped', async () => {
    const { t, rx, secret, busy, quiet, startPosition, before } = await setUp();

    const client = await separateClient(t);
    await client.query('begin');
    // Inserted first: lowest seq and lowest tx of what follows.
    const heldFirst = await insertKeyUpdated(client, t, quiet.id, 'quiet (held 1)');
    expect(heldFirst.tx).toBeGreaterThan(before.tx);
    const later: Recorded[] = [];
    for (let i = 1; i <= 3; i++) later.push(await rename(t, busy.id, `busy ${i}`));
    await expectHeldBack(t, rx, heldFirst, later);
    // Inserted by the held transaction after the later ones: a higher seq, but still its (lower) tx.
    const heldLast = await insertKeyUpdated(client, t, quiet.id, 'quiet (held 2)');
    expect(heldLast.tx).toBe(heldFirst.tx);
    expect(heldLast.seq).toBeGreaterThan(later.at(-1)!.seq);
    await client.query('commit');

    await waitFor(() => rx.acceptedEvents().some((e) => e.id === later.at(-1)!.id), 'the last of the later events');
    const expected = await recordedAfter(t, startPosition);
    // Stream order is (tx, seq): the held transaction's two events, then the later transactions'.
    const ids = expected.map((e) => e.id);
    expect(ids.slice(ids.indexOf(before.id))).toEqual([before.id, heldFirst.id, heldLast.id, ...later.map((e) => e.id)]);
    // Every event exactly once, in that order, and nothing more after a further pass.
    expect(rx.acceptedEvents().map((e) => e.id)).toEqual(ids);
    expect(await t.built.dispatcher.runOnce()).toBe(0);
    expect(rx.acceptedEvents().map((e) => e.id)).toEqual(ids);
    for (const entry of rx.received) verifySignature(secret, entry);
    const heldPushed = rx.acceptedEvents().find((e) => e.id === heldFirst.id)!;
    expect(heldPushed).toMatchObject({ type: 'key.updated', data: { apiKey: { id: quiet.id, name: 'quiet (held 1)' } } });
  });

  it.runIf(BACKEND === 'postgres')('an event whose transaction rolls back is never pushed, and delivery goes on past it', async () => {
    const { t, rx, secret, busy, quiet, startPosition } = await setUp();

    const client = await separateClient(t);
    await client.query('begin');
    const held = await insertKeyUpdated(client, t, quiet.id, 'quiet (rolled back)');
    const later: Recorded[] = [];
    for (let i = 1; i <= 3; i++) later.push(await rename(t, busy.id, `busy ${i}`));
    await expectHeldBack(t, rx, held, later);
    await client.query('rollback');

    await waitFor(() => rx.acceptedEvents().some((e) => e.id === later.at(-1)!.id), 'the later events');
    // And it goes on: an event written after the rollback follows.
    const after = await rename(t, busy.id, 'busy after rollback');
    await waitFor(() => rx.acceptedEvents().some((e) => e.id === after.id), 'the event after the rollback');

    const expected = await recordedAfter(t, startPosition);
    expect(expected.some((e) => e.id === held.id)).toBe(false);
    // Everything recorded, once each, in stream order; the rolled-back event is not among them, and
    // being before all the delivered later events in stream order, it can no longer come.
    expect(rx.acceptedEvents().map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(rx.acceptedEvents().some((e) => e.id === held.id)).toBe(false);
    expect(await t.built.dispatcher.runOnce()).toBe(0);
    expect(rx.acceptedEvents().map((e) => e.id)).toEqual(expected.map((e) => e.id));
    for (const entry of rx.received) verifySignature(secret, entry);
  });

  it.runIf(BACKEND === 'postgres')('a history push counts and delivers every event recorded before it, even while another transaction is open', async () => {
    const t = await start();
    const rx = await receiver();
    const pusher = await createKey(t, { name: 'pusher' });
    const other = await createKey(t, { name: 'other' });
    // An unrelated transaction, open on the same server before any of the events below.
    const blocker = await separateClient(t);
    await blocker.query('begin');
    await blocker.query('select pg_current_xact_id()');
    for (let i = 1; i <= 3; i++) await rename(t, other.id, `other ${i}`);
    const expected = await recordedAfter(t, ORIGIN);
    await configure(t, pusher.id, rx.url);
    const started = await t.call('POST', `${pushUrl(pusher.id)}/history`);
    // The total counts every event already recorded, not only those below the open transaction.
    expect(started.body.push.history).toMatchObject({ state: 'running', total: expected.length });
    await blocker.query('commit');
    await waitFor(async () => (await pushState(t, pusher.id)).history.state === 'completed', 'the history to complete');
    expect(rx.acceptedEvents().map((e) => e.id)).toEqual(expected.map((e) => e.id));
  });
});
