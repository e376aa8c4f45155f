// Key lifecycle rules: create (limits, names, scopes), list (filters, fuzzy search), get, update,
// delete, rotate (grace period) and reveal (recoverable projects). Every change tells the verify
// cache, so the very next verification sees it.
import type { Db } from '../storage/database.js';
import type { Dialect } from '../storage/storage.js';
import type { Counters } from '../counters/counters.js';
import type { KeyInvalidation } from '../verify/cache.js';
import { AppError, conflict, forbidden, notFound, validationError } from '../errors.js';
import { can, requireAny, type Actor } from '../domain/actor.js';
import { assignableScopes, uniqueScopes } from '../domain/permissions.js';
import { autoKeyName, checkedName, firstFreeName } from '../domain/names.js';
import { normalizeHostBinding } from '../domain/host.js';
import { generateToken, generateUsername, hashToken, tokenStart, type Environment } from '../domain/token.js';
import { newId } from '../domain/ids.js';
import { refillPeriodStart } from '../domain/quota.js';
import { seal, open } from '../secrets/sealed-box.js';
import { isUniqueViolation } from '../storage/constraint.js';
import { findProject } from '../projects/store.js';
import { findAccount } from '../accounts/store.js';
import type { ApiKeyRow, ApiKeyUpdate, DbOrTrx, KeySecretsTable, NewApiKey, ProjectRow } from '../storage/database.js';
import * as store from './store.js';
import { diffFields, recordChange } from '../audit/recorder.js';
import { toApiKey } from './resource.js';
import {
  MAX_META_BYTES,
  type ApiKeyResource,
  type ApiKeyWithSecretResource,
  type CreateKeyInput,
  type ListKeysInput,
  type UpdateKeyInput,
} from './schema.js';

export interface KeyServiceDeps {
  db: Db;
  /** Where lists and searches run (Storage.readDb). */
  readDb: Db;
  /** Storage.countNameMatches: search totals from the read thread's copy of names (SQLite). */
  countNameMatches?: ((projectId: string, query: string) => Promise<number | null>) | undefined;
  dialect: Dialect;
  clock: () => number;
  invalidation: KeyInvalidation;
  counters: Counters;
  masterKey: Buffer;
}

export interface KeyPage {
  apiKeys: ApiKeyResource[];
  page: number;
  pageSize: number;
  total: number;
}

export interface Secret {
  token: string;
  username: string | null;
}

function checkedScopes(scopes: readonly string[], project: ProjectRow): string[] {
  const allowed = assignableScopes(JSON.parse(project.scopes) as string[]);
  const unique = uniqueScopes(scopes);
  const unknown = unique.findIndex((scope) => !allowed.has(scope));
  if (unknown !== -1) {
    throw validationError(`scopes[${scopes.indexOf(unique[unknown]!)}]`, `scope '${unique[unknown]}' is not defined in this project (allowed: ${[...allowed].join(', ')})`);
  }
  return unique;
}

function checkedHost(raw: string | null): string | null {
  if (raw === null) return null;
  const host = normalizeHostBinding(raw);
  if (host === null) throw validationError('host', 'host must be a domain (api.example.com), a wildcard (*.example.com), an IP address or a CIDR range');
  return host;
}

function checkedMeta(meta: Record<string, unknown> | null): string | null {
  if (meta === null) return null;
  const json = JSON.stringify(meta);
  if (Buffer.byteLength(json) > MAX_META_BYTES) throw validationError('meta', `meta must be at most ${MAX_META_BYTES} bytes of JSON`);
  return json;
}

function timestamp(field: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || ms > Date.UTC(9999, 11, 31)) throw validationError(field, `${field} is not a valid date-time`);
  return ms;
}

/** The owner may manage its own keys with keys:manage; anyone else's needs keys:manage_all. */
function requireManage(actor: Actor, key: ApiKeyRow): void {
  if (key.account_id === actor.accountId) requireAny(actor, 'keys:manage', 'keys:manage_all');
  else requireAny(actor, 'keys:manage_all');
}

