// SQLite: each project's number of keys, kept by triggers, so an unfiltered key list reads its
// total instead of counting the project's keys (100,000 keys: ~15 ms a list on the bench machine).
// Triggers keep it whoever writes: the server, the CLI, a bulk load straight into the file.
// PostgreSQL still counts: there each key creation's trigger would hold a lock on the project's
// count row until it commits, so creations in one project would go one at a time across all nodes.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await db.schema
    .createTable('project_key_counts')
    .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id').onDelete('cascade'))
    .addColumn('keys', 'integer', (c) => c.notNull())
    .execute();
  await sql`insert into project_key_counts (project_id, keys)
    select id, (select count(*) from api_keys where api_keys.project_id = projects.id) from projects`.execute(db);
  await sql`create trigger projects_key_count after insert on projects begin
    insert into project_key_counts (project_id, keys) values (new.id, 0);
  end`.execute(db);
  await sql`create trigger api_keys_count_insert after insert on api_keys begin
    update project_key_counts set keys = keys + 1 where project_id = new.project_id;
  end`.execute(db);
  await sql`create trigger api_keys_count_delete after delete on api_keys begin
    update project_key_counts set keys = keys - 1 where project_id = old.project_id;
  end`.execute(db);
  await sql`create trigger api_keys_count_move after update of project_id on api_keys when new.project_id <> old.project_id begin
    update project_key_counts set keys = keys - 1 where project_id = old.project_id;
    update project_key_counts set keys = keys + 1 where project_id = new.project_id;
  end`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  for (const trigger of ['projects_key_count', 'api_keys_count_insert', 'api_keys_count_delete', 'api_keys_count_move']) {
    await sql`drop trigger if exists ${sql.id(trigger)}`.execute(db);
  }
  await db.schema.dropTable('project_key_counts').execute();
}
