// Account persistence.
import type { AccountRow, DbOrTrx } from '../storage/database.js';

export async function findAccount(db: DbOrTrx, workspaceId: string, accountId: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', accountId).where('workspace_id', '=', workspaceId).executeTakeFirst();
}
