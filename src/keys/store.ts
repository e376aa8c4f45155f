// Key persistence: repository functions over Kysely, each taking the database or a transaction.
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { ApiKeyRow, ApiKeyUpdate, Database, DbOrTrx, KeySecretsTable, NewApiKey } from '../storage/database.js';
import type { Dialect } from '../storage/storage.js';
import type { Environment } from '../domain/token.js';
import type { KeyStatus } from '../domain/status.js';
import { NAME_SEPARATOR, countMatchingNames, likePattern, nameMatcher, searchPieces } from '../domain/search.js';
import { NAME_MATCHES } from '../storage/sqlite-functions.js';

export async function findKey(db: DbOrTrx, workspaceId: string, keyId: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', keyId).where('workspace_id', '=', workspaceId).executeTakeFirst();
}

/** Serialises key creation per account on PostgreSQL so the key limit holds under concurrency.
 * SQLite needs nothing: it runs one write transaction at a time. */
export async function lockAccount(db: DbOrTrx, dialect: Dialect, accountId: string): Promise<void> {
  if (dialect === 'postgres') {
    await db.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
  }
}

export async function countKeys(db: DbOrTrx, projectId: string, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('project_id', '=', projectId)
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function nameTaken(db: DbOrTrx, projectId: string, accountId: string, name: string, exceptKeyId?: string): Promise<boolean> {
  let query = db
    .selectFrom('api_keys')
    .select('id')
    .where('project_id', '=', projectId)
    .where('account_id', '=', accountId)
    .where('name', '=', name);
  if (exceptKeyId !== undefined) query = query.where('id', '!=', exceptKeyId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** Names of the account's keys in the project that start with `base` (for auto-name suffixes). */
export async function namesStartingWith(db: DbOrTrx, projectId: string, accountId: string, base: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('api_keys')
    .select('name')
    .where('project_id', '=', projectId)
    .where('account_id', '=', accountId)
    .where(sql<boolean>`substr(name, 1, ${base.length}) = ${base}`)
    .execute();
  return new Set(rows.map((row) => row.name));
}

export async function insertKey(db: DbOrTrx, key: NewApiKey, secret: KeySecretsTable): Promise<void> {
  await db.insertInto('api_keys').values(key).execute();
  await db.insertInto('key_secrets').values(secret).execute();
}

export async function updateKey(db: DbOrTrx, keyId: string, patch: ApiKeyUpdate): Promise<void> {
  await db.updateTable('api_keys').set(patch).where('id', '=', keyId).execute();
}

export async function deleteKey(db: DbOrTrx, keyId: string): Promise<void> {
  await db.deleteFrom('key_secrets').where('key_id', '=', keyId).execute();
  await db.deleteFrom('api_keys').where('id', '=', keyId).execute();
}

/** Ends every current secret of the key at `at` (one that already ends sooner keeps its end). */
export async function expireSecrets(db: DbOrTrx, keyId: string, at: number): Promise<void> {
  await db
    .updateTable('key_secrets')
    .set({ expires_at: at })
    .where('key_id', '=', keyId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
    .execute();
}

export async function insertSecret(db: DbOrTrx, secret: KeySecretsTable): Promise<void> {
  await db.insertInto('key_secrets').values(secret).execute();
}

/** The key's current secret: rotation gives every older secret an expiry, so it is the one without. */
export async function currentSecret(db: DbOrTrx, keyId: string) {
  return db
    .selectFrom('key_secrets')
    .selectAll()
    .where('key_id', '=', keyId)
    .where('expires_at', 'is', null)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface KeyFilter {
  projectId: string;
  accountId?: string | undefined;
  environment?: Environment | undefined;
  status?: KeyStatus | undefined;
  now: number;
}

function filtered<O>(query: SelectQueryBuilder<Database, 'api_keys', O>, filter: KeyFilter) {
  let q = query.where('project_id', '=', filter.projectId);
  if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
  if (filter.environment !== undefined) q = q.where('environment', '=', filter.environment);
  // Same precedence as keyStatus(): disabled wins over expired.
  if (filter.status === 'disabled') q = q.where('enabled', '=', 0);
  if (filter.status === 'expired') q = q.where('enabled', '=', 1).where('expires_at', '<=', filter.now);
  if (filter.status === 'active') {
    q = q.where('enabled', '=', 1).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', filter.now)]));
  }
  return q;
}

/** True when the filter is a whole project: no account, environment or status. */
function wholeProject(filter: KeyFilter): boolean {
  return filter.accountId === undefined && filter.environment === undefined && filter.status === undefined;
}

/** How many keys match the filter. On SQLite a whole project's number is kept by triggers
 * (migration 0012): counting 100,000 keys took ~15 ms of every unfiltered list. */
export async function countFiltered(db: DbOrTrx, dialect: Dialect, filter: KeyFilter): Promise<number> {
  if (dialect === 'sqlite' && wholeProject(filter)) {
    const kept = await db.selectFrom('project_key_counts').select('keys').where('project_id', '=', filter.projectId).executeTakeFirst();
    if (kept !== undefined) return kept.keys;
  }
  const row = await filtered(db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('count')), filter).executeTakeFirstOrThrow();
  return Number(row.count);
}

function newestFirst<O>(query: SelectQueryBuilder<Database, 'api_keys', O>) {
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc');
}

/** One page, newest first. */
export async function pageFiltered(db: DbOrTrx, filter: KeyFilter, offset: number, limit: number): Promise<ApiKeyRow[]> {
  return newestFirst(filtered(db.selectFrom('api_keys').selectAll(), filter)).limit(limit).offset(offset).execute();
}

/**
 * The filter's keys that may match the fuzzy search `search`: those whose name contains one of its
 * pieces (see searchPieces), a cheap first cut before the matcher; all of them when it has none.
 * On PostgreSQL the pg_trgm index on lower(name) serves it. SQLite's LIKE ignores ASCII case by
 * itself, which is all its lower() does, so there the copy of each name is skipped.
 */
function candidates<O>(query: SelectQueryBuilder<Database, 'api_keys', O>, dialect: Dialect, filter: KeyFilter, search: string) {
  const q = filtered(query, filter);
  const pieces = searchPieces(search);
  if (pieces === null) return q;
  const name = dialect === 'postgres' ? sql`lower(name)` : sql`name`;
  return q.where((eb) => eb.or(pieces.map((piece) => sql<boolean>`${name} like ${likePattern(piece)} escape '\\'`)));
}

export interface SearchPage {
  /** The page, newest first. */
  rows: ApiKeyRow[];
  /** How many keys match in all. */
  total: number;
}

/** One page of the filter's keys whose name matches the fuzzy search `search` (nameMatcher), newest first, and how many match. */
export async function searchPage(
  db: DbOrTrx,
  dialect: Dialect,
  filter: KeyFilter,
  search: string,
  offset: number,
  limit: number,
  countNameMatches?: CountNameMatches,
): Promise<SearchPage> {
  return dialect === 'sqlite' ? searchInQuery(db, filter, search, offset, limit, countNameMatches) : searchInJavaScript(db, filter, search, offset, limit);
}

/** Storage.countNameMatches. */
export type CountNameMatches = (projectId: string, query: string) => Promise<number | null>;

/**
 * On SQLite the page query runs the matcher inside the query (NAME_MATCHES) and stops at the
 * page's last match. The count must see every candidate. For a whole project the read thread
 * counts in its copy of the project's names (Storage.countNameMatches). Otherwise SQLite joins the
 * candidates' names into one string and countMatchingNames counts in it: less time than a
 * JavaScript call per row from SQL, and no string per name (100,000 keys, 200 counts: p50 25.4 vs
 * 27.8 ms, max 40.6 vs 254.9 ms).
 */
async function searchInQuery(db: DbOrTrx, filter: KeyFilter, search: string, offset: number, limit: number, countNameMatches?: CountNameMatches): Promise<SearchPage> {
  const matching = <O>(query: SelectQueryBuilder<Database, 'api_keys', O>) =>
    candidates(query, 'sqlite', filter, search).where((eb) => eb.fn<SqlBool>(NAME_MATCHES, [eb.val(search), eb.ref('name')]));
  const page = newestFirst(matching(db.selectFrom('api_keys').selectAll())).limit(limit).offset(offset).execute();
  if (countNameMatches !== undefined && wholeProject(filter)) {
    // A whole project: counted in the read thread's copy of its names, when it has one.
    const [total, rows] = await Promise.all([countNameMatches(filter.projectId, search), page]);
    if (total !== null) return { rows, total };
  }
  const [joined, rows] = await Promise.all([
    candidates(
      db.selectFrom('api_keys').select((eb) => [eb.fn.countAll<number>().as('count'), sql<string | null>`group_concat(name, ${NAME_SEPARATOR})`.as('names')]),
      'sqlite',
      filter,
      search,
    ).executeTakeFirstOrThrow(),
    page,
  ]);
  const counted = joined.names === null ? { names: 0, matches: 0 } : countMatchingNames(search, joined.names);
  if (counted.names === Number(joined.count)) return { rows, total: counted.matches };
  // A name with the separator in it (stored before names were checked): count in SQL instead.
  const count = await matching(db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('count'))).executeTakeFirstOrThrow();
  return { rows, total: Number(count.count) };
}

/** PostgreSQL cannot call the matcher: every candidate's name is read and matched here. */
async function searchInJavaScript(db: DbOrTrx, filter: KeyFilter, search: string, offset: number, limit: number): Promise<SearchPage> {
  const names = await newestFirst(candidates(db.selectFrom('api_keys').select(['id', 'name']), 'postgres', filter, search)).execute();
  const matchesName = nameMatcher(search);
  const ids = names.filter((candidate) => matchesName(candidate.name)).map((match) => match.id);
  return { rows: await keysByIds(db, ids.slice(offset, offset + limit)), total: ids.length };
}

async function keysByIds(db: DbOrTrx, ids: readonly string[]): Promise<ApiKeyRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('api_keys').selectAll().where('id', 'in', ids).execute();
  const order = new Map(ids.map((id, index) => [id, index]));
  return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}
