// The SDK against a real Keyward on a loopback port: every endpoint of the client at least once,
// and the server's error envelope as a KeywardError. Each test gets a fresh server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMember } from '../../../test/helpers.js';
import { Receiver, verifySignature } from '../../../test/webhook-receiver.js';
import type { CreateKeyRequest, Keyward } from '../src/index.js';
import { serveKeyward, waitFor, WallClock, type ServedKeyward } from './keyward-server.js';
import { failure } from './failure.js';

const UNKNOWN_KEY_ID = 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV';

let s: ServedKeyward;
let kw: Keyward;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  s = await serveKeyward({
    // Usage logs are flushed by hand (t.built.logs.flush()); webhooks go to a loopback receiver.
    env: { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true', KEYWARD_USAGE_FLUSH_MS: '60000' },
    clock: new WallClock(Date.now()),
    push: { retryBaseMs: 20, tickMs: 20 },
  });
  kw = s.kw;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await s.close();
});

async function newKey(request: CreateKeyRequest = {}) {
  return kw.keys.create(s.t.projectId, request);
}

describe('workspace, projects and accounts', () => {
  it('reads the workspace of the caller', async () => {
    const info = await kw.workspace.get();
    expect(info.workspace.id).toBe(s.t.workspaceId);
    expect(info.account).toMatchObject({ id: s.t.ownerId, role: 'owner' });
    expect(info.permissions).toContain('keys:manage_all');
    expect(info.credential.type).toBe('key');
  });

  it('creates, lists, gets, updates and deletes projects', async () => {
    const project = await kw.projects.create({ name: 'SDK project', scopes: ['read', 'write'], maxKeysPerAccount: 3 });
    expect(project).toMatchObject({ name: 'SDK project', scopes: ['read', 'write'], maxKeysPerAccount: 3, recoverable: false });
    expect(project.id).toMatch(/^proj_/);

    expect((await kw.projects.list()).projects.map((p) => p.id)).toEqual(expect.arrayContaining([s.t.projectId, project.id]));
    expect(await kw.projects.get(project.id)).toEqual(project);
    const renamed = await kw.projects.update(project.id, { name: 'Renamed', scopes: ['read'] });
    expect(renamed).toMatchObject({ id: project.id, name: 'Renamed', scopes: ['read'] });

    // A project with keys is deleted only with force.
    await kw.keys.create(project.id, { name: 'in the way' });
    const refused = await failure(kw.projects.delete(project.id));
    expect(refused).toMatchObject({ type: 'conflictError', status: 409 });
    await kw.projects.delete(project.id, { force: true });
    expect(await failure(kw.projects.get(project.id))).toMatchObject({ type: 'notFoundError', status: 404 });
  });

  it('creates, lists, gets, updates and deletes accounts', async () => {
    const email = `dev-${Date.now()}@example.com`;
    const account = await kw.accounts.create({ email, name: 'Dev', role: 'developer', password: 'correct horse battery' });
    expect(account).toMatchObject({ email, name: 'Dev', role: 'developer' });
    expect(account).not.toHaveProperty('password');

    expect((await kw.accounts.list()).accounts.map((a) => a.id)).toEqual(expect.arrayContaining([s.t.ownerId, account.id]));
    expect(await kw.accounts.get(account.id)).toEqual(account);
    expect(await kw.accounts.update(account.id, { role: 'viewer', name: 'Viewer' })).toMatchObject({ role: 'viewer', name: 'Viewer' });
    await kw.accounts.delete(account.id);
    expect(await failure(kw.accounts.get(account.id))).toMatchObject({ type: 'notFoundError', status: 404 });
  });
});

