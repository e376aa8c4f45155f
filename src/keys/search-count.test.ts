// The total of a SQLite key search is counted in one string of all candidates' names
// (countMatchingNames): it must be the number nameMatcher accepts, also when a stored name holds
// the separator (written before names were checked), where the count falls back to SQL.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { BACKEND } from '../../test/helpers.js';
import { migrate, openSqlite, type Storage } from '../storage/storage.js';
import { createWorkspace } from '../workspaces/service.js';
import { loadMasterKey } from '../secrets/master-key.js';
import { nameMatcher } from '../domain/search.js';
import { searchPage } from './store.js';

let dir: string;
let storage: Storage;

afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A store whose project holds keys with `names` (copies of the workspace's admin key). */
async function storeWithNames(names: string[]): Promise<{ projectId: string }> {
  dir = mkdtempSync(join(tmpdir(), 'keyward-search-count-'));
  storage = openSqlite(dir);
  await migrate(storage);
  const { db } = storage;
  await createWorkspace(db, { name: 't', ownerEmail: 'owner@example.com', withAdminKey: true, now: Date.now(), masterKey: loadMasterKey(undefined, dir) });
  const admin = await db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
  await db.deleteFrom('key_secrets').execute();
  await db.deleteFrom('api_keys').execute();
  for (const [i, name] of names.entries()) {
    await db.insertInto('api_keys').values({ ...admin, id: `key_${String(i).padStart(4, '0')}`, name, created_at: admin.created_at + i }).execute();
  }
  return { projectId: admin.project_id };
}

const names = ['Integration EU', 'integraton', 'INTEGRATOIN', 'checkout', 'chekcout us', 'École', 'ÉCOLE 2', 'Straße', 'i̇ntegration', '', 'x'.repeat(200), 'in_te%gration'];

describe.runIf(BACKEND === 'sqlite')('search totals on SQLite', () => {
  it('counts what nameMatcher accepts, for every kind of query', async () => {
    const { projectId } = await storeWithNames(names);
    for (const search of ['integraton', 'INTEGRATION', 'chekout', 'école', 'ÉCOLE', 'straße', 'in', 'x'.repeat(40), 'in_te%', 'zzzz']) {
      const matches = nameMatcher(search);
      const page = await searchPage(storage.db, 'sqlite', { projectId, now: Date.now() }, search, 0, 100);
      const expected = [...names].reverse().filter((name) => matches(name));
      expect({ search, total: page.total, names: page.rows.map((row) => row.name) }).toEqual({ search, total: expected.length, names: expected });
    }
  });

  it('counts right when a stored name holds the separator, and when nothing is a candidate', async () => {
    const { projectId } = await storeWithNames([...names, 'integ\nraton']);
    const page = await searchPage(storage.db, 'sqlite', { projectId, now: Date.now() }, 'integraton', 0, 100);
    const matches = nameMatcher('integraton');
    // Whole, the name matches (one edit: the line break); split at it, neither part would.
    expect(matches('integ\nraton')).toBe(true);
    expect(page.total).toBe([...names, 'integ\nraton'].filter((name) => matches(name)).length);
    await sql`delete from api_keys`.execute(storage.db);
    expect(await searchPage(storage.db, 'sqlite', { projectId, now: Date.now() }, 'integraton', 0, 100)).toEqual({ rows: [], total: 0 });
  });
});
