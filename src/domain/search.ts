// Fuzzy name search (SensorsData "supports fuzzy search"): case-insensitive substring match, and
// for queries of 3+ characters a match of some part of the name within a small edit distance
// (insert, delete, substitute, or swap two neighbours), so a one-character typo still finds a key.

/** Edits tolerated for a query of this length (0 = substring only). */
export function allowedEdits(queryLength: number): number {
  if (queryLength < 3) return 0;
  if (queryLength <= 8) return 1;
  return 2;
}

export function normalizeQuery(query: string): string {
  return query.trim().toLowerCase();
}

/**
 * True when some substring of `text` is within `maxEdits` of `pattern` (Sellers' approximate
 * substring matching with the optimal-string-alignment transposition). Both already lowercased.
 */
export function approximateSubstring(pattern: string, text: string, maxEdits: number): boolean {
  const m = pattern.length;
  if (m === 0) return true;
  if (maxEdits === 0) return text.includes(pattern);
  // Three rolling columns over the pattern, one per text position; row 0 is 0 (a match may start anywhere).
  let before = new Array<number>(m + 1).fill(0);
  let previous = new Array<number>(m + 1);
  let current = new Array<number>(m + 1);
  for (let i = 0; i <= m; i++) previous[i] = i;
  if (previous[m]! <= maxEdits) return true;
  for (let j = 1; j <= text.length; j++) {
    const textChar = text.charCodeAt(j - 1);
    current[0] = 0;
    for (let i = 1; i <= m; i++) {
      const patternChar = pattern.charCodeAt(i - 1);
      const cost = patternChar === textChar ? 0 : 1;
      let best = Math.min(previous[i - 1]! + cost, previous[i]! + 1, current[i - 1]! + 1);
      if (i > 1 && j > 1 && patternChar === text.charCodeAt(j - 2) && pattern.charCodeAt(i - 2) === textChar) {
        best = Math.min(best, before[i - 2]! + 1);
      }
      current[i] = best;
    }
    if (current[m]! <= maxEdits) return true;
    [before, previous, current] = [previous, current, before];
  }
  return false;
}

/**
 * The search predicate used by key lists, for one query (the raw text typed by the user) and many
 * names, with the query's work done once. Before the
 * edit-distance check a name must contain all but `edits` of the query's characters (counted
 * with repeats): an insertion or a swap loses none of them, a deletion or substitution one, so a
 * name missing more cannot match. Most names of a large project fail this cheap count.
 */
export function nameMatcher(query: string): (name: string) => boolean {
  const pattern = normalizeQuery(query);
  if (pattern.length === 0) return () => true;
  const edits = allowedEdits(pattern.length);
  // Each distinct pattern character gets a slot holding how often the pattern has it.
  const slotOf = new Map<number, number>();
  const wanted: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const code = pattern.charCodeAt(i);
    const slot = slotOf.get(code);
    if (slot === undefined) {
      slotOf.set(code, wanted.length);
      wanted.push(1);
    } else wanted[slot]!++;
  }
  const ascii = new Int16Array(128).fill(-1);
  for (const [code, slot] of slotOf) if (code < 128) ascii[code] = slot;
  const left = new Int32Array(wanted.length);
  return (name: string) => {
    const text = name.toLowerCase();
    if (text.includes(pattern)) return true;
    if (edits === 0) return false;
    left.set(wanted);
    let found = 0;
    for (let j = 0; j < text.length && found < pattern.length; j++) {
      const code = text.charCodeAt(j);
      const slot = code < 128 ? ascii[code]! : (slotOf.get(code) ?? -1);
      if (slot >= 0 && left[slot]! > 0) {
        left[slot]!--;
        found++;
      }
    }
    if (pattern.length - found > edits) return false;
    return approximateSubstring(pattern, text, edits);
  };
}

/** Shortest piece worth a substring condition (what a trigram index can serve). */
const MIN_PIECE = 3;

/**
 * Substrings of which every name matching `query` contains at least one: a cheap condition a
 * database can test (with a trigram index on PostgreSQL) before the exact check above. The query
 * is cut into edits + 1 pieces, each shortened by a character at every cut, so no single edit,
 * not even a swap of the two characters around a cut, breaks more than one piece. Null when the
 * pieces would be too short to narrow anything (then every name is a candidate).
 */
export function searchPieces(query: string): string[] | null {
  const pattern = normalizeQuery(query);
  const edits = allowedEdits(pattern.length);
  if (edits === 0) return pattern.length === 0 ? null : [pattern];
  const parts = edits + 1;
  const pieces: string[] = [];
  for (let i = 0; i < parts; i++) {
    const from = Math.round((i * pattern.length) / parts) + (i > 0 ? 1 : 0);
    const to = Math.round(((i + 1) * pattern.length) / parts) - (i < parts - 1 ? 1 : 0);
    pieces.push(pattern.slice(from, to));
  }
  return pieces.every((piece) => piece.length >= MIN_PIECE) ? pieces : null;
}