describe('keys', () => {
  it('creates (secret once), lists with search and paging, gets, updates and deletes', async () => {
    const backend = await newKey({ name: 'backend service', scopes: ['inference'], limitedAmount: 100, meta: { team: 'core' } });
    expect(backend.key).toMatch(/^kw_live_/);
    expect(backend).toMatchObject({ name: 'backend service', scopes: ['inference'], limitedAmount: 100, usedAmount: 0, status: 'active' });
    await newKey({ name: 'frontend app', environment: 'test' });

    const found = await kw.keys.list(s.t.projectId, { search: 'backend' });
    expect(found.apiKeys.map((k) => k.name)).toEqual(['backend service']);
    expect(found).toMatchObject({ page: 1, pageSize: 100, total: 1 });
    const testKeys = await kw.keys.list(s.t.projectId, { environment: 'test' });
    expect(testKeys.apiKeys.map((k) => k.name)).toEqual(['frontend app']);
    const firstPage = await kw.keys.list(s.t.projectId, { pageSize: 1 });
    expect(firstPage.apiKeys).toHaveLength(1);
    expect(firstPage.apiKeys[0]!.name).toBe('frontend app'); // newest first
    expect(firstPage.total).toBe(3); // with the owner's admin key

    const fetched = await kw.keys.get(backend.id);
    expect(fetched).toMatchObject({ id: backend.id, name: 'backend service', meta: { team: 'core' } });
    expect(fetched).not.toHaveProperty('key');

    const updated = await kw.keys.update(backend.id, { enabled: false, meta: null, rateLimit: { limit: 10, windowMs: 1000 } });
    expect(updated).toMatchObject({ enabled: false, status: 'disabled', meta: null, rateLimit: { limit: 10, windowMs: 1000 } });

    await kw.keys.delete(backend.id);
    expect(await failure(kw.keys.get(backend.id))).toMatchObject({ type: 'notFoundError', status: 404 });
  });

  it('rotates with a grace period: old and new secrets both verify', async () => {
    const key = await newKey({ name: 'rotating' });
    const rotated = await kw.keys.rotate(key.id, { gracePeriodSeconds: 60 });
    expect(rotated.id).toBe(key.id);
    expect(rotated.key).toMatch(/^kw_live_/);
    expect(rotated.key).not.toBe(key.key);
    expect((await kw.verify({ key: key.key! })).code).toBe('VALID');
    expect((await kw.verify({ key: rotated.key! })).code).toBe('VALID');

    // Without options: the old secret stops at once.
    const again = await kw.keys.rotate(key.id);
    expect((await kw.verify({ key: rotated.key! })).valid).toBe(false);
    expect((await kw.verify({ key: again.key! })).valid).toBe(true);
  });

  it('reveals the secret in a recoverable project only', async () => {
    const recoverable = await kw.projects.create({ name: 'Recoverable', recoverable: true });
    const key = await kw.keys.create(recoverable.id, { name: 'revealable' });
    expect((await kw.keys.reveal(key.id)).key).toBe(key.key);

    const once = await newKey({ name: 'shown once' });
    expect(await failure(kw.keys.reveal(once.id))).toMatchObject({ type: 'conflictError', status: 409 });
  });
});

describe('verify', () => {
  it('answers valid and invalid keys as results, without an admin credential', async () => {
    const key = await newKey({ name: 'verified', scopes: ['inference'], limitedAmount: 5 });
    const anonymous = s.client({ token: undefined });

    const valid = await anonymous.verify({ key: key.key!, scopes: ['inference'], cost: 2 });
    expect(valid).toMatchObject({ valid: true, code: 'VALID', key: { id: key.id, scopes: ['inference'] }, usage: { limit: 5, used: 2, remaining: 3 } });

    const scopeMissing = await anonymous.verify({ key: key.key!, scopes: ['data_extraction'] });
    expect(scopeMissing).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE', missingScopes: ['data_extraction'] });
    expect(await anonymous.verify({ key: 'kw_live_not-a-real-token' })).toMatchObject({ valid: false, code: 'MALFORMED' });
    // A client with a wrong admin token verifies all the same: verify does not send it.
    expect((await s.client({ token: 'wrong' }).verify({ key: key.key! })).valid).toBe(true);
  });

  it('turns a malformed request into a validationError naming the field', async () => {
    const error = await failure(kw.verify({ key: 'x', cost: -1 }));
    expect(error).toMatchObject({ type: 'validationError', status: 400, field: 'cost' });
  });
});

describe('usage logs, usage and the audit log', () => {
  it('lists logs by cursor, counts usage by outcome and reads the audit log', async () => {
    const key = await newKey({ name: 'logged', scopes: ['inference'] });
    await kw.verify({ key: key.key!, scopes: ['inference'] });
    await kw.verify({ key: key.key!, scopes: ['data_extraction'] });
    await s.t.built.logs.flush();

    const logs = await kw.logs.list(s.t.projectId, { keyId: key.id });
    expect(logs.logs.map((log) => log.outcome)).toEqual(['INSUFFICIENT_SCOPE', 'VALID']);
    expect(logs.nextCursor).toBeNull();
    const first = await kw.logs.list(s.t.projectId, { keyId: key.id, limit: 1 });
    expect(first.logs).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await kw.logs.list(s.t.projectId, { keyId: key.id, limit: 1, cursor: first.nextCursor! });
    expect(second.logs.map((log) => log.outcome)).toEqual(['VALID']);
    expect((await kw.logs.list(s.t.projectId, { keyId: key.id, outcome: 'VALID' })).logs).toHaveLength(1);

    const usage = await kw.usage.get(key.id, { granularity: 'hour' });
    expect(usage.usage.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(2);
    const counted = usage.usage.find((bucket) => bucket.total > 0)!;
    expect(counted.outcomes).toMatchObject({ VALID: 1, INSUFFICIENT_SCOPE: 1 });
    expect((await kw.usage.get(key.id, { granularity: 'day' })).usage.length).toBeGreaterThan(0);

    const audit = await kw.auditLog.list({ action: 'key.created', targetId: key.id });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ action: 'key.created', target: { type: 'key', id: key.id }, actor: { accountId: s.t.ownerId, credential: 'key' } });
    await newKey({ name: 'another' });
    const newest = await kw.auditLog.list({ action: 'key.created', limit: 1 });
    expect(newest.entries.map((entry) => entry.target.id)).not.toContain(key.id);
    const older = await kw.auditLog.list({ action: 'key.created', limit: 1, cursor: newest.nextCursor! });
    expect(older.entries.map((entry) => entry.target.id)).toEqual([key.id]);
  });
});

