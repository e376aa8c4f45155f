// Two Keyward nodes in one process sharing one database (and Redis, in the redis project): changes
// reach the other node's cache, counters stay exact across nodes, and the invalidation channel
// survives its connection being killed. Runs in the postgres and redis vitest projects.
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createKey, isolatedBackend, startApp, TEST_DATABASE_URL, TEST_REDIS_URL, TestClock, verify, WITH_REDIS, type TestApp } from './helpers.js';
import type { RedisCounters } from '../src/counters/redis.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Node A and node B over one backend; both use A's owner key and project. */
async function twoNodes(): Promise<{ a: TestApp; b: TestApp }> {
  const backend = isolatedBackend();
  cleanups.push(() => backend.drop());
  const clock = new TestClock(Date.now());
  const a = await startApp({ backend, clock });
  cleanups.push(() => a.close());
  const b = await startApp({ backend, clock });
  cleanups.push(() => b.close());
  return { a, b };
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

describe(`a cluster of two nodes (${WITH_REDIS ? 'PostgreSQL + Redis' : 'PostgreSQL, LISTEN/NOTIFY'})`, () => {
  it('a change on one node reaches the other node’s cache within a second', async () => {
    const { a, b } = await twoNodes();
    const key = await createKey(a, { scopes: ['inference'] });
    expect((await verify(b, { key: key.key, scopes: ['inference'] })).code).toBe('VALID'); // now cached on B

    expect((await a.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: false } })).status).toBe(200);
    const disabledAfter = await until(async () => (await verify(b, { key: key.key })).code === 'DISABLED', 1000);

    await a.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: true, scopes: [] } });
    await until(async () => (await verify(b, { key: key.key, scopes: ['inference'] })).code === 'INSUFFICIENT_SCOPE', 1000);

    await a.call('PATCH', `/v1/projects/${a.projectId}`, { body: { scopes: ['project'] } });
    const other = await createKey(a, { scopes: ['project'] });
    expect((await verify(b, { key: other.key, scopes: ['project'] })).code).toBe('VALID');
    await a.call('PATCH', `/v1/projects/${a.projectId}`, { body: { scopes: ['inference'] } });
    await until(async () => (await verify(b, { key: other.key, scopes: ['project'] })).code === 'INSUFFICIENT_SCOPE', 1000);

    await a.call('DELETE', `/v1/keys/${key.id}`);
    await until(async () => (await verify(b, { key: key.key })).code === 'NOT_FOUND', 1000);
    expect(b.built.cluster!.received).toBeGreaterThan(0);
    expect(disabledAfter).toBeLessThan(1000);
  });

  it('a rotation on one node ends the old secret on the other at once', async () => {
    const { a, b } = await twoNodes();
    const key = await createKey(a);
    expect((await verify(b, { key: key.key })).code).toBe('VALID');
    await a.call('POST', `/v1/keys/${key.id}/rotate`);
    await until(async () => (await verify(b, { key: key.key })).code === 'EXPIRED', 1000);
  });

  it('quota and rate limit are exact across nodes', async () => {
    const { a, b } = await twoNodes();
    const quota = await createKey(a, { limitedAmount: 50 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => verify(i % 2 === 0 ? a : b, { key: quota.key })));
    expect(results.filter((r) => r.code === 'VALID')).toHaveLength(50);
    expect(results.filter((r) => r.code === 'USAGE_EXCEEDED')).toHaveLength(150);

    a.clock.now = Math.ceil(Date.now() / 600_000) * 600_000; // the start of a 10-minute window
    const limited = await createKey(a, { rateLimit: { limit: 20, windowMs: 600_000 } });
    const hits = await Promise.all(Array.from({ length: 100 }, (_, i) => verify(i % 2 === 0 ? a : b, { key: limited.key })));
    expect(hits.filter((r) => r.code === 'VALID')).toHaveLength(20);
  });

  it('the invalidation channel reconnects after its connection is killed, and changes flow again', async () => {
    const { a, b } = await twoNodes();
    const cluster = b.built.cluster!;
    expect(cluster.connected).toBe(true);
    if (WITH_REDIS) {
      const admin = new Redis(TEST_REDIS_URL);
      cleanups.push(async () => void admin.disconnect());
      const list = await admin.client('LIST');
      const ids = String(list)
        .split('\n')
        .filter((line) => line.includes(`name=${b.config.redisPrefix}-invalidation`))
        .map((line) => /id=(\d+)/.exec(line)![1]!);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) await admin.client('KILL', 'ID', id);
    } else {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      cleanups.push(() => client.end());
      const killed = await client.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [
        `keyward_invalidate_${b.config.databaseSchema}`.slice(0, 63),
      ]);
      expect(killed.rowCount).toBeGreaterThan(0);
    }
    await until(async () => cluster.disconnects > 0 && cluster.connected, 10_000);
    // Both instances hear each other again.
    const key = await createKey(a);
    expect((await verify(b, { key: key.key })).code).toBe('VALID');
    await a.call('PATCH', `/v1/keys/${key.id}`, { body: { enabled: false } });
    await until(async () => (await verify(b, { key: key.key })).code === 'DISABLED', 1000);
  });

  it.runIf(WITH_REDIS)('a Redis restart does not reset a quota: usage is rebuilt from the database', async () => {
    const { a, b } = await twoNodes();
    const key = await createKey(a, { limitedAmount: 10 });
    for (let i = 0; i < 6; i++) expect((await verify(i % 2 ? a : b, { key: key.key })).code).toBe('VALID');
    // Write-behind to the database, then lose everything Redis held for this deployment.
    await (a.built.counters as RedisCounters).flush();
    await (b.built.counters as RedisCounters).flush();
    const stored = await a.built.services.storage.db.selectFrom('api_keys').select('used_amount').where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(Number(stored.used_amount)).toBe(6);
    const redis = new Redis(TEST_REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    const keys = await redis.keys(`${a.config.redisPrefix}:q:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => verify(i % 2 ? a : b, { key: key.key })));
    expect(after.filter((r) => r.code === 'VALID')).toHaveLength(4);
  });
});
