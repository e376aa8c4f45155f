import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { addMember, startApp, verify, type StartOptions, type TestApp } from '../../test/helpers.js';
import { createWorkspace } from '../workspaces/service.js';
import { loadMasterKey } from '../secrets/master-key.js';
import { checksumOf } from '../domain/token.js';
import { purgeExpired } from './retention.js';

// The usage-log timer flushes every KEYWARD_USAGE_FLUSH_MS of real time; a minute keeps it out of
// the way, so each test decides when buffered logs are written (t.built.logs.flush()).
const QUIET = { KEYWARD_USAGE_FLUSH_MS: '60000' };
const ROOT_KEY = 'root-key-for-usage-log-tests-0123456789abcdef';
const HOUR = 3_600_000;
const DAY = 86_400_000;

let t: TestApp;
async function start(options: StartOptions = {}): Promise<TestApp> {
  t = await startApp({ ...options, env: { ...QUIET, ...options.env } });
  return t;
}
afterEach(async () => {
  await t.close();
});

// A well-formed token (valid checksum) that matches no key.
const unknownPayload = 'kw_live_' + 'Q'.repeat(29);
const UNKNOWN_TOKEN = unknownPayload + checksumOf(unknownPayload);

/** A fresh project, so its logs hold only this test's verifications (admin calls are verified
 * too, and logged in the project of the admin key: the default project). */
async function newProject(token?: string): Promise<string> {
  const response = await t.call('POST', '/v1/projects', { body: { name: `Logs ${Math.random().toString(36).slice(2, 8)}` }, ...(token !== undefined && { token }) });
  if (response.status !== 201) throw new Error(`newProject: ${response.status} ${response.text}`);
  return response.body.project.id;
}

async function keyIn(projectId: string, body: Record<string, unknown> = {}, token?: string) {
  const response = await t.call('POST', `/v1/projects/${projectId}/keys`, { body, ...(token !== undefined && { token }) });
  if (response.status !== 201) throw new Error(`keyIn: ${response.status} ${response.text}`);
  return response.body.apiKey as { id: string; key: string; accountId: string };
}

const logsUrl = (projectId: string) => `/v1/projects/${projectId}/logs`;

async function listLogs(projectId: string, query: Record<string, string | number> = {}, token?: string) {
  return t.call('GET', logsUrl(projectId), { query: { limit: 1000, ...query }, ...(token !== undefined && { token }) });
}

interface Log {
  id: string;
  time: string;
  keyId: string | null;
  outcome: string;
  scopes: string[];
  host: string | null;
  ip: string | null;
  cost: number;
  latencyUs: number;
}

async function logsOf(projectId: string, query: Record<string, string | number> = {}, token?: string): Promise<Log[]> {
  const response = await listLogs(projectId, query, token);
  expect(response.status, response.text).toBe(200);
  return response.body.logs;
}

