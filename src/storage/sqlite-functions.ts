// JavaScript functions registered on the SQLite connection, for queries that would otherwise read
// every row into JavaScript to test it there. PostgreSQL has no counterpart: its queries do without.
import type SQLite from 'better-sqlite3';
import { nameMatcher } from '../domain/search.js';

/** `keyward_name_matches(query, name)`: 1 when `name` matches the fuzzy search `query` (nameMatcher), else 0. */
export const NAME_MATCHES = 'keyward_name_matches';

export function registerSqliteFunctions(file: SQLite.Database): void {
  // A search calls this once per candidate row, always with the same query: build its matcher once.
  let query: string | undefined;
  let matches = nameMatcher('');
  file.function(NAME_MATCHES, { deterministic: true }, (searchQuery: string, name: string) => {
    if (searchQuery !== query) {
      query = searchQuery;
      matches = nameMatcher(searchQuery);
    }
    return matches(name) ? 1 : 0;
  });
}
