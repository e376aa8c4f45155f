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

/** The search predicate used by key lists: `query` is the raw text typed by the user. */
export function nameMatches(query: string, name: string): boolean {
  const pattern = normalizeQuery(query);
  if (pattern.length === 0) return true;
  const text = name.toLowerCase();
  if (text.includes(pattern)) return true;
  return approximateSubstring(pattern, text, allowedEdits(pattern.length));
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
