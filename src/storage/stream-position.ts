// Positions in the event stream. Readers that must not miss an event (push) order events by
// (tx, seq): on PostgreSQL `tx` is the writing transaction's id and only events of transactions
// older than the oldest one still running are read, so an event whose transaction commits late
// can never fall behind a cursor that already moved past it (a plain sequence would allow that).
// On SQLite writes are serialised, `tx` is always 0, and the order is simply `seq`.
// A row may hold many usage-log entries (usage-chunk.ts): a position is an entry's, (tx, seq,
// index), and the index END stands for the row's last entry, whatever its count.
import { sql, type ExpressionBuilder } from 'kysely';
import type { Database, DbOrTrx } from './database.js';
import type { Dialect } from './storage.js';

export interface Position {
  tx: number;
  seq: number;
  /** The entry's place within its row; END for the end of the row. */
  index: number;
}

/** The index of a position after all of its row's entries. */
export const END = Number.MAX_SAFE_INTEGER;
/** Before every event (seq starts at 1). */
export const ORIGIN: Position = { tx: 0, seq: 0, index: END };
const LAST_SEQ = Number.MAX_SAFE_INTEGER;

export function comparePositions(a: Position, b: Position): number {
  return a.tx !== b.tx ? a.tx - b.tx : a.seq !== b.seq ? a.seq - b.seq : a.index - b.index;
}

export function earliest(...positions: (Position | null)[]): Position {
  return positions.filter((p): p is Position => p !== null).reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b));
}

/**
 * The last position whose events are all committed and visible: everything up to it can be read
 * now and nothing will appear at or before it later.
 */
export async function horizon(db: DbOrTrx, dialect: Dialect): Promise<Position> {
  if (dialect === 'postgres') {
    const row = await sql<{ xmin: number }>`select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as xmin`.execute(db);
    return { tx: Number(row.rows[0]!.xmin) - 1, seq: LAST_SEQ, index: END };
  }
  const row = await db.selectFrom('events').select(sql<number | null>`max(seq)`.as('seq')).executeTakeFirst();
  return { tx: 0, seq: Number(row?.seq ?? 0), index: END };
}

/**
 * The last position any event recorded so far can have, committed or still in flight: the end of
 * "everything before now". Readers reach it once the transactions below it have ended
 * (`readable`). On PostgreSQL the horizon alone would leave out events already committed by
 * transactions newer than the oldest one still running anywhere on the server.
 */
export async function frontier(db: DbOrTrx, dialect: Dialect): Promise<Position> {
  if (dialect === 'postgres') {
    const row = await sql<{ xmax: number }>`select pg_snapshot_xmax(pg_current_snapshot())::text::bigint as xmax`.execute(db);
    return { tx: Number(row.rows[0]!.xmax) - 1, seq: LAST_SEQ, index: END };
  }
  return horizon(db, dialect);
}

/** The last position a reader may read up to now (on SQLite, everything written is final). */
export async function readable(db: DbOrTrx, dialect: Dialect): Promise<Position> {
  return dialect === 'postgres' ? horizon(db, dialect) : { tx: 0, seq: LAST_SEQ, index: END };
}

/** A position stored as nullable columns; without an index, the end of the row. */
export function position(tx: number | null, seq: number | null, index: number | null = null): Position | null {
  return tx === null || seq === null ? null : { tx: Number(tx), seq: Number(seq), index: index === null ? END : Number(index) };
}

/** The index column of a stored position: null for the end of the row. */
export function indexColumn(at: Position): number | null {
  return at.index === END ? null : at.index;
}

/** Rows that may hold entries strictly after `after` and at or before `until`: `after`'s own row
 * too when the position is within it. Pick the entries out with `isBetween`. */
export function between(eb: ExpressionBuilder<Database, 'events'>, after: Position, until: Position) {
  const from = after.index === END ? sql<boolean>`(tx, seq) > (${after.tx}, ${after.seq})` : sql<boolean>`(tx, seq) >= (${after.tx}, ${after.seq})`;
  return eb.and([from, sql<boolean>`(tx, seq) <= (${until.tx}, ${until.seq})`]);
}

/** Whether an entry lies strictly after `after` and at or before `until`. */
export function isBetween(entry: Position, after: Position, until: Position): boolean {
  return comparePositions(entry, after) > 0 && comparePositions(entry, until) <= 0;
}
