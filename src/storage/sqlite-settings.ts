// What every connection to the SQLite file sets for itself: the main thread's and the usage
// writer thread's (WAL is kept in the file; the main thread sets it, and foreign keys, which only
// its writes need).
import type SQLite from 'better-sqlite3';

/**
 * No memory map (`mmap_size`): at 1M keys it made a cache-miss record query alone 42 -> 25.5 us,
 * but the bench's verify loads of 1,000 keys in turn (every verify a miss, usage logs on) fell from
 * 6,940 to 4,898-4,993 req/s (two runs against one before). Likely, though not checked: the
 * file grows as usage rows are checkpointed into it, SQLite maps it anew, and its pages fault in
 * again.
 */
export function connectionSettings(file: SQLite.Database): void {
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
}