describe('push', () => {
  it('sets the webhook (secret once), pushes in real time and history, and is removed', async () => {
    const rx = await Receiver.start();
    cleanups.push(() => rx.close());
    const key = await newKey({ name: 'pusher' });

    const configured = await kw.push.set(key.id, { webhookUrl: rx.url });
    expect(configured.secret).toMatch(/^whsec_/);
    expect(configured).toMatchObject({ webhookUrl: rx.url, realtime: false, history: { state: 'idle' } });
    const state = await kw.push.get(key.id);
    expect(state.webhookUrl).toBe(rx.url);
    expect(state).not.toHaveProperty('secret');

    expect((await kw.push.realtime(key.id, true)).realtime).toBe(true);
    const history = await kw.push.startHistory(key.id);
    expect(['running', 'completed']).toContain(history.history.state);
    await waitFor(async () => (await kw.push.get(key.id)).history.state === 'completed', 'the historical push to complete');
    await waitFor(() => rx.accepted.length > 0, 'a delivery');
    verifySignature(configured.secret, rx.accepted[0]!);
    expect(rx.acceptedEvents().map((event) => event.type)).toContain('key.created');

    expect(await failure(kw.push.startHistory(key.id))).toMatchObject({ type: 'conflictError', status: 409 });
    expect((await kw.push.realtime(key.id, false)).realtime).toBe(false);
    await kw.push.remove(key.id);
    expect(await kw.push.get(key.id)).toMatchObject({ webhookUrl: null, realtime: false });
  });
});

describe('leaks', () => {
  it('revokes the keys of reported tokens', async () => {
    const key = await newKey({ name: 'leaked' });
    const report = await kw.leaks.report([key.key!, 'not a token']);
    expect(report).toMatchObject({ revoked: [key.id], alreadyRevoked: [], malformed: 1 });
    expect(await kw.verify({ key: key.key! })).toMatchObject({ valid: false, code: 'DISABLED' });
    expect(await kw.keys.get(key.id)).toMatchObject({ enabled: false, disabledReason: 'leaked' });
  });
});

describe('errors', () => {
  it('401: a wrong or missing admin credential', async () => {
    const wrong = await failure(s.client({ token: 'kw_live_wrong' }).workspace.get());
    expect(wrong).toMatchObject({ name: 'KeywardError', type: 'unauthorizedApiKeyError', status: 401 });
    expect(wrong.message).not.toBe('');
    expect(wrong).toBeInstanceOf(Error);
    expect(await failure(s.client({ token: undefined }).projects.list())).toMatchObject({ type: 'unauthorizedApiKeyError', status: 401 });
  });

  it('403: a credential without the privilege', async () => {
    const viewer = await addMember(s.t, 'viewer');
    const error = await failure(s.client({ token: viewer.token }).projects.create({ name: 'Not allowed' }));
    expect(error).toMatchObject({ type: 'unauthorizedApiKeyError', status: 403 });
  });

  it('404 notFoundError, 409 duplicateNameError and 400 validationError with its field', async () => {
    expect(await failure(kw.keys.get(UNKNOWN_KEY_ID))).toMatchObject({ type: 'notFoundError', status: 404, field: undefined });

    await newKey({ name: 'taken' });
    expect(await failure(newKey({ name: 'taken' }))).toMatchObject({ type: 'duplicateNameError', status: 409, field: 'name' });

    expect(await failure(newKey({ name: '' }))).toMatchObject({ type: 'validationError', status: 400, field: 'name' });
    expect(await failure(kw.keys.get('not-a-key-id'))).toMatchObject({ type: 'validationError', status: 400 });
  });

  it('429 from a rate-limited admin key: Retry-After is waited for, unless longer than maxRetryAfterSeconds', async () => {
    // Windows are fixed: the next one starts within a second, and Retry-After says when.
    const perSecond = await newKey({ name: 'one call a second', scopes: ['admin'], rateLimit: { limit: 1, windowMs: 1000 } });
    const patient = s.client({ token: perSecond.key! });
    await patient.workspace.get();
    expect((await patient.workspace.get()).credential.keyId).toBe(perSecond.id);

    const perMinute = await newKey({ name: 'one call a minute', scopes: ['admin'], rateLimit: { limit: 1, windowMs: 60_000 } });
    const impatient = s.client({ token: perMinute.key!, maxRetryAfterSeconds: 0 });
    await impatient.workspace.get();
    const throttled = await failure(impatient.workspace.get());
    expect(throttled).toMatchObject({ type: 'rateLimitedError', status: 429 });
    expect(throttled.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(throttled.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('429 from an admin key whose quota is spent is final', async () => {
    const quota = await newKey({ name: 'one-use admin', scopes: ['admin'], limitedAmount: 1 });
    const once = s.client({ token: quota.key! });
    await once.workspace.get();
    expect(await failure(once.workspace.get())).toMatchObject({ type: 'usageExceededError', status: 429, retryAfterSeconds: undefined });
    expect((await kw.keys.get(quota.id)).usedAmount).toBe(1);
  });
});
