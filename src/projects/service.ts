// Projects: the applications of a workspace. They define the scopes their keys may carry, the
// token prefix, the per-account key limit and whether tokens are recoverable.
import type { Db, ProjectRow, ProjectsTable } from '../storage/database.js';
import type { KeyInvalidation } from '../verify/cache.js';
import { conflict, notFound } from '../errors.js';
import { requireAny, type Actor } from '../domain/actor.js';
import { ADMIN_SCOPE, DEFAULT_PROJECT_SCOPES, uniqueScopes } from '../domain/permissions.js';
import { DEFAULT_PREFIX } from '../domain/token.js';
import { newId } from '../domain/ids.js';
import { checkedName } from '../domain/names.js';
import { isUniqueViolation } from '../storage/constraint.js';
import type { Updateable } from 'kysely';
import { findProject } from './store.js';
import { diffFields, recordChange } from '../audit/recorder.js';
import { deleteKeysOf } from '../keys/service.js';
import type { CreateProjectInput, ProjectResource, UpdateProjectInput } from './schema.js';

export const DEFAULT_MAX_KEYS_PER_ACCOUNT = 10;

export function toProject(row: ProjectRow): ProjectResource {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as string[],
    maxKeysPerAccount: row.max_keys_per_account,
    recoverable: row.recoverable === 1,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

/** `admin` is built in: listing it again is harmless, so it is dropped rather than refused. */
function projectScopes(scopes: readonly string[]): string[] {
  return uniqueScopes(scopes).filter((scope) => scope !== ADMIN_SCOPE);
}

function duplicateName(name: string) {
  return conflict(`A project named '${name}' already exists in this workspace`, 'name');
}

export interface ProjectServiceDeps {
  db: Db;
  clock: () => number;
  invalidation: KeyInvalidation;
}

export class ProjectService {
  constructor(private readonly deps: ProjectServiceDeps) {}

  async list(actor: Actor): Promise<ProjectResource[]> {
    const rows = await this.deps.db
      .selectFrom('projects')
      .selectAll()
      .where('workspace_id', '=', actor.workspaceId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toProject);
  }

  async get(actor: Actor, projectId: string): Promise<ProjectResource> {
    return toProject(await this.find(actor, projectId));
  }

  async create(actor: Actor, input: CreateProjectInput): Promise<ProjectResource> {
    requireAny(actor, 'projects:manage');
    const now = this.deps.clock();
    const row: ProjectsTable = {
      id: newId('proj', now),
      workspace_id: actor.workspaceId,
      name: checkedName(input.name),
      prefix: input.prefix ?? DEFAULT_PREFIX,
      scopes: JSON.stringify(projectScopes(input.scopes ?? DEFAULT_PROJECT_SCOPES)),
      max_keys_per_account: input.maxKeysPerAccount ?? DEFAULT_MAX_KEYS_PER_ACCOUNT,
      recoverable: input.recoverable === true ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await trx.insertInto('projects').values(row).execute();
        await recordChange(trx, actor, now, { action: 'project.created', targetType: 'project', targetId: row.id, projectId: row.id });
      });
    } catch (error) {
      if (isUniqueViolation(error, 'name')) throw duplicateName(row.name);
      throw error;
    }
    return toProject(row);
  }

  async update(actor: Actor, projectId: string, input: UpdateProjectInput): Promise<ProjectResource> {
    requireAny(actor, 'projects:manage');
    const project = await this.find(actor, projectId);
    const now = this.deps.clock();
    const patch: Updateable<ProjectsTable> = { updated_at: now };
    if (input.name !== undefined) patch.name = checkedName(input.name);
    if (input.scopes !== undefined) patch.scopes = JSON.stringify(projectScopes(input.scopes));
    if (input.prefix !== undefined) patch.prefix = input.prefix;
    if (input.maxKeysPerAccount !== undefined) patch.max_keys_per_account = input.maxKeysPerAccount;
    if (input.recoverable !== undefined) patch.recoverable = input.recoverable ? 1 : 0;
    let updated: ProjectResource | undefined;
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        await trx.updateTable('projects').set(patch).where('id', '=', project.id).execute();
        updated = toProject((await findProject(trx, actor.workspaceId, project.id))!);
        const changes = diffFields(toProject(project), updated);
        if (Object.keys(changes).length > 0) {
          await recordChange(trx, actor, now, { action: 'project.updated', targetType: 'project', targetId: project.id, projectId: project.id, changes });
        }
      });
    } catch (error) {
      if (isUniqueViolation(error, 'name')) throw duplicateName(patch.name ?? project.name);
      throw error;
    }
    // Removing a scope from the project removes it from every key's effective scopes at once.
    if (input.scopes !== undefined) this.deps.invalidation.invalidateProject(project.id);
    return updated!;
  }

  async delete(actor: Actor, projectId: string, force: boolean): Promise<void> {
    requireAny(actor, 'projects:manage');
    const project = await this.find(actor, projectId);
    await this.deps.db.transaction().execute(async (trx) => {
      const { count } = await trx
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('project_id', '=', project.id)
        .executeTakeFirstOrThrow();
      if (Number(count) > 0 && !force) {
        throw conflict(`The project still has ${Number(count)} keys; delete them first or pass force=true to delete them with it`);
      }
      if (actor.credentialKeyId !== null) {
        const own = await trx.selectFrom('api_keys').select('id').where('id', '=', actor.credentialKeyId).where('project_id', '=', project.id).executeTakeFirst();
        if (own !== undefined) throw conflict('This project holds the key you are calling with; use another credential to delete it');
      }
      const now = this.deps.clock();
      await deleteKeysOf(trx, actor, now, { projectId: project.id }, 'project deleted');
      await trx.deleteFrom('projects').where('id', '=', project.id).execute();
      await recordChange(trx, actor, now, {
        action: 'project.deleted',
        targetType: 'project',
        targetId: project.id,
        projectId: project.id,
        changes: { name: { before: project.name, after: null }, keys: { before: Number(count), after: 0 } },
      });
    });
    this.deps.invalidation.invalidateProject(project.id);
  }

  private async find(actor: Actor, projectId: string): Promise<ProjectRow> {
    const project = await findProject(this.deps.db, actor.workspaceId, projectId);
    if (project === undefined) throw notFound('Project');
    return project;
  }
}
