// Project persistence.
import type { DbOrTrx, ProjectRow } from '../storage/database.js';

export async function findProject(db: DbOrTrx, workspaceId: string, projectId: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('id', '=', projectId).where('workspace_id', '=', workspaceId).executeTakeFirst();
}
