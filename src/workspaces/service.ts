// Workspaces (tenants): creating one with its owner, default project and first admin key
// (first start, `keyward init`), the operator's root actor, and the caller's own view.
import { PostgresAdapter, sql } from 'kysely';
import type { Db, DbOrTrx, WorkspaceRow } from '../storage/database.js';
import { notFound } from '../errors.js';
import type { Actor, CredentialType } from '../domain/actor.js';
import { ADMIN_SCOPE, DEFAULT_PROJECT_SCOPES, PERMISSIONS, type Role } from '../domain/permissions.js';
import { DEFAULT_PREFIX } from '../domain/token.js';
import { newId } from '../domain/ids.js';
import { buildNewKey } from '../keys/service.js';
import * as keyStore from '../keys/store.js';
import { DEFAULT_MAX_KEYS_PER_ACCOUNT } from '../projects/service.js';
import { toAccount } from '../accounts/service.js';
import { findAccount } from '../accounts/store.js';
import type { AccountResource } from '../accounts/schema.js';
import { hashPassword } from '../secrets/passwords.js';

export interface NewWorkspace {
  workspaceId: string;
  accountId: string;
  projectId: string;
  /** The owner's first admin key; null when the operator uses KEYWARD_ROOT_KEY instead. */
  adminKey: { id: string; token: string } | null;
}

export interface NewWorkspaceParams {
  name: string;
  ownerEmail: string;
  ownerName?: string;
  withAdminKey: boolean;
  /** The owner's dashboard password (stored hashed); none = no dashboard login until one is set. */
  ownerPassword?: string | null;
  now: number;
  masterKey: Buffer;
}

/** Creates a workspace, its owner, a default project and (optionally) the owner's admin key, atomically. */
export async function createWorkspace(db: Db, params: NewWorkspaceParams): Promise<NewWorkspace> {
  const passwordHash = await ownerPasswordHash(params);
  return db.transaction().execute((trx) => insertWorkspace(trx, params, passwordHash));
}

function ownerPasswordHash(params: NewWorkspaceParams): Promise<string | null> {
  return params.ownerPassword === undefined || params.ownerPassword === null ? Promise.resolve(null) : hashPassword(params.ownerPassword);
}

/** First start: creates the first workspace unless one exists (checked in the same transaction;
 * on PostgreSQL under an advisory lock, so nodes starting at once create exactly one). */
export async function ensureFirstWorkspace(db: Db, params: NewWorkspaceParams): Promise<NewWorkspace | null> {
  const passwordHash = await ownerPasswordHash(params);
  return db.transaction().execute(async (trx) => {
    if (trx.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`select pg_advisory_xact_lock(hashtext('keyward:first-workspace'))`.execute(trx);
    }
    return (await hasAnyWorkspace(trx)) ? null : insertWorkspace(trx, params, passwordHash);
  });
}

async function insertWorkspace(trx: DbOrTrx, params: NewWorkspaceParams, passwordHash: string | null): Promise<NewWorkspace> {
  const { now } = params;
  const workspaceId = newId('ws', now);
  const accountId = newId('acc', now);
  const projectId = newId('proj', now);
  let adminKey: NewWorkspace['adminKey'] = null;
  {
    await trx.insertInto('workspaces').values({ id: workspaceId, name: params.name, created_at: now, updated_at: now }).execute();
    await trx
      .insertInto('accounts')
      .values({
        id: accountId,
        workspace_id: workspaceId,
        email: params.ownerEmail.trim().toLowerCase(),
        name: params.ownerName ?? 'Owner',
        role: 'owner',
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const project = {
      id: projectId,
      workspace_id: workspaceId,
      name: 'Default project',
      prefix: DEFAULT_PREFIX,
      scopes: JSON.stringify(DEFAULT_PROJECT_SCOPES),
      max_keys_per_account: DEFAULT_MAX_KEYS_PER_ACCOUNT,
      recoverable: 0,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('projects').values(project).execute();
    if (params.withAdminKey) {
      const keyId = newId('key', now);
      const built = buildNewKey({
        keyId,
        project,
        accountId,
        name: 'Owner admin key',
        environment: 'live',
        type: 'token',
        scopes: [ADMIN_SCOPE],
        enabled: true,
        expiresAt: null,
        host: null,
        limitedAmount: null,
        refill: null,
        rateLimit: null,
        meta: null,
        now,
        masterKey: params.masterKey,
      });
      await keyStore.insertKey(trx, built.row, built.secretRow);
      adminKey = { id: keyId, token: built.secret.token };
    }
  }
  return { workspaceId, accountId, projectId, adminKey };
}

export async function hasAnyWorkspace(db: DbOrTrx): Promise<boolean> {
  return (await db.selectFrom('workspaces').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** The root key acts as the first workspace's earliest owner. Null before first start. */
export async function findRootActor(db: DbOrTrx): Promise<Actor | null> {
  const row = await db
    .selectFrom('accounts as a')
    .innerJoin('workspaces as w', 'w.id', 'a.workspace_id')
    .select(['a.id', 'a.workspace_id', 'a.role'])
    .where('a.role', '=', 'owner')
    .orderBy('w.created_at', 'asc')
    .orderBy('w.id', 'asc')
    .orderBy('a.created_at', 'asc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    workspaceId: row.workspace_id,
    accountId: row.id,
    role: row.role as Role,
    permissions: new Set(PERMISSIONS),
    credentialType: 'root',
    credentialKeyId: null,
    ip: null,
  };
}

function toWorkspace(row: WorkspaceRow) {
  return {
    id: row.id,
    name: row.name,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

export async function describeWorkspace(db: Db, actor: Actor): Promise<{
  workspace: ReturnType<typeof toWorkspace>;
  account: AccountResource;
  permissions: string[];
  credential: { type: CredentialType; keyId: string | null };
}> {
  const workspace = await db.selectFrom('workspaces').selectAll().where('id', '=', actor.workspaceId).executeTakeFirst();
  const account = await findAccount(db, actor.workspaceId, actor.accountId);
  if (workspace === undefined || account === undefined) throw notFound('Workspace');
  return {
    workspace: toWorkspace(workspace),
    account: toAccount(account),
    permissions: [...actor.permissions],
    credential: { type: actor.credentialType, keyId: actor.credentialKeyId },
  };
}
