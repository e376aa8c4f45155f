// SQLite: a version of each project's key names, moved on by the triggers of 0012 and by a rename,
// so the read thread may keep a project's names in memory for searches (project-names.ts) and
// knows with one indexed read whether they are still the stored ones. Kept by triggers, like the
// count, whoever writes. PostgreSQL has no such table (see 0012).
import { PostgresAdapter, sql, type Kysely } from 'kysely';

/** 0012's triggers, with `also` added to each update of a project's row. */
function countTriggers(also: string): string[] {
  return [
    `create trigger api_keys_count_insert after insert on api_keys begin
      update project_key_counts set keys = keys + 1${also} where project_id = new.project_id;
    end`,
    `create trigger api_keys_count_delete after delete on api_keys begin
      update project_key_counts set keys = keys - 1${also} where project_id = old.project_id;
    end`,
    `create trigger api_keys_count_move after update of project_id on api_keys when new.project_id <> old.project_id begin
      update project_key_counts set keys = keys - 1${also} where project_id = old.project_id;
      update project_key_counts set keys = keys + 1${also} where project_id = new.project_id;
    end`,
  ];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function replaceCountTriggers(db: Kysely<any>, also: string): Promise<void> {
  for (const trigger of ['api_keys_count_insert', 'api_keys_count_delete', 'api_keys_count_move']) await sql`drop trigger ${sql.id(trigger)}`.execute(db);
  for (const trigger of countTriggers(also)) await sql.raw(trigger).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await db.schema.alterTable('project_key_counts').addColumn('names_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await replaceCountTriggers(db, ', names_version = names_version + 1');
  await sql`create trigger api_keys_names_rename after update of name on api_keys when new.name is not old.name begin
    update project_key_counts set names_version = names_version + 1 where project_id = new.project_id;
  end`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`drop trigger api_keys_names_rename`.execute(db);
  await replaceCountTriggers(db, '');
  await db.schema.alterTable('project_key_counts').dropColumn('names_version').execute();
}
