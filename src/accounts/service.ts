// Members of a workspace and their roles. A role change or removal reaches the account's keys at
// once (their power is bounded by the account's role). Only owners touch the owner role, and a
// workspace always keeps at least one owner.
import type { Updateable } from 'kysely';
import type { AccountRow, AccountsTable, Db, DbOrTrx } from '../storage/database.js';
import type { KeyInvalidation } from '../verify/cache.js';
import { conflict, forbidden, notFound, validationError } from '../errors.js';
import { requireAny, type Actor } from '../domain/actor.js';
import type { Role } from '../domain/permissions.js';
import { newId } from '../domain/ids.js';
import { checkedName } from '../domain/names.js';
import { hashPassword, verifyPassword } from '../secrets/passwords.js';
import { recordPasswordFailure, refuseIfLocked, SessionService } from '../auth/service.js';
import { isUniqueViolation } from '../storage/constraint.js';
import { findAccount } from './store.js';
import { diffFields, recordChange } from '../audit/recorder.js';
import { deleteKeysOf } from '../keys/service.js';
import type { AccountResource, CreateAccountInput, UpdateAccountInput } from './schema.js';

export function toAccount(row: AccountRow): AccountResource {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

const emailTaken = (email: string) => conflict(`An account with the e-mail ${email} already exists`, 'email');

export interface AccountServiceDeps {
  db: Db;
  clock: () => number;
  invalidation: KeyInvalidation;
}

export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  async list(actor: Actor): Promise<AccountResource[]> {
    requireAny(actor, 'members:manage');
    const rows = await this.deps.db
      .selectFrom('accounts')
      .selectAll()
      .where('workspace_id', '=', actor.workspaceId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toAccount);
  }

  async get(actor: Actor, accountId: string): Promise<AccountResource> {
    if (accountId !== actor.accountId) requireAny(actor, 'members:manage');
    return toAccount(await this.find(actor, accountId));
  }

  async create(actor: Actor, input: CreateAccountInput): Promise<AccountResource> {
    requireAny(actor, 'members:manage');
    if (input.role === 'owner' && actor.role !== 'owner') throw forbidden('Only an owner can make another owner');
    const now = this.deps.clock();
    const row: AccountsTable = {
      id: newId('acc', now),
      workspace_id: actor.workspaceId,
      email: input.email.trim().toLowerCase(),
      name: checkedName(input.name),
      role: input.role,
      password_hash: input.password === undefined ? null : await hashPassword(input.password),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await trx.insertInto('accounts').values(row).execute();
        await recordChange(trx, actor, now, {
          action: 'account.created',
          targetType: 'account',
          targetId: row.id,
          changes: { email: { before: null, after: row.email }, role: { before: null, after: row.role } },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error, 'email')) throw emailTaken(row.email);
      throw error;
    }
    return toAccount(row);
  }

  async update(actor: Actor, accountId: string, input: UpdateAccountInput): Promise<AccountResource> {
    const self = accountId === actor.accountId;
    // Anyone may change their own name, e-mail and password; the rest needs members:manage.
    if (!self || input.role !== undefined) requireAny(actor, 'members:manage');
    const account = await this.find(actor, accountId);
    await checkCurrentPassword(this.deps.db, this.deps.clock(), actor, account, input);
    const roleChanges = input.role !== undefined && input.role !== account.role;
    const touchesOwner = (!self && account.role === 'owner') || (roleChanges && (account.role === 'owner' || input.role === 'owner'));
    if (touchesOwner && actor.role !== 'owner') throw forbidden('Only an owner can change an owner or make one');
    const now = this.deps.clock();
    const patch: Updateable<AccountsTable> = { updated_at: now };
    if (input.name !== undefined) patch.name = checkedName(input.name);
    if (input.email !== undefined) patch.email = input.email.trim().toLowerCase();
    if (input.role !== undefined) patch.role = input.role;
    if (input.password !== undefined) patch.password_hash = await hashPassword(input.password);
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        if (account.role === 'owner' && roleChanges) {
          await this.assertAnotherOwner(trx, account);
        }
        await trx.updateTable('accounts').set(patch).where('id', '=', account.id).execute();
        // A new password signs the account out of every dashboard session.
        if (input.password !== undefined) await SessionService.endSessionsOf(trx, account.id);
        const changes = diffFields(toAccount(account), toAccount((await findAccount(trx, actor.workspaceId, account.id))!));
        // The password itself never enters the log; that it changed does.
        if (input.password !== undefined) changes.password = { before: null, after: '(changed)' };
        if (Object.keys(changes).length > 0) {
          await recordChange(trx, actor, now, {
            action: roleChanges ? 'account.role_changed' : 'account.updated',
            targetType: 'account',
            targetId: account.id,
            changes,
          });
        }
      });
    } catch (error) {
      if (isUniqueViolation(error, 'email')) throw emailTaken(patch.email ?? account.email);
      throw error;
    }
    if (roleChanges) this.deps.invalidation.invalidateAccount(account.id);
    return toAccount((await findAccount(this.deps.db, actor.workspaceId, account.id))!);
  }

  /** Removes the account and every key it holds. */
  async delete(actor: Actor, accountId: string): Promise<void> {
    requireAny(actor, 'members:manage');
    const account = await this.find(actor, accountId);
    if (account.role === 'owner' && actor.role !== 'owner') throw forbidden('Only an owner can remove an owner');
    await this.deps.db.transaction().execute(async (trx) => {
      if (account.role === 'owner') await this.assertAnotherOwner(trx, account);
      const now = this.deps.clock();
      await deleteKeysOf(trx, actor, now, { accountId: account.id }, 'account deleted');
      await trx.deleteFrom('accounts').where('id', '=', account.id).execute();
      await recordChange(trx, actor, now, {
        action: 'account.deleted',
        targetType: 'account',
        targetId: account.id,
        changes: { email: { before: account.email, after: null }, role: { before: account.role, after: null } },
      });
    });
    this.deps.invalidation.invalidateAccount(account.id);
  }

  private async assertAnotherOwner(db: DbOrTrx, account: AccountRow): Promise<void> {
    const other = await db
      .selectFrom('accounts')
      .select('id')
      .where('workspace_id', '=', account.workspace_id)
      .where('role', '=', 'owner')
      .where('id', '!=', account.id)
      .executeTakeFirst();
    if (other === undefined) throw conflict('A workspace must keep at least one owner; make another account owner first');
  }

  private async find(actor: Actor, accountId: string): Promise<AccountRow> {
    const account = await findAccount(this.deps.db, actor.workspaceId, accountId);
    if (account === undefined) throw notFound('Account');
    return account;
  }
}

/**
 * A dashboard session changing its own password must know the current one, so a session left
 * open (or stolen) cannot lock the owner out. API keys and the root key may reset it: holding
 * them already gives this power, and the root key is how an operator recovers a lost password.
 * Wrong guesses count like failed log-ins, so a session cannot be used to guess the password fast.
 */
async function checkCurrentPassword(db: Db, now: number, actor: Actor, account: AccountRow, input: UpdateAccountInput): Promise<void> {
  if (input.currentPassword !== undefined && input.password === undefined) {
    throw validationError('currentPassword', 'currentPassword goes with a new password');
  }
  const required = input.password !== undefined && actor.credentialType === 'session' && actor.accountId === account.id && account.password_hash !== null;
  if (!required) return;
  if (input.currentPassword === undefined) throw validationError('currentPassword', 'Give your current password to set a new one');
  const subjects = [`email:${account.email}`, ...(actor.ip === null ? [] : [`ip:${actor.ip}`])];
  await refuseIfLocked(db, subjects, now);
  if (!(await verifyPassword(input.currentPassword, account.password_hash!))) {
    await recordPasswordFailure(db, subjects, now);
    throw validationError('currentPassword', 'The current password is wrong');
  }
}
