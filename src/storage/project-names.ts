// The read thread's copy of projects' key names, for search totals on SQLite. Counting a search's
// matches in SQL scans the project's names with a LIKE per piece: ~20 ms at 100,000 keys on the
// bench machine, on every search. Here the names are read once (one group_concat, about as long)
// and kept as a NameList, until migration 0013's version says they changed; a search then looks
// for its pieces in memory (100,000 keys: 1.7 ms for "checkuot", 6.4 ms for "integraton", against
// 17 and 24 ms in SQL; scratch timings, one run). Only names are kept, never a search's answer:
// every search still counts its own matches.
import type SQLite from 'better-sqlite3';
import { NAME_SEPARATOR, countMatches, nameList, type NameList } from '../domain/search.js';

/** Characters kept for all projects of one store together (about one byte each for ASCII names:
 * 1,000,000 names of the bench's kind hold ~24 million). The least recently searched go first. */
export const MAX_KEPT_CHARS = 64_000_000;

interface Kept {
  version: number;
  /** Null when a stored name holds NAME_SEPARATOR (written before names were checked): such a
   * project's searches are counted in SQL. */
  list: NameList | null;
  chars: number;
}

export class ProjectNames {
  private readonly kept = new Map<string, Kept>();
  private keptChars = 0;
  private readonly version: SQLite.Statement<[string], number>;
  private readonly names: SQLite.Statement<[string], { count: number; names: string | null }>;
  private readonly read: (projectId: string) => { version: number; list: NameList | null } | null;

  constructor(file: SQLite.Database, private readonly maxChars = MAX_KEPT_CHARS) {
    this.version = file.prepare<[string], number>('select names_version from project_key_counts where project_id = ?').pluck();
    this.names = file.prepare(`select count(*) as count, group_concat(name, '${NAME_SEPARATOR}') as names from api_keys where project_id = ?`);
    // The version and the names it stands for from one snapshot.
    this.read = file.transaction((projectId: string) => {
      const version = this.version.get(projectId);
      if (version === undefined) return null;
      const { count, names } = this.names.get(projectId)!;
      if (names === null) return { version, list: { text: '', starts: new Int32Array([1]) } }; // no keys
      const list = nameList(names);
      return { version, list: list.starts.length - 1 === count ? list : null };
    });
  }

  /** How many of the project's keys `nameMatcher(query)` accepts; null when the project has no
   * kept version (then the caller counts in SQL), or a name that cannot be kept. */
  count(projectId: string, query: string): number | null {
    const list = this.list(projectId);
    return list === null ? null : countMatches(query, list);
  }

  private list(projectId: string): NameList | null {
    const kept = this.kept.get(projectId);
    if (kept !== undefined) {
      this.forget(projectId, kept);
      if (kept.version === this.version.get(projectId)) {
        this.keep(projectId, kept); // now the most recently used
        return kept.list;
      }
    }
    const fresh = this.read(projectId);
    if (fresh === null) return null;
    const chars = fresh.list?.text.length ?? 0;
    if (chars <= this.maxChars) {
      for (const [id, old] of this.kept) {
        if (this.keptChars + chars <= this.maxChars) break;
        this.forget(id, old);
      }
      this.keep(projectId, { ...fresh, chars });
    }
    return fresh.list;
  }

  private keep(projectId: string, kept: Kept): void {
    this.kept.set(projectId, kept);
    this.keptChars += kept.chars;
  }

  private forget(projectId: string, kept: Kept): void {
    this.kept.delete(projectId);
    this.keptChars -= kept.chars;
  }
}