function requireRead(actor: Actor, key: ApiKeyRow): void {
  if (key.account_id === actor.accountId) requireAny(actor, 'keys:read', 'keys:manage', 'keys:manage_all');
  else requireAny(actor, 'keys:manage_all');
}

export class KeyService {
  constructor(private readonly deps: KeyServiceDeps) {}

  async create(actor: Actor, projectId: string, input: CreateKeyInput): Promise<ApiKeyWithSecretResource> {
    const { db, clock } = this.deps;
    const project = await findProject(db, actor.workspaceId, projectId);
    if (project === undefined) throw notFound('Project');
    const accountId = input.accountId ?? actor.accountId;
    if (accountId === actor.accountId) requireAny(actor, 'keys:manage', 'keys:manage_all');
    else requireAny(actor, 'keys:manage_all');
    if ((await findAccount(db, actor.workspaceId, accountId)) === undefined) throw notFound('Account');

    const now = clock();
    const environment: Environment = input.environment ?? 'live';
    const type = input.type ?? 'token';
    const scopes = checkedScopes(input.scopes ?? [], project);
    const expiresAt = input.expiresAt == null ? null : timestamp('expiresAt', input.expiresAt);
    if (expiresAt !== null && expiresAt <= now) throw validationError('expiresAt', 'expiresAt must be in the future');
    const limitedAmount = input.limitedAmount ?? null;
    const refill = input.refill ?? null;
    if (refill !== null && limitedAmount === null) throw validationError('refill', 'refill needs limitedAmount (the amount to refill to)');
    const host = checkedHost(input.host ?? null);
    const meta = checkedMeta(input.meta ?? null);
    const explicitName = input.name === undefined ? null : checkedName(input.name);

    const keyId = newId('key', now);
    let issued: Secret | undefined;
    let created: ApiKeyResource | undefined;
    try {
      await db.transaction().execute(async (trx) => {
        await store.lockAccount(trx, this.deps.dialect, accountId);
        const count = await store.countKeys(trx, project.id, accountId);
        if (count >= project.max_keys_per_account) {
          throw new AppError(
            'keyLimitReachedError',
            409,
            `This account already has ${count} keys in the project; the limit is ${project.max_keys_per_account}. Delete a key to add another.`,
          );
        }
        let name: string;
        if (explicitName !== null) {
          if (await store.nameTaken(trx, project.id, accountId, explicitName)) throw duplicateName(explicitName);
          name = explicitName;
        } else {
          const base = autoKeyName(now);
          name = firstFreeName(base, await store.namesStartingWith(trx, project.id, accountId, base));
        }
        const built = buildNewKey({
          keyId,
          project,
          accountId,
          name,
          environment,
          type,
          scopes,
          enabled: input.enabled !== false,
          expiresAt,
          host,
          limitedAmount,
          refill: refill?.interval ?? null,
          rateLimit: input.rateLimit ?? null,
          meta,
          now,
          masterKey: this.deps.masterKey,
        });
        await store.insertKey(trx, built.row, built.secretRow);
        issued = built.secret;
        created = toApiKey((await store.findKey(trx, actor.workspaceId, keyId))!, now);
        await recordChange(trx, actor, now, {
          action: 'key.created',
          targetType: 'key',
          targetId: keyId,
          projectId: project.id,
          event: { type: 'key.created', keyId, accountId, data: { apiKey: created } },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error, 'name')) throw duplicateName(explicitName ?? 'generated');
      throw error;
    }
    return withSecret(created!, issued!);
  }

  async list(actor: Actor, projectId: string, query: ListKeysInput): Promise<KeyPage> {
    const { db, clock } = this.deps;
    requireAny(actor, 'keys:read', 'keys:manage', 'keys:manage_all');
    if ((await findProject(db, actor.workspaceId, projectId)) === undefined) throw notFound('Project');
    let accountId = query.accountId;
    if (!can(actor, 'keys:manage_all')) {
      if (accountId !== undefined && accountId !== actor.accountId) {
        throw forbidden("Listing another account's keys needs the keys:manage_all permission");
      }
      accountId = actor.accountId;
    }
    const now = clock();
    const filter = { projectId, accountId, environment: query.environment, status: query.status, now };
    const { readDb } = this.deps;
    const { page, pageSize } = query;
    const offset = (page - 1) * pageSize;
    const search = query.search?.trim() ?? '';
    if (search === '') {
      const [total, rows] = await Promise.all([store.countFiltered(readDb, this.deps.dialect, filter), store.pageFiltered(readDb, filter, offset, pageSize)]);
      return { apiKeys: await this.withLiveUsage(rows.map((row) => toApiKey(row, now)), now), page, pageSize, total };
    }
    const { rows, total } = await store.searchPage(readDb, this.deps.dialect, filter, search, offset, pageSize, this.deps.countNameMatches);
    return { apiKeys: await this.withLiveUsage(rows.map((row) => toApiKey(row, now)), now), page, pageSize, total };
  }

  async get(actor: Actor, keyId: string): Promise<ApiKeyResource> {
    const key = await this.find(actor, keyId);
    requireRead(actor, key);
    const now = this.deps.clock();
    return (await this.withLiveUsage([toApiKey(key, now)], now))[0]!;
  }

  async update(actor: Actor, keyId: string, input: UpdateKeyInput): Promise<ApiKeyResource> {
    const { db, clock } = this.deps;
    const key = await this.find(actor, keyId);
    requireManage(actor, key);
    const project = (await findProject(db, actor.workspaceId, key.project_id))!;
    const now = clock();
    const patch: ApiKeyUpdate = { updated_at: now };
    if (input.name !== undefined) patch.name = checkedName(input.name);
    if (input.scopes !== undefined) patch.scopes = JSON.stringify(checkedScopes(input.scopes, project));
    if (input.enabled !== undefined) {
      patch.enabled = input.enabled ? 1 : 0;
      patch.disabled_reason = null; // an admin's decision replaces a system one (e.g. `leaked`)
    }
    // A past expiresAt is allowed here: it expires the key now (it stays listed as expired).
    if (input.expiresAt !== undefined) patch.expires_at = input.expiresAt === null ? null : timestamp('expiresAt', input.expiresAt);
    if (input.host !== undefined) patch.host = checkedHost(input.host);
    if (input.limitedAmount !== undefined) patch.limited_amount = input.limitedAmount;
    if (input.refill !== undefined) patch.refill_interval = input.refill?.interval ?? null;
    if (input.rateLimit !== undefined) {
      patch.rate_limit_limit = input.rateLimit?.limit ?? null;
      patch.rate_limit_window_ms = input.rateLimit?.windowMs ?? null;
    }
    if (input.meta !== undefined) patch.meta = checkedMeta(input.meta);
    const limited = patch.limited_amount !== undefined ? patch.limited_amount : key.limited_amount;
    const refill = patch.refill_interval !== undefined ? patch.refill_interval : key.refill_interval;
    if (refill !== null && limited === null) throw validationError('refill', 'refill needs limitedAmount (the amount to refill to)');
    if (patch.refill_interval !== undefined && patch.refill_interval !== key.refill_interval) patch.refill_period_start = null;

    let updated: ApiKeyResource | undefined;
    try {
      await db.transaction().execute(async (trx) => {
        if (patch.name !== undefined && (await store.nameTaken(trx, key.project_id, key.account_id, patch.name, key.id))) {
          throw duplicateName(patch.name);
        }
        await store.updateKey(trx, key.id, patch);
        updated = toApiKey((await store.findKey(trx, actor.workspaceId, key.id))!, now);
        const changes = diffFields(toApiKey(key, now), updated);
        if (Object.keys(changes).length > 0) {
          await recordChange(trx, actor, now, {
            action: 'key.updated',
            targetType: 'key',
            targetId: key.id,
            projectId: key.project_id,
            changes,
            event: { type: 'key.updated', keyId: key.id, accountId: key.account_id, data: { apiKey: updated, changes } },
          });
        }
      });
    } catch (error) {
      if (isUniqueViolation(error, 'name')) throw duplicateName(patch.name ?? key.name);
      throw error;
    }
    this.deps.invalidation.invalidateKey(key.id);
    if (input.rateLimit !== undefined) this.deps.counters.resetRateLimit(key.id);
    if (input.limitedAmount !== undefined || input.refill !== undefined) this.deps.counters.resetQuota(key.id);
    return updated!;
  }

  /** Deletes the key; its push subscription and streams go with it (foreign-key cascade). */
  async delete(actor: Actor, keyId: string): Promise<void> {
    const key = await this.find(actor, keyId);
    requireManage(actor, key);
    const now = this.deps.clock();
    await this.deps.db.transaction().execute(async (trx) => {
      await store.deleteKey(trx, key.id);
      await recordChange(trx, actor, now, {
        action: 'key.deleted',
        targetType: 'key',
        targetId: key.id,
        projectId: key.project_id,
        event: { type: 'key.deleted', keyId: key.id, accountId: key.account_id, data: { apiKey: toApiKey(key, now) } },
      });
    });
    this.deps.invalidation.invalidateKey(key.id);
    this.deps.counters.resetRateLimit(key.id);
    this.deps.counters.resetQuota(key.id);
  }

  async rotate(actor: Actor, keyId: string, gracePeriodSeconds: number): Promise<ApiKeyWithSecretResource> {
    const { db, clock } = this.deps;
    const key = await this.find(actor, keyId);
    requireManage(actor, key);
    const project = (await findProject(db, actor.workspaceId, key.project_id))!;
    const now = clock();
    const secret = newSecret(project, key.environment as Environment, key.type as 'token' | 'identity', key.username);
    let rotated: ApiKeyResource | undefined;
    await db.transaction().execute(async (trx) => {
      await store.expireSecrets(trx, key.id, now + gracePeriodSeconds * 1000);
      await store.insertSecret(trx, secretRow(secret.token, key.id, now, project, this.deps.masterKey));
      await store.updateKey(trx, key.id, { start: tokenStart(secret.token), updated_at: now });
      rotated = toApiKey((await store.findKey(trx, actor.workspaceId, key.id))!, now);
      await recordChange(trx, actor, now, {
        action: 'key.rotated',
        targetType: 'key',
        targetId: key.id,
        projectId: key.project_id,
        changes: { ...diffFields(toApiKey(key, now), rotated), gracePeriodSeconds: { before: null, after: gracePeriodSeconds } },
        event: { type: 'key.rotated', keyId: key.id, accountId: key.account_id, data: { apiKey: rotated, gracePeriodSeconds } },
      });
    });
    this.deps.invalidation.invalidateKey(key.id);
    return withSecret(rotated!, secret);
  }

  /** Shows the secret again (recoverable projects); every reveal is audited. */
  async reveal(actor: Actor, keyId: string): Promise<ApiKeyWithSecretResource> {
    const { db, clock } = this.deps;
    const key = await this.find(actor, keyId);
    requireManage(actor, key);
    const project = (await findProject(db, actor.workspaceId, key.project_id))!;
    if (project.recoverable !== 1) throw conflict('This project does not keep recoverable keys; secrets are shown only once');
    const secret = await store.currentSecret(db, key.id);
    if (secret?.encrypted_token == null) {
      throw conflict('This key was created before the project kept recoverable keys; rotate it to get a recoverable secret');
    }
    const token = open(this.deps.masterKey, secret.encrypted_token);
    if (token === null) throw conflict('The secret cannot be decrypted with the current master key (KEYWARD_MASTER_KEY changed?)');
    const now = clock();
    await recordChange(db, actor, now, { action: 'key.revealed', targetType: 'key', targetId: key.id, projectId: key.project_id });
    return withSecret(toApiKey(key, now), { token, username: key.username });
  }

  /** Shows the usage the counters hold now (Redis), ahead of its write-back to the database. */
  private async withLiveUsage(keys: ApiKeyResource[], now: number): Promise<ApiKeyResource[]> {
    const limited = keys.filter((key) => key.limitedAmount !== null);
    if (this.deps.counters.peekUsage === undefined || limited.length === 0) return keys;
    const usage = await this.deps.counters.peekUsage(limited.map((key) => key.id));
    return keys.map((key) => {
      const live = usage.get(key.id);
      if (live === undefined || key.limitedAmount === null) return key;
      // A count from an earlier refill period no longer counts.
      const current = key.refill === null ? 0 : refillPeriodStart(key.refill.interval, now);
      return { ...key, usedAmount: live.period < current ? 0 : live.used };
    });
  }

  private async find(actor: Actor, keyId: string): Promise<ApiKeyRow> {
    const key = await store.findKey(this.deps.db, actor.workspaceId, keyId);
    if (key === undefined) throw notFound('API key');
    return key;
  }

}

function duplicateName(name: string): AppError {
  return new AppError('duplicateNameError', 409, `A key named '${name}' already exists for this account in this project`, 'name');
}

function withSecret(resource: ApiKeyResource, secret: Secret): ApiKeyWithSecretResource {
  return secret.username === null ? { ...resource, key: secret.token } : { ...resource, password: secret.token };
}

function newSecret(project: ProjectRow, environment: Environment, type: 'token' | 'identity', username: string | null = null): Secret {
  const token = generateToken(project.prefix, environment);
  return { token, username: type === 'identity' ? (username ?? generateUsername(project.prefix)) : null };
}

function secretRow(token: string, keyId: string, now: number, project: ProjectRow, masterKey: Buffer): KeySecretsTable {
  return {
    hash: hashToken(token),
    key_id: keyId,
    created_at: now,
    expires_at: null,
    encrypted_token: project.recoverable === 1 ? seal(masterKey, token) : null,
  };
}

export interface NewKeyParams {
  keyId: string;
  project: ProjectRow;
  accountId: string;
  name: string;
  environment: Environment;
  type: 'token' | 'identity';
  scopes: string[];
  enabled: boolean;
  expiresAt: number | null;
  host: string | null;
  limitedAmount: number | null;
  refill: string | null;
  rateLimit: { limit: number; windowMs: number } | null;
  meta: string | null;
  now: number;
  masterKey: Buffer;
}

/** The rows of a new key and the secret to show once. Inputs are already validated. */
export function buildNewKey(params: NewKeyParams): { row: NewApiKey; secretRow: KeySecretsTable; secret: Secret } {
  const { keyId, project, now } = params;
  const secret = newSecret(project, params.environment, params.type);
  const row: NewApiKey = {
    id: keyId,
    workspace_id: project.workspace_id,
    project_id: project.id,
    account_id: params.accountId,
    name: params.name,
    start: tokenStart(secret.token),
    environment: params.environment,
    type: params.type,
    username: secret.username,
    scopes: JSON.stringify(params.scopes),
    enabled: params.enabled ? 1 : 0,
    expires_at: params.expiresAt,
    host: params.host,
    limited_amount: params.limitedAmount,
    refill_interval: params.refill,
    refill_period_start: null,
    rate_limit_limit: params.rateLimit?.limit ?? null,
    rate_limit_window_ms: params.rateLimit?.windowMs ?? null,
    meta: params.meta,
    created_at: now,
    updated_at: now,
    last_used_at: null,
  };
  return { row, secretRow: secretRow(secret.token, keyId, now, project, params.masterKey), secret };
}

/**
 * Deletes every key of an account or a project inside the caller's transaction (an account or a
 * project is going away): each is audited and recorded as a key.deleted event, like a single delete.
 */
export async function deleteKeysOf(
  trx: DbOrTrx,
  actor: Actor,
  now: number,
  owner: { accountId: string } | { projectId: string },
  reason: string,
): Promise<number> {
  const column = 'accountId' in owner ? 'account_id' : 'project_id';
  const value = 'accountId' in owner ? owner.accountId : owner.projectId;
  const keys = await trx.selectFrom('api_keys').selectAll().where(column, '=', value).execute();
  for (const key of keys) {
    await store.deleteKey(trx, key.id);
    await recordChange(trx, actor, now, {
      action: 'key.deleted',
      targetType: 'key',
      targetId: key.id,
      projectId: key.project_id,
      changes: { reason: { before: null, after: reason } },
      event: { type: 'key.deleted', keyId: key.id, accountId: key.account_id, data: { apiKey: toApiKey(key, now), reason } },
    });
  }
  return keys.length;
}
