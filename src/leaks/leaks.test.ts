import { afterEach, describe, expect, it } from 'vitest';
import { addMember, createKey, startApp, verify, type StartOptions, type TestApp } from '../../test/helpers.js';
import { createWorkspace } from '../workspaces/service.js';
import { loadMasterKey } from '../secrets/master-key.js';
import { checksumOf, generateToken } from '../domain/token.js';

const ROOT_KEY = 'root-key-for-leak-and-metrics-tests-0123456789';

let t: TestApp;
async function start(options: StartOptions = {}): Promise<TestApp> {
  t = await startApp({ ...options, env: { KEYWARD_USAGE_FLUSH_MS: '60000', ...options.env } });
  return t;
}
afterEach(async () => {
  await t.close();
});

const report = (tokens: unknown, token?: string) => t.call('POST', '/v1/leaks', { body: { tokens }, ...(token !== undefined && { token }) });
const getKey = async (id: string) => (await t.call('GET', `/v1/keys/${id}`)).body.apiKey;
const wellFormedUnknown = (seed: string) => {
  const payload = 'kw_live_' + seed.repeat(29).slice(0, 29);
  return payload + checksumOf(payload);
};

describe('POST /v1/leaks', () => {
  it('revokes the key of a reported token at once, audits it and records a key.leaked event', async () => {
    await start();
    const key = await createKey(t, { name: 'leaky', scopes: ['inference'] });
    expect((await verify(t, { key: key.key })).code).toBe('VALID'); // cached now
    t.clock.advance(5000);

    const response = await report([key.key]);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revoked: [key.id], alreadyRevoked: [], inactive: 0, unknown: 0, malformed: 0 });
    expect(response.text).not.toContain(key.key);

    expect(await getKey(key.id)).toMatchObject({ enabled: false, disabledReason: 'leaked', status: 'disabled', updatedAt: new Date(t.clock.now).toISOString() });
    expect((await verify(t, { key: key.key })).code).toBe('DISABLED');

    const audit = await t.call('GET', '/v1/audit-log', { query: { action: 'key.leaked' } });
    expect(audit.body.entries).toHaveLength(1);
    expect(audit.body.entries[0]).toMatchObject({
      action: 'key.leaked',
      target: { type: 'key', id: key.id },
      projectId: t.projectId,
      actor: { accountId: t.ownerId, credential: 'key' },
      changes: { enabled: { before: true, after: false }, disabledReason: { before: null, after: 'leaked' } },
      time: new Date(t.clock.now).toISOString(),
      ip: '127.0.0.1',
    });
    expect(audit.text).not.toContain(key.key);

    // The project event that push delivers.
    const events = await t.built.services.storage.db.selectFrom('events').selectAll().where('type', '=', 'key.leaked').execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ key_id: key.id, project_id: t.projectId, time: t.clock.now });
    expect(JSON.parse(events[0]!.data!)).toMatchObject({ apiKey: { id: key.id, enabled: false, disabledReason: 'leaked' } });
    expect(events[0]!.data).not.toContain(key.key);
  });

  it('counts unknown and malformed tokens and ignores them; duplicates count once', async () => {
    await start();
    const key = await createKey(t);
    const last = key.key.at(-1) === 'a' ? 'b' : 'a';
    const tokens = [
      wellFormedUnknown('A'),
      wellFormedUnknown('B'),
      generateToken('kw', 'test'),
      'not a token',
      key.key.slice(0, -1) + last, // checksum fails
      '',
      'kw_live_short',
      wellFormedUnknown('A'), // same again
      ` ${wellFormedUnknown('B')} `, // same after trimming
    ];
    const response = await report(tokens);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revoked: [], alreadyRevoked: [], inactive: 0, unknown: 3, malformed: 4 });
    expect(await getKey(key.id)).toMatchObject({ enabled: true, disabledReason: null });
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect((await t.call('GET', '/v1/audit-log', { query: { action: 'key.leaked' } })).body.entries).toEqual([]);
  });

  it('a mix of tokens: revokes the live ones and counts the rest', async () => {
    await start();
    const a = await createKey(t, { name: 'a' });
    const b = await createKey(t, { name: 'b' });
    const c = await createKey(t, { name: 'c' });
    const response = await report([a.key, 'junk', wellFormedUnknown('Z'), b.key, a.key]);
    expect(response.body).toMatchObject({ alreadyRevoked: [], inactive: 0, unknown: 1, malformed: 1 });
    expect([...response.body.revoked].sort()).toEqual([a.id, b.id].sort());
    expect((await verify(t, { key: c.key })).code).toBe('VALID');
    expect((await t.call('GET', '/v1/audit-log', { query: { action: 'key.leaked' } })).body.entries).toHaveLength(2);
  });

  it('a rotated-out token counts as inactive and leaves the key alone; one still in its grace period revokes', async () => {
    await start();
    const key = await createKey(t);
    const rotated = await t.call('POST', `/v1/keys/${key.id}/rotate`, { body: { gracePeriodSeconds: 0 } });
    expect(rotated.status).toBe(200);
    expect((await verify(t, { key: key.key })).code).toBe('EXPIRED');
    const response = await report([key.key]);
    expect(response.body).toEqual({ revoked: [], alreadyRevoked: [], inactive: 1, unknown: 0, malformed: 0 });
    expect(await getKey(key.id)).toMatchObject({ enabled: true, disabledReason: null });
    expect((await verify(t, { key: rotated.body.apiKey.key })).code).toBe('VALID');

    const graced = await createKey(t);
    await t.call('POST', `/v1/keys/${graced.id}/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect((await report([graced.key])).body).toMatchObject({ revoked: [graced.id], inactive: 0 });
    expect(await getKey(graced.id)).toMatchObject({ enabled: false, disabledReason: 'leaked' });
  });

  it('a token of another workspace counts as unknown and is not revoked', async () => {
    await start();
    const other = await createWorkspace(t.built.services.storage.db, {
      name: 'Other tenant',
      ownerEmail: 'other-leaks@example.com',
      withAdminKey: true,
      now: t.clock.now,
      masterKey: loadMasterKey(t.config.masterKey, t.dataDir),
    });
    const theirs = await t.call('POST', `/v1/projects/${other.projectId}/keys`, { token: other.adminKey!.token, body: { name: 'theirs' } });
    expect(theirs.status).toBe(201);
    const response = await report([theirs.body.apiKey.key, other.adminKey!.token]);
    expect(response.body).toEqual({ revoked: [], alreadyRevoked: [], inactive: 0, unknown: 2, malformed: 0 });
    expect((await verify(t, { key: theirs.body.apiKey.key })).code).toBe('VALID');
    const seen = await t.call('GET', `/v1/keys/${theirs.body.apiKey.id}`, { token: other.adminKey!.token });
    expect(seen.body.apiKey).toMatchObject({ enabled: true, disabledReason: null });
    expect((await t.call('GET', '/v1/audit-log', { token: other.adminKey!.token, query: { action: 'key.leaked' } })).body.entries).toEqual([]);
  });

  it('reporting the same token again answers alreadyRevoked and audits nothing more', async () => {
    await start();
    const key = await createKey(t);
    expect((await report([key.key])).body.revoked).toEqual([key.id]);
    t.clock.advance(1000);
    expect((await report([key.key])).body).toEqual({ revoked: [], alreadyRevoked: [key.id], inactive: 0, unknown: 0, malformed: 0 });
    expect((await t.call('GET', '/v1/audit-log', { query: { action: 'key.leaked' } })).body.entries).toHaveLength(1);
    const events = await t.built.services.storage.db.selectFrom('events').select('id').where('type', '=', 'key.leaked').execute();
    expect(events).toHaveLength(1);
  });

  it('a leaked admin key stops authenticating the admin API at once', async () => {
    await start();
    const dev = await addMember(t, 'developer');
    expect((await t.call('GET', '/v1/workspace', { token: dev.token })).status).toBe(200); // cached now
    expect((await report([dev.token])).body.revoked).toEqual([dev.keyId]);
    const refused = await t.call('GET', '/v1/workspace', { token: dev.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/disabled/);
  });

  it('a key disabled by an admin is still revoked as leaked', async () => {
    await start();
    const key = await createKey(t, { enabled: false });
    expect((await report([key.key])).body.revoked).toEqual([key.id]);
    expect(await getKey(key.id)).toMatchObject({ enabled: false, disabledReason: 'leaked' });
  });

  it('identity keys reported as username:password (or the password alone) are revoked', async () => {
    await start();
    const table = [
      { name: 'as username:password', form: (k: { username: string; password: string }) => `${k.username}:${k.password}` },
      { name: 'as the password alone', form: (k: { username: string; password: string }) => k.password },
    ];
    for (const row of table) {
      const identity = await createKey(t, { type: 'identity', name: row.name });
      expect((await verify(t, { key: `${identity.username}:${identity.password}` })).code, row.name).toBe('VALID');
      const response = await report([row.form(identity)]);
      expect(response.body, row.name).toEqual({ revoked: [identity.id], alreadyRevoked: [], inactive: 0, unknown: 0, malformed: 0 });
      expect(await getKey(identity.id)).toMatchObject({ enabled: false, disabledReason: 'leaked' });
      expect((await verify(t, { key: `${identity.username}:${identity.password}` })).code, row.name).toBe('DISABLED');
    }
  });

  it('re-enabling with PATCH enabled:true clears disabledReason and the key works again', async () => {
    await start();
    const key = await createKey(t);
    await report([key.key]);
    const patched = await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.apiKey).toMatchObject({ enabled: true, disabledReason: null, status: 'active' });
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    const [entry] = (await t.call('GET', '/v1/audit-log', { query: { action: 'key.updated', targetId: key.id } })).body.entries;
    expect(entry.changes).toEqual({ enabled: { before: false, after: true }, disabledReason: { before: 'leaked', after: null } });
    // Disabling by hand afterwards carries no reason.
    await t.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: false } });
    expect(await getKey(key.id)).toMatchObject({ enabled: false, disabledReason: null });
  });

  it('validates the body', async () => {
    await start();
    const distinct = (n: number) => Array.from({ length: n }, (_, i) => `junk-${i}`);
    const table: { name: string; body: unknown; status: number }[] = [
      { name: 'empty array', body: { tokens: [] }, status: 400 },
      { name: 'more than 1000 tokens', body: { tokens: distinct(1001) }, status: 400 },
      { name: 'no tokens field', body: {}, status: 400 },
      { name: 'tokens not an array', body: { tokens: 'kw_live_x' }, status: 400 },
      { name: 'a token not a string', body: { tokens: [42] }, status: 400 },
      { name: 'a token over 512 characters', body: { tokens: ['x'.repeat(513)] }, status: 400 },
      { name: 'unknown field', body: { tokens: ['x'], extra: true }, status: 400 },
      { name: 'exactly 1000 tokens', body: { tokens: distinct(1000) }, status: 200 },
    ];
    for (const row of table) {
      const response = await t.call('POST', '/v1/leaks', { body: row.body });
      expect(response.status, row.name).toBe(row.status);
      if (row.status === 400) expect(response.body.type, row.name).toBe('validationError');
    }
    expect((await t.call('POST', '/v1/leaks', { body: { tokens: distinct(1000) } })).body.malformed).toBe(1000);
    expect((await t.call('POST', '/v1/leaks', { body: { tokens: ['x'] }, token: null })).status).toBe(401);
  });
});

describe('GET /metrics', () => {
  it('needs an admin credential unless KEYWARD_METRICS_PUBLIC=true', async () => {
    await start();
    const anonymous = await t.call('GET', '/metrics', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.type).toBe('unauthorizedApiKeyError');
    expect(anonymous.text).not.toContain('keyward_verifications_total');
    const plain = await createKey(t); // a key without the admin scope
    expect((await t.call('GET', '/metrics', { token: plain.key })).status).toBe(403);
    const admin = await t.call('GET', '/metrics');
    expect(admin.status).toBe(200);
    expect(String(admin.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(admin.text).toMatch(/^# TYPE keyward_verifications_total counter$/m);
    expect(admin.text).toMatch(/^keyward_usage_log_dropped_total 0$/m);
    await t.close();

    await start({ env: { KEYWARD_METRICS_PUBLIC: 'true' } });
    const open = await t.call('GET', '/metrics', { token: null });
    expect(open.status).toBe(200);
    expect(open.text).toMatch(/^# HELP keyward_verifications_total /m);
  });

  it('counts verifications by outcome code', async () => {
    // The root key authenticates without a verification, so only the calls below are counted.
    await start({ env: { KEYWARD_ROOT_KEY: ROOT_KEY } });
    const key = await createKey(t, {}, ROOT_KEY);
    const outcomes = ['VALID', 'VALID', 'VALID', 'MALFORMED', 'INSUFFICIENT_SCOPE', 'VALID', 'MALFORMED'];
    for (const code of outcomes) {
      const body = code === 'MALFORMED' ? { key: 'garbage' } : code === 'INSUFFICIENT_SCOPE' ? { key: key.key, scopes: ['inference'] } : { key: key.key };
      expect((await verify(t, body)).code).toBe(code);
    }
    const metrics = await t.call('GET', '/metrics', { token: ROOT_KEY });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^keyward_verifications_total\{code="VALID"\} 4$/m);
    expect(metrics.text).toMatch(/^keyward_verifications_total\{code="MALFORMED"\} 2$/m);
    expect(metrics.text).toMatch(/^keyward_verifications_total\{code="INSUFFICIENT_SCOPE"\} 1$/m);
    expect(metrics.text).toMatch(/^keyward_verify_duration_seconds_count 7$/m);
    // The two MALFORMED match no key: counted above, but not in the usage log.
    expect(metrics.text).toMatch(/^keyward_usage_log_buffer_depth 5$/m);
    await t.built.logs.flush();
    const after = await t.call('GET', '/metrics', { token: ROOT_KEY });
    expect(after.text).toMatch(/^keyward_usage_log_written_total 5$/m);
    expect(after.text).toMatch(/^keyward_usage_log_buffer_depth 0$/m);

    // With an admin key, each admin call is a verification too (of that key, with the admin scope).
    const before = Number(/^keyward_verifications_total\{code="VALID"\} (\d+)$/m.exec(after.text)![1]);
    const viaKey = await t.call('GET', '/metrics');
    expect(viaKey.status).toBe(200);
    expect(viaKey.text).toMatch(new RegExp(`^keyward_verifications_total\\{code="VALID"\\} ${before + 1}$`, 'm'));
  });
});