/** Every page of a listing, following nextCursor. */
async function allPages(projectId: string, query: Record<string, string | number>): Promise<Log[][]> {
  const pages: Log[][] = [];
  let cursor: string | null = null;
  do {
    const response = await listLogs(projectId, { ...query, ...(cursor !== null && { cursor }) });
    expect(response.status, response.text).toBe(200);
    pages.push(response.body.logs);
    cursor = response.body.nextCursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor !== null);
  return pages;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('every verification is recorded', () => {
  it('records time, key, outcome for every code, requested scopes, host, caller ip, cost and latency', async () => {
    await start();
    const projectId = await newProject();
    const key = (body: Record<string, unknown> = {}) => keyIn(projectId, body);
    const plain = await key({ scopes: ['inference'] });
    const disabled = await key({ enabled: false });
    const expiring = await key();
    expect((await t.call('PATCH', `/v1/keys/${expiring.id}`, { body: { expiresAt: iso(t.clock.now - 1) } })).status).toBe(200);
    const hostBound = await key({ host: 'api.example.com' });
    const noScopes = await key();
    const limited = await key({ limitedAmount: 1 });
    const throttled = await key({ rateLimit: { limit: 1, windowMs: 60_000 } });

    const cases: { code: string; body: Record<string, unknown>; keyId: string | null }[] = [
      { code: 'VALID', body: { key: plain.key, scopes: ['inference'], host: 'api.example.com', cost: 3 }, keyId: plain.id },
      { code: 'MALFORMED', body: { key: 'not-a-token', projectId }, keyId: null },
      { code: 'NOT_FOUND', body: { key: UNKNOWN_TOKEN, projectId, scopes: ['project'] }, keyId: null },
      { code: 'DISABLED', body: { key: disabled.key }, keyId: disabled.id },
      { code: 'EXPIRED', body: { key: expiring.key }, keyId: expiring.id },
      { code: 'FORBIDDEN_HOST', body: { key: hostBound.key, host: 'evil.example.org' }, keyId: hostBound.id },
      { code: 'INSUFFICIENT_SCOPE', body: { key: noScopes.key, scopes: ['inference', 'data_extraction'] }, keyId: noScopes.id },
      { code: 'WRONG_ENVIRONMENT', body: { key: plain.key, environment: 'test' }, keyId: plain.id },
      { code: 'USAGE_EXCEEDED', body: { key: limited.key, cost: 2 }, keyId: limited.id },
      { code: 'VALID', body: { key: throttled.key, cost: 0 }, keyId: throttled.id },
      { code: 'RATE_LIMITED', body: { key: throttled.key }, keyId: throttled.id },
    ];
    const expected = [];
    for (const row of cases) {
      t.clock.advance(1000);
      expect((await verify(t, row.body)).code, JSON.stringify(row)).toBe(row.code);
      // Outcomes without a key are not logged (only counted in /metrics): anyone may call
      // verify, and naming a projectId must not put entries into that project's logs.
      if (row.keyId === null) continue;
      const scopes = (row.body.scopes as string[] | undefined) ?? [];
      expected.push({
        time: iso(t.clock.now),
        keyId: row.keyId,
        outcome: row.code,
        scopes,
        host: (row.body.host as string | undefined) ?? null,
        ip: '127.0.0.1',
        cost: (row.body.cost as number | undefined) ?? 1,
      });
    }

    // Written behind: nothing is listed until the buffer is flushed...
    expect(await logsOf(projectId)).toEqual([]);
    expect(t.built.logs.depth).toBeGreaterThanOrEqual(expected.length);
    await t.built.logs.flush();
    // ...and then every verification is, newest first.
    const logs = await logsOf(projectId);
    expect(logs.map(({ id: _id, latencyUs: _latency, ...rest }) => rest)).toEqual(expected.reverse());
    for (const log of logs) {
      expect(log.id).toMatch(/^evt_[0-9A-Z]{26}$/);
      expect(Number.isInteger(log.latencyUs)).toBe(true);
      expect(log.latencyUs).toBeGreaterThanOrEqual(0);
      expect(log.latencyUs).toBeLessThan(10_000_000);
    }
    expect(new Set(logs.map((log) => log.id)).size).toBe(logs.length);
    // Every code of the contract with a key is logged in the key's project; the two without one
    // are stored nowhere (there is no project to file them under), only counted by code.
    expect(new Set(logs.map((log) => log.outcome))).toEqual(
      new Set(['VALID', 'DISABLED', 'EXPIRED', 'FORBIDDEN_HOST', 'INSUFFICIENT_SCOPE', 'WRONG_ENVIRONMENT', 'RATE_LIMITED', 'USAGE_EXCEEDED']),
    );
    const db = t.built.services.storage.db;
    const keyless = await db.selectFrom('events').select('outcome').where('type', '=', 'key.verified').where('key_id', 'is', null).execute();
    expect(keyless).toEqual([]);
    const metrics = (await t.call('GET', '/metrics')).text;
    expect(metrics).toMatch(/^keyward_verifications_total\{code="MALFORMED"\} 1$/m);
    expect(metrics).toMatch(/^keyward_verifications_total\{code="NOT_FOUND"\} 1$/m);
  });

  it('a NOT_FOUND for a key of another project is logged in neither project, nor anywhere else', async () => {
    await start();
    const asked = await newProject();
    const home = await newProject();
    const key = await keyIn(home);
    expect((await verify(t, { key: key.key, projectId: asked })).code).toBe('NOT_FOUND');
    await t.built.logs.flush();
    expect(await logsOf(asked)).toEqual([]); // a caller's claim is no reason to write into a project
    expect(await logsOf(home)).toEqual([]); // and the key's own project is not told it was tried elsewhere
    const recorded = await t.built.services.storage.db.selectFrom('events').select('outcome').where('outcome', '=', 'NOT_FOUND').execute();
    expect(recorded).toEqual([]);
  });

  it('records the caller address from X-Forwarded-For when proxies are trusted', async () => {
    await start({ env: { KEYWARD_TRUST_PROXY: 'true' } });
    const projectId = await newProject();
    const key = await keyIn(projectId);
    const response = await t.call('POST', '/v1/keys/verify', { body: { key: key.key }, token: null, headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(response.body.code).toBe('VALID');
    await t.built.logs.flush();
    expect(await logsOf(projectId)).toMatchObject([{ keyId: key.id, ip: '203.0.113.9' }]);
  });

  it('records nothing with KEYWARD_USAGE_LOGS=false (verification still works)', async () => {
    await start({ env: { KEYWARD_USAGE_LOGS: 'false' } });
    const projectId = await newProject();
    const key = await keyIn(projectId);
    for (let i = 0; i < 3; i++) expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect((await verify(t, { key: 'nope', projectId })).code).toBe('MALFORMED');
    expect(t.built.logs.depth).toBe(0);
    await t.built.logs.flush();
    expect(await logsOf(projectId)).toEqual([]);
    expect(await logsOf(t.projectId)).toEqual([]); // not even the admin calls
    expect((await t.call('GET', `/v1/keys/${key.id}/usage`)).body.usage).toEqual([]);
    expect(t.built.logs.written).toBe(0);
    expect(t.built.logs.dropped).toBe(0);
  });
});

describe('bounded buffer', () => {
  it('drops what does not fit (counted in /metrics), never blocking verification', async () => {
    // The root key authenticates without a verification, so only the 150 calls below are logged.
    await start({ env: { KEYWARD_USAGE_LOG_BUFFER: '100', KEYWARD_USAGE_FLUSH_MS: '60000', KEYWARD_ROOT_KEY: ROOT_KEY } });
    const projectId = await newProject(ROOT_KEY);
    const key = await keyIn(projectId, {}, ROOT_KEY);
    const first = t.clock.now + 1;
    for (let i = 0; i < 150; i++) {
      t.clock.advance(1);
      expect((await verify(t, { key: key.key })).code).toBe('VALID');
    }
    expect(t.built.logs.dropped).toBe(50);
    expect(t.built.logs.depth).toBe(100);
    const metrics = await t.call('GET', '/metrics', { token: ROOT_KEY });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^keyward_usage_log_dropped_total 50$/m);
    expect(metrics.text).toMatch(/^keyward_usage_log_buffer_depth 100$/m);
    expect(metrics.text).toMatch(/^keyward_verifications_total\{code="VALID"\} 150$/m);

    // The first 100 were kept and are written on flush; the buffer then has room again.
    await t.built.logs.flush();
    const logs = await logsOf(projectId, {}, ROOT_KEY);
    expect(logs).toHaveLength(100);
    expect(logs.map((log) => log.time)).toEqual(Array.from({ length: 100 }, (_, i) => iso(first + 99 - i)));
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect(t.built.logs.dropped).toBe(50);
    expect(t.built.logs.depth).toBe(1);
    const after = await t.call('GET', '/metrics', { token: ROOT_KEY });
    expect(after.text).toMatch(/^keyward_usage_log_dropped_total 50$/m);
    expect(after.text).toMatch(/^keyward_usage_log_written_total 100$/m);
  });
});

describe('a failing log write', () => {
  it('keeps what fits for the next flush, counts the rest as dropped, and verification goes on', async () => {
    await start({ env: { KEYWARD_USAGE_LOG_BUFFER: '100', KEYWARD_ROOT_KEY: ROOT_KEY } });
    const projectId = await newProject(ROOT_KEY);
    const key = await keyIn(projectId, {}, ROOT_KEY);
    const db = t.built.services.storage.db;
    for (let i = 0; i < 60; i++) expect((await verify(t, { key: key.key, cost: i })).code).toBe('VALID');
    await sql`alter table events rename to events_offline`.execute(db);
    await t.built.logs.flush(); // fails; must not throw
    expect(t.built.logs.depth).toBe(60);
    expect(t.built.logs.dropped).toBe(0);
    for (let i = 60; i < 120; i++) expect((await verify(t, { key: key.key, cost: i })).code).toBe('VALID');
    expect(t.built.logs.depth).toBe(100);
    expect(t.built.logs.dropped).toBe(20);
    await sql`alter table events_offline rename to events`.execute(db);
    await t.built.logs.flush();
    expect(t.built.logs.depth).toBe(0);
    const logs = await logsOf(projectId, {}, ROOT_KEY);
    expect(logs.map((log) => log.cost)).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect((await t.call('GET', '/metrics', { token: ROOT_KEY })).text).toMatch(/^keyward_usage_log_dropped_total 20$/m);
  });
});

describe('GET /v1/projects/{projectId}/logs', () => {
  it('filters by key, outcome and time range (from inclusive, to exclusive)', async () => {
    await start();
    const projectId = await newProject();
    const a = await keyIn(projectId, { scopes: ['inference'] });
    const b = await keyIn(projectId);
    const start0 = t.clock.now;
    const calls: Record<string, unknown>[] = [
      { key: a.key },
      { key: b.key },
      { key: a.key, scopes: ['project'] },
      { key: b.key, environment: 'test' },
      { key: a.key },
      { key: 'garbage', projectId },
      { key: b.key, scopes: ['inference'] },
      { key: a.key, environment: 'test' },
    ];
    for (const body of calls) {
      t.clock.advance(60_000);
      await verify(t, body);
    }
    await t.built.logs.flush();
    const all = await logsOf(projectId);
    expect(all).toHaveLength(calls.length - 1); // the garbage key is filed under no project
    const at = (minute: number) => iso(start0 + minute * 60_000);

    const table: { query: Record<string, string>; expect: (log: Log) => boolean }[] = [
      { query: { keyId: a.id }, expect: (log) => log.keyId === a.id },
      { query: { keyId: b.id }, expect: (log) => log.keyId === b.id },
      { query: { outcome: 'VALID' }, expect: (log) => log.outcome === 'VALID' },
      { query: { outcome: 'INSUFFICIENT_SCOPE' }, expect: (log) => log.outcome === 'INSUFFICIENT_SCOPE' },
      { query: { outcome: 'MALFORMED' }, expect: () => false },
      { query: { outcome: 'RATE_LIMITED' }, expect: () => false },
      { query: { keyId: a.id, outcome: 'WRONG_ENVIRONMENT' }, expect: (log) => log.keyId === a.id && log.outcome === 'WRONG_ENVIRONMENT' },
      { query: { from: at(3) }, expect: (log) => log.time >= at(3) },
      { query: { to: at(3) }, expect: (log) => log.time < at(3) },
      { query: { from: at(2), to: at(6) }, expect: (log) => log.time >= at(2) && log.time < at(6) },
      { query: { from: at(2), to: at(6), keyId: b.id }, expect: (log) => log.time >= at(2) && log.time < at(6) && log.keyId === b.id },
      { query: { from: at(100) }, expect: () => false },
      { query: { from: at(5), to: at(5) }, expect: () => false },
    ];
    for (const row of table) {
      const expected = all.filter(row.expect).map((log) => log.id);
      expect((await logsOf(projectId, row.query)).map((log) => log.id), JSON.stringify(row.query)).toEqual(expected);
    }
    // Sanity of the table's data: the cases are not all empty.
    expect(all.filter((log) => log.keyId === a.id)).toHaveLength(4);
    expect(all.filter((log) => log.time >= at(2) && log.time < at(6))).toHaveLength(4);
  });

  it('refuses bad filters', async () => {
    await start();
    const projectId = await newProject();
    const table: Record<string, string>[] = [
      { outcome: 'NOPE' },
      { from: 'yesterday' },
      { to: '2030-13-45T00:00:00Z' },
      { keyId: 'not-a-key' },
      { cursor: 'abc' },
      { cursor: '-1' },
      { limit: '0' },
      { limit: '1001' },
      { limit: '-5' },
      { limit: 'ten' },
      { unknown: 'x' },
    ];
    for (const query of table) {
      const response = await t.call('GET', logsUrl(projectId), { query });
      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(response.body.type).toBe('validationError');
    }
  });

  it('pages newest first across several pages with no duplicates or gaps, even while new logs arrive', async () => {
    await start();
    const projectId = await newProject();
    const key = await keyIn(projectId);
    // 23 logs over two flushes, some in the same millisecond.
    for (let i = 0; i < 23; i++) {
      if (i % 3 !== 0) t.clock.advance(1);
      await verify(t, { key: key.key, cost: i });
      if (i === 11) await t.built.logs.flush();
    }
    await t.built.logs.flush();
    const everything = await logsOf(projectId);
    expect(everything.map((log) => log.cost)).toEqual(Array.from({ length: 23 }, (_, i) => 22 - i));

    const pages = await allPages(projectId, { limit: 5 });
    expect(pages.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flat().map((log) => log.id)).toEqual(everything.map((log) => log.id));
    for (let i = 1; i < everything.length; i++) expect(everything[i - 1]!.time >= everything[i]!.time).toBe(true);

    // Exactly a multiple of the limit: the last full page says there is no more.
    const even = await allPages(projectId, { limit: 23 });
    expect(even.map((page) => page.length)).toEqual([23]);

    // New logs written between pages do not shift the pages already started.
    const first = await listLogs(projectId, { limit: 10 });
    for (let i = 0; i < 7; i++) {
      t.clock.advance(1);
      await verify(t, { key: key.key, cost: 100 + i });
    }
    await t.built.logs.flush();
    const rest: Log[] = [];
    let cursor: string | null = first.body.nextCursor;
    while (cursor !== null) {
      const page = await listLogs(projectId, { limit: 10, cursor });
      rest.push(...page.body.logs);
      cursor = page.body.nextCursor;
    }
    expect([...first.body.logs, ...rest].map((log: Log) => log.id)).toEqual(everything.map((log) => log.id));
    expect((await logsOf(projectId)).slice(0, 7).map((log) => log.cost)).toEqual([106, 105, 104, 103, 102, 101, 100]);

    // Filters apply to every page.
    const valid = await allPages(projectId, { limit: 4, keyId: key.id, outcome: 'VALID' });
    expect(valid.flat()).toHaveLength(30);
  });

  // A busy key's run of entries in one flush is one stored row (storage/usage-chunk.ts): pages,
  // cursors and filters still go entry by entry, and cursors of the older two-part form still work.
  it('pages and filters entry by entry within one stored chunk', async () => {
    await start();
    const projectId = await newProject();
    const key = await keyIn(projectId, { scopes: ['inference'] });
    const t0 = t.clock.now;
    for (let i = 0; i < 12; i++) {
      t.clock.now = t0 + i * 1000;
      const scopes = i % 3 === 0 ? ['other'] : ['inference'];
      expect((await verify(t, { key: key.key, scopes, cost: i })).code).toBe(i % 3 === 0 ? 'INSUFFICIENT_SCOPE' : 'VALID');
    }
    await t.built.logs.flush();
    const rows = await t.built.services.storage.db.selectFrom('events').select(['seq', 'entries']).where('project_id', '=', projectId).where('type', '=', 'key.verified').execute();
    expect(rows.map((row) => row.entries)).toEqual([12]);
    const seq = Number(rows[0]!.seq);

    const pages = await allPages(projectId, { limit: 5 });
    expect(pages.map((page) => page.map((log) => log.cost))).toEqual([
      [11, 10, 9, 8, 7],
      [6, 5, 4, 3, 2],
      [1, 0],
    ]);
    const first = await listLogs(projectId, { limit: 5 });
    expect(first.body.nextCursor).toMatch(new RegExp(`^\\d+\\.${seq}\\.7$`)); // tx.seq.index of the page's last entry
    // Outcome and time filters pick entries out of the chunk.
    expect((await logsOf(projectId, { outcome: 'INSUFFICIENT_SCOPE' })).map((log) => log.cost)).toEqual([9, 6, 3, 0]);
    expect((await logsOf(projectId, { from: iso(t0 + 4000), to: iso(t0 + 8000) })).map((log) => log.cost)).toEqual([7, 6, 5, 4]);
    const filtered = await allPages(projectId, { limit: 1, outcome: 'VALID', from: iso(t0 + 2000) });
    expect(filtered.flat().map((log) => log.cost)).toEqual([11, 10, 8, 7, 5, 4, 2]);
    // A cursor from before chunks, `tx.seq`, means "older than that row".
    const [tx] = String(first.body.nextCursor).split('.');
    expect((await logsOf(projectId, { cursor: `${tx}.${seq}` })).map((log) => log.cost)).toEqual([]);
    expect((await logsOf(projectId, { cursor: `${tx}.${seq + 1}` })).map((log) => log.cost)).toHaveLength(12);
  });

  it('limit: default 100, at most 1000, at least 1', async () => {
    await start();
    const projectId = await newProject();
    const key = await keyIn(projectId);
    for (let i = 0; i < 120; i++) await verify(t, { key: key.key });
    await t.built.logs.flush();
    const byDefault = await t.call('GET', logsUrl(projectId));
    expect(byDefault.body.logs).toHaveLength(100);
    expect(byDefault.body.nextCursor).toEqual(expect.any(String));
    const next = await t.call('GET', logsUrl(projectId), { query: { cursor: byDefault.body.nextCursor } });
    expect(next.body.logs).toHaveLength(20);
    expect(next.body.nextCursor).toBeNull();
    for (const [limit, length] of [
      [1, 1],
      [119, 119],
      [120, 120],
      [1000, 120],
    ] as const) {
      const response = await t.call('GET', logsUrl(projectId), { query: { limit } });
      expect(response.body.logs, `limit ${limit}`).toHaveLength(length);
      expect(response.body.nextCursor === null, `limit ${limit}`).toBe(limit >= 120);
    }
  });

  it('a developer sees only its own keys’ logs; an admin sees all; other workspaces get 404', async () => {
    await start();
    const projectId = await newProject();
    const dev = await addMember(t, 'developer');
    const admin = await addMember(t, 'admin');
    const viewer = await addMember(t, 'viewer');
    const devKey = await keyIn(projectId, {}, dev.token);
    const ownerKey = await keyIn(projectId);
    for (const token of [devKey.key, devKey.key, ownerKey.key]) await verify(t, { key: token });
    await verify(t, { key: 'garbage', projectId });
    await t.built.logs.flush();

    const devLogs = await logsOf(projectId, {}, dev.token);
    expect(devLogs.map((log) => log.keyId)).toEqual([devKey.id, devKey.id]);
    expect((await logsOf(projectId, { keyId: devKey.id }, dev.token)).map((log) => log.keyId)).toEqual([devKey.id, devKey.id]);
    expect(await logsOf(projectId, { outcome: 'MALFORMED' }, dev.token)).toEqual([]);
    const refused = await listLogs(projectId, { keyId: ownerKey.id }, dev.token);
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('unauthorizedApiKeyError');
    expect(await logsOf(projectId, {}, viewer.token)).toEqual([]);

    for (const token of [admin.token, t.ownerKey]) {
      const logs = await logsOf(projectId, {}, token);
      expect(logs.map((log) => log.keyId)).toEqual([ownerKey.id, devKey.id, devKey.id]); // the garbage key is filed under no project
      expect(await logsOf(projectId, { keyId: devKey.id }, token)).toHaveLength(2);
    }

    // A key of another project of the same workspace is not this project's.
    const elsewhere = await keyIn(t.projectId);
    expect((await listLogs(projectId, { keyId: elsewhere.id })).status).toBe(404);
    // An unknown project.
    expect((await listLogs('proj_01HZZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);

    // Another workspace's owner sees nothing of this one.
    const other = await createWorkspace(t.built.services.storage.db, {
      name: 'Other tenant',
      ownerEmail: 'other-logs@example.com',
      withAdminKey: true,
      now: t.clock.now,
      masterKey: loadMasterKey(t.config.masterKey, t.dataDir),
    });
    const intruder = other.adminKey!.token;
    const queries: Record<string, string>[] = [{}, { keyId: ownerKey.id }];
    for (const query of queries) {
      const response = await listLogs(projectId, query, intruder);
      expect(response.status).toBe(404);
      expect(response.body.type).toBe('notFoundError');
      expect(response.text).not.toContain(ownerKey.id);
    }
    // ...nor asking for one of our keys in its own project.
    expect((await listLogs(other.projectId, { keyId: ownerKey.id }, intruder)).status).toBe(404);
    expect((await t.call('GET', `/v1/keys/${ownerKey.id}/usage`, { token: intruder })).status).toBe(404);
  });
});

describe('GET /v1/keys/{keyId}/usage', () => {
  type Bucket = { time: string; total: number; outcomes: Record<string, number> };
  const usage = async (keyId: string, query: Record<string, string> = {}, token?: string) =>
    t.call('GET', `/v1/keys/${keyId}/usage`, { query, ...(token !== undefined && { token }) });

  it('counts per hour and per day by outcome across a UTC day boundary', async () => {
    await start();
    const projectId = await newProject();
    const key = await keyIn(projectId, { scopes: ['inference'] });
    const other = await keyIn(projectId);
    const at = async (time: string, bodies: Record<string, unknown>[]) => {
      t.clock.now = Date.parse(time);
      for (const body of bodies) await verify(t, { key: key.key, ...body });
    };
    const valid = {};
    await at('2030-01-15T22:10:00.000Z', [valid]);
    await at('2030-01-15T23:30:00.000Z', [valid, valid, { scopes: ['project'] }]);
    await at('2030-01-15T23:59:59.999Z', [valid]);
    await verify(t, { key: other.key }); // another key's traffic is not counted
    await t.built.logs.flush(); // rollups add up over several flushes
    await at('2030-01-16T00:00:00.000Z', [valid, { environment: 'test' }]);
    await at('2030-01-16T00:45:00.000Z', [valid]);
    await at('2030-01-16T01:05:00.000Z', [{ scopes: ['project'] }]);
    await t.built.logs.flush();

    const hourly = await usage(key.id, { granularity: 'hour', from: '2030-01-15T20:00:00Z', to: '2030-01-16T03:00:00Z' });
    expect(hourly.status).toBe(200);
    expect(hourly.body.usage).toEqual([
      { time: '2030-01-15T22:00:00.000Z', total: 1, outcomes: { VALID: 1 } },
      { time: '2030-01-15T23:00:00.000Z', total: 4, outcomes: { VALID: 3, INSUFFICIENT_SCOPE: 1 } },
      { time: '2030-01-16T00:00:00.000Z', total: 3, outcomes: { VALID: 2, WRONG_ENVIRONMENT: 1 } },
      { time: '2030-01-16T01:00:00.000Z', total: 1, outcomes: { INSUFFICIENT_SCOPE: 1 } },
    ]);
    const daily = await usage(key.id, { granularity: 'day', from: '2030-01-14T00:00:00Z', to: '2030-01-17T00:00:00Z' });
    expect(daily.body.usage).toEqual([
      { time: '2030-01-15T00:00:00.000Z', total: 5, outcomes: { VALID: 4, INSUFFICIENT_SCOPE: 1 } },
      { time: '2030-01-16T00:00:00.000Z', total: 4, outcomes: { VALID: 2, WRONG_ENVIRONMENT: 1, INSUFFICIENT_SCOPE: 1 } },
    ]);

    // Totals agree with each other and with the logs.
    const sum = (buckets: Bucket[]) => buckets.reduce((total, bucket) => total + bucket.total, 0);
    const logs = await logsOf(projectId, { keyId: key.id });
    expect(sum(hourly.body.usage)).toBe(logs.length);
    expect(sum(daily.body.usage)).toBe(logs.length);
    for (const bucket of [...hourly.body.usage, ...daily.body.usage] as Bucket[]) {
      expect(Object.values(bucket.outcomes).reduce((a, b) => a + b, 0)).toBe(bucket.total);
    }
    for (const outcome of ['VALID', 'INSUFFICIENT_SCOPE', 'WRONG_ENVIRONMENT']) {
      const fromLogs = logs.filter((log) => log.outcome === outcome).length;
      expect((daily.body.usage as Bucket[]).reduce((n, bucket) => n + (bucket.outcomes[outcome] ?? 0), 0), outcome).toBe(fromLogs);
    }

    // A range is [from, to): the boundary hour belongs to the range that starts with it.
    const before = await usage(key.id, { from: '2030-01-15T00:00:00Z', to: '2030-01-16T00:00:00Z' });
    expect((before.body.usage as Bucket[]).map((bucket) => bucket.time)).toEqual(['2030-01-15T22:00:00.000Z', '2030-01-15T23:00:00.000Z']);
    const after = await usage(key.id, { from: '2030-01-16T00:00:00Z', to: '2030-01-17T00:00:00Z', granularity: 'day' });
    expect(after.body.usage).toEqual([daily.body.usage[1]]);
  });

  it('default ranges: the last 24 hours by hour, the last 30 days by day', async () => {
    await start();
    const projectId = await newProject();
    const key = await keyIn(projectId);
    const now = Date.parse('2030-03-10T12:30:00.000Z');
    for (const ago of [40 * DAY, 3 * DAY, 2 * HOUR, 0]) {
      t.clock.now = now - ago;
      await verify(t, { key: key.key });
    }
    await t.built.logs.flush();
    t.clock.now = now;
    const byHour = await usage(key.id);
    expect(byHour.status).toBe(200);
    expect((byHour.body.usage as Bucket[]).map((bucket) => bucket.time)).toEqual(['2030-03-10T10:00:00.000Z', '2030-03-10T12:00:00.000Z']);
    const byDay = await usage(key.id, { granularity: 'day' });
    expect(byDay.body.usage).toEqual([
      { time: '2030-03-07T00:00:00.000Z', total: 1, outcomes: { VALID: 1 } },
      { time: '2030-03-10T00:00:00.000Z', total: 2, outcomes: { VALID: 2 } },
    ]);
    // Only `to` given: the default span ends there.
    expect((await usage(key.id, { to: iso(now - DAY) })).body.usage).toEqual([]);
    expect((await usage(key.id, { to: iso(now - 2 * DAY) })).body.usage).toEqual([{ time: '2030-03-07T12:00:00.000Z', total: 1, outcomes: { VALID: 1 } }]);
    const monthBefore = await usage(key.id, { granularity: 'day', to: iso(now - 20 * DAY) });
    expect(monthBefore.body.usage).toEqual([{ time: '2030-01-29T00:00:00.000Z', total: 1, outcomes: { VALID: 1 } }]);
  });

  it('refuses from ≥ to, bad dates, unknown granularity and over-long ranges', async () => {
    await start();
    const key = await keyIn(await newProject());
    const table: Record<string, string>[] = [
      { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' },
      { from: '2030-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' },
      { from: iso(t.clock.now + HOUR) }, // default `to` is now
      { granularity: 'week' },
      { from: 'last tuesday' },
      { granularity: 'hour', from: '2020-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' },
      { granularity: 'day', from: '2000-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' },
    ];
    for (const query of table) {
      const response = await usage(key.id, query);
      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(response.body.type).toBe('validationError');
    }
    const fromAfterTo = await usage(key.id, table[0]);
    expect(fromAfterTo.body.error.field).toBe('from');
    expect((await usage('key_01HZZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);
  });

  it('a developer reads its own keys’ usage only', async () => {
    await start();
    const projectId = await newProject();
    const dev = await addMember(t, 'developer');
    const devKey = await keyIn(projectId, {}, dev.token);
    const ownerKey = await keyIn(projectId);
    await verify(t, { key: devKey.key });
    await t.built.logs.flush();
    t.clock.advance(60_000); // the default range ends now, exclusive
    const own = await usage(devKey.id, {}, dev.token);
    expect(own.status).toBe(200);
    expect(own.body.usage).toEqual([{ time: '2030-01-15T12:00:00.000Z', total: 1, outcomes: { VALID: 1 } }]);
    expect((await usage(ownerKey.id, {}, dev.token)).status).toBe(403);
    expect((await usage(devKey.id)).body.usage).toHaveLength(1);
  });
});

describe('retention', () => {
  it('purgeExpired deletes logs older than KEYWARD_LOG_RETENTION_DAYS and keeps newer ones and the rollups', async () => {
    await start({ env: { KEYWARD_LOG_RETENTION_DAYS: '1' } });
    expect(t.config.logRetentionDays).toBe(1);
    const projectId = await newProject();
    const key = await keyIn(projectId);
    const t0 = t.clock.now;
    await verify(t, { key: key.key, cost: 1 });
    await verify(t, { key: key.key, cost: 2 });
    t.clock.now = t0 + 20 * HOUR;
    await verify(t, { key: key.key, cost: 3 });
    t.clock.now = t0 + 26 * HOUR;
    await verify(t, { key: key.key, cost: 4 });
    await t.built.logs.flush();
    expect(await logsOf(projectId)).toHaveLength(4);

    const deleted = await purgeExpired(t.built.services.storage.db, t.config.logRetentionDays, t.clock.now);
    expect(deleted).toBeGreaterThanOrEqual(2);
    expect((await logsOf(projectId)).map((log) => log.cost)).toEqual([4, 3]);
    // Hourly rollups outlive the raw logs (kept ≥ 400 days).
    t.clock.advance(60_000); // the default range ends now, exclusive
    const daily = await t.call('GET', `/v1/keys/${key.id}/usage`, { query: { granularity: 'day' } });
    expect((daily.body.usage as { total: number }[]).reduce((n, bucket) => n + bucket.total, 0)).toBe(4);
    // Running it again deletes nothing more of this project.
    await purgeExpired(t.built.services.storage.db, t.config.logRetentionDays, t.clock.now);
    expect(await logsOf(projectId)).toHaveLength(2);
  });

  it('defaults to 90 days', async () => {
    await start();
    expect(t.config.logRetentionDays).toBe(90);
    const projectId = await newProject();
    const key = await keyIn(projectId);
    const t0 = t.clock.now;
    await verify(t, { key: key.key });
    await t.built.logs.flush();
    const db = t.built.services.storage.db;
    await purgeExpired(db, t.config.logRetentionDays, t0 + 89 * DAY);
    expect(await logsOf(projectId)).toHaveLength(1);
    await purgeExpired(db, t.config.logRetentionDays, t0 + 90 * DAY + 1);
    expect(await logsOf(projectId)).toHaveLength(0);
  });
});
