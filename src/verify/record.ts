// What verification needs to know about a key, loaded in one query by the hash of a secret and
// kept in the cache. Everything derivable (effective scopes, host matcher, reply body) is computed
// once here, so a cache hit does no parsing.
import type { CompiledQuery } from 'kysely';
import type { DbOrTrx } from '../storage/database.js';
import type { Environment } from '../domain/token.js';
import type { RefillInterval } from '../domain/quota.js';
import { effectiveScopes, type Role } from '../domain/permissions.js';
import { hostMatcher, type HostMatcher } from '../domain/host.js';

export interface VerifyReplyKey {
  id: string;
  name: string;
  projectId: string;
  accountId: string;
  environment: Environment;
  type: 'token' | 'identity';
  scopes: string[];
  meta: Record<string, unknown> | null;
  expiresAt: string | null;
}

export interface KeyRecord {
  id: string;
  workspaceId: string;
  projectId: string;
  accountId: string;
  role: Role;
  username: string | null;
  environment: Environment;
  enabled: boolean;
  expiresAt: number | null;
  /** When this particular secret stops working (set by rotation's grace period). */
  secretExpiresAt: number | null;
  scopes: ReadonlySet<string>;
  host: HostMatcher | null;
  limitedAmount: number | null;
  refill: RefillInterval | null;
  rateLimit: { limit: number; windowMs: number } | null;
  reply: VerifyReplyKey;
  /** `reply` as JSON, made the first time an HTTP verify answers with it (src/http/fast-verify.ts). */
  replyJson: string | undefined;
}

function selectRecord(db: DbOrTrx, hash: string) {
  return db
    .selectFrom('key_secrets as s')
    .innerJoin('api_keys as k', 'k.id', 's.key_id')
    .innerJoin('accounts as a', 'a.id', 'k.account_id')
    .innerJoin('projects as p', 'p.id', 'k.project_id')
    .select([
      's.expires_at as secret_expires_at',
      'k.id',
      'k.workspace_id',
      'k.project_id',
      'k.account_id',
      'k.name',
      'k.environment',
      'k.type',
      'k.username',
      'k.scopes',
      'k.enabled',
      'k.expires_at',
      'k.host',
      'k.limited_amount',
      'k.refill_interval',
      'k.rate_limit_limit',
      'k.rate_limit_window_ms',
      'k.meta',
      'a.role',
      'p.scopes as project_scopes',
    ])
    .where('s.hash', '=', hash);
}
type RecordRow = Awaited<ReturnType<ReturnType<typeof selectRecord>['executeTakeFirstOrThrow']>>;

// Every cache miss runs this one query: build and compile it once per database handle, then run
// the compiled SQL with the hash as its only parameter.
const compiledRecordQueries = new WeakMap<DbOrTrx, CompiledQuery<RecordRow>>();

export async function loadKeyRecord(db: DbOrTrx, hash: string): Promise<KeyRecord | null> {
  let compiled = compiledRecordQueries.get(db);
  if (compiled === undefined) compiledRecordQueries.set(db, (compiled = selectRecord(db, '').compile()));
  const row = (await db.executeQuery<RecordRow>({ ...compiled, parameters: [hash] })).rows[0];
  if (row === undefined) return null;
  const role = row.role as Role;
  const scopes = effectiveScopes(JSON.parse(row.scopes) as string[], JSON.parse(row.project_scopes) as string[], role);
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  const environment = row.environment as Environment;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    projectId: row.project_id,
    accountId: row.account_id,
    role,
    username: row.username,
    environment,
    enabled: row.enabled === 1,
    expiresAt,
    secretExpiresAt: row.secret_expires_at === null ? null : Number(row.secret_expires_at),
    scopes,
    host: row.host === null ? null : hostMatcher(row.host),
    limitedAmount: row.limited_amount === null ? null : Number(row.limited_amount),
    refill: row.refill_interval as RefillInterval | null,
    rateLimit:
      row.rate_limit_limit === null || row.rate_limit_window_ms === null
        ? null
        : { limit: row.rate_limit_limit, windowMs: row.rate_limit_window_ms },
    reply: {
      id: row.id,
      name: row.name,
      projectId: row.project_id,
      accountId: row.account_id,
      environment,
      type: row.type as 'token' | 'identity',
      scopes: [...scopes],
      meta: row.meta === null ? null : (JSON.parse(row.meta) as Record<string, unknown>),
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    },
    replyJson: undefined,
  };
}
