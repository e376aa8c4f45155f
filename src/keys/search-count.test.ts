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
import SQLite from 'better-sqlite3';
import { ProjectNames } from '../storage/project-names.js';

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

describe.runIf(BACKEND === 'sqlite')('search totals from the read thread’s copy of the names', () => {
  const queries = ['integraton', 'chekout', 'école', 'in', 'x'.repeat(40), 'zzzz', 'renamed'];

  /** Each query's total and page as the read thread gives them, against nameMatcher on the stored names. */
  async function expectTotals(projectId: string): Promise<void> {
    const stored = (await storage.db.selectFrom('api_keys').select('name').where('project_id', '=', projectId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((row) => row.name);
    for (const search of queries) {
      const matches = nameMatcher(search);
      const expected = stored.filter((name) => matches(name));
      const page = await searchPage(storage.readDb, 'sqlite', { projectId, now: Date.now() }, search, 0, 100, storage.countNameMatches);
      expect({ search, total: page.total, names: page.rows.map((row) => row.name) }).toEqual({ search, total: expected.length, names: expected });
    }
  }

  it('counts from the copy, and follows every insert, delete, rename and move of a key', async () => {
    const { projectId } = await storeWithNames(names);
    const { db } = storage;
    const project = await db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirstOrThrow();
    await db.insertInto('projects').values({ ...project, id: 'proj_other', name: 'Other' }).execute();
    // The copy answers (null would mean the SQL count).
    expect(await storage.countNameMatches!(projectId, 'integraton')).toBe(names.filter(nameMatcher('integraton')).length);
    expect(await storage.countNameMatches!('proj_other', 'integraton')).toBe(0);
    expect(await storage.countNameMatches!('proj_missing', 'integraton')).toBeNull();
    await expectTotals(projectId);
    const key = await db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).executeTakeFirstOrThrow();
    await db.insertInto('api_keys').values({ ...key, id: 'key_new', name: 'Integration US', created_at: key.created_at + 1_000 }).execute();
    await expectTotals(projectId);
    await db.deleteFrom('api_keys').where('name', '=', 'integraton').execute();
    await expectTotals(projectId);
    await db.updateTable('api_keys').set({ name: 'renamed' }).where('name', '=', 'checkout').execute();
    await expectTotals(projectId);
    await db.updateTable('api_keys').set({ project_id: 'proj_other' }).where('name', '=', 'Integration EU').execute();
    await expectTotals(projectId);
    await expectTotals('proj_other');
    expect(await storage.countNameMatches!('proj_other', 'integraton')).toBe(1);
    await db.deleteFrom('api_keys').execute();
    expect(await storage.countNameMatches!(projectId, 'integraton')).toBe(0);
    await expectTotals(projectId);
  });

  it('leaves a project with the separator in a name to the SQL count', async () => {
    const { projectId } = await storeWithNames([...names, 'integ\nraton']);
    expect(await storage.countNameMatches!(projectId, 'integraton')).toBeNull();
    await expectTotals(projectId);
  });

  it('counts right while projects take turns in a budget too small to keep them all', async () => {
    const { projectId } = await storeWithNames(names);
    const { db } = storage;
    const project = await db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirstOrThrow();
    const key = await db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
    await db.insertInto('projects').values({ ...project, id: 'proj_small', name: 'Small' }).execute();
    await db.insertInto('api_keys').values({ ...key, id: 'key_small', project_id: 'proj_small', name: 'integration' }).execute();
    const chars = names.join('\n').length;
    const file = new SQLite(join(dir, 'keyward.sqlite'), { readonly: true });
    try {
      // Room for the big project or the small one, not both; then for the small one only.
      for (const budget of [chars, 20]) {
        const kept = new ProjectNames(file, budget);
        for (let turn = 0; turn < 3; turn++) {
          expect(kept.count(projectId, 'integraton')).toBe(names.filter(nameMatcher('integraton')).length);
          expect(kept.count('proj_small', 'integraton')).toBe(1);
        }
        await db.updateTable('api_keys').set({ name: `integration ${budget}` }).where('id', '=', 'key_small').execute();
        expect(kept.count('proj_small', 'integraton')).toBe(1);
        expect(kept.count('proj_small', `integration ${budget}`)).toBe(1);
      }
    } finally {
      file.close();
    }
  });
});
