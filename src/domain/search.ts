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

/** Longest pattern the bit-parallel matcher takes: one bit per pattern character in a 32-bit integer. */
export const WORD_BITS = 32;

/**
 * `(text, from, to) => approximateSubstring(pattern, text.slice(from, to).toLowerCase(), maxEdits)`
 * for a lowercased pattern of 1 to WORD_BITS characters, several times faster and without the copy: a column of the same table per character
 * in a few word operations instead of one cell per pattern character. Myers' bit-vector algorithm
 * (1999) in Hyyrö's formulation, with his extension for the transposition of two neighbours
 * (Hyyrö 2002). Bit i stands for pattern row i + 1; the vertical (vp/vn) and horizontal (hp/hn)
 * vectors hold the +1/-1 differences between neighbouring cells, and `distance` follows the last
 * row: the best match ending at the current character. The name is lowercased on the way, ASCII
 * through the masks (no copy), anything else by starting over on `toLowerCase()`, which can change
 * more than one character's case.
 */
export function bitParallelRangeMatcher(pattern: string, maxEdits: number): (text: string, from: number, to: number) => boolean {
  const m = pattern.length;
  if (m <= maxEdits) return () => true; // even the empty substring is close enough
  // Where each character occurs in the pattern, as a bit mask; an upper-case ASCII letter has
  // its lower-case letter's mask.
  const asciiMasks = new Int32Array(128);
  const otherMasks = new Map<number, number>();
  for (let i = 0; i < m; i++) {
    const code = pattern.charCodeAt(i);
    if (code < 128) asciiMasks[code]! |= 1 << i;
    else otherMasks.set(code, (otherMasks.get(code) ?? 0) | (1 << i));
  }
  for (let upper = 65; upper <= 90; upper++) asciiMasks[upper] = asciiMasks[upper + 32]!;
  const lastRow = 1 << (m - 1);
  const matches = (text: string, from: number, to: number, lowered: boolean): boolean => {
    // Column 0 counts down the pattern (+1 per row); row 0 is 0 everywhere, as a match may start
    // anywhere, so no horizontal difference enters at the bottom bit. Bits above row m carry
    // garbage that only ever moves upwards (shifts, carries) and is never read.
    let vp = -1;
    let vn = 0;
    let distance = m;
    let previousDiagonal = 0;
    let previousMask = 0;
    for (let j = from; j < to; j++) {
      const code = text.charCodeAt(j);
      let mask: number;
      if (code < 128) mask = asciiMasks[code]!;
      else if (!lowered) {
        const lowerCased = text.slice(from, to).toLowerCase();
        return matches(lowerCased, 0, lowerCased.length, true);
      }
      else mask = otherMasks.get(code) ?? 0;
      // Rows where swapping this and the previous character continues an equal diagonal.
      const swap = ((~previousDiagonal & mask) << 1) & previousMask;
      // Rows whose cell equals its upper-left neighbour (a match, a swap, or a carried difference).
      const diagonal = (((mask & vp) + vp) ^ vp) | mask | vn | swap;
      const hp = vn | ~(diagonal | vp);
      const hn = vp & diagonal;
      if ((hp & lastRow) !== 0) distance++;
      else if ((hn & lastRow) !== 0) distance--;
      if (distance <= maxEdits) return true;
      const hpShifted = hp << 1;
      const hnShifted = hn << 1;
      vp = hnShifted | ~(diagonal | hpShifted);
      vn = hpShifted & diagonal;
      previousDiagonal = diagonal;
      previousMask = mask;
    }
    return false;
  };
  return (text, from, to) => matches(text, from, to, false);
}

/** `(name) => approximateSubstring(pattern, name.toLowerCase(), maxEdits)`: bitParallelRangeMatcher on a whole name. */
export function bitParallelMatcher(pattern: string, maxEdits: number): (name: string) => boolean {
  const inRange = bitParallelRangeMatcher(pattern, maxEdits);
  return (name) => inRange(name, 0, name.length);
}

/**
 * The search predicate used by key lists, for one query (the raw text typed by the user) and many
 * names, with the query's work done once.
 */
export function nameMatcher(query: string): (name: string) => boolean {
  const pattern = normalizeQuery(query);
  if (pattern.length === 0) return () => true;
  const edits = allowedEdits(pattern.length);
  if (edits === 0) return (name) => name.toLowerCase().includes(pattern);
  if (pattern.length <= WORD_BITS) return bitParallelMatcher(pattern, edits);
  const approximate = countingMatcher(pattern, edits);
  return (name) => {
    const text = name.toLowerCase();
    return text.includes(pattern) || approximate(text);
  };
}

/** Between the names of a NameList's text: a control character, which no name may contain
 * (NAME_PATTERN). */
export const NAME_SEPARATOR = '\n';

/**
 * Many names as one lowercased string, so a search counts its matches without a string per name:
 * name i is `text.slice(starts[i], starts[i + 1] - 1)`, and `starts` ends with `text.length + 1`.
 */
export interface NameList {
  text: string;
  starts: Int32Array;
}

/** The NameList of `joined`: names separated by NAME_SEPARATOR (as SQLite's group_concat gives
 * them). Lowercased whole: the same as each name on its own, as lowercasing never looks past a
 * line break (final sigma stops at it) and can make a name longer but never holds a line break. */
export function nameList(joined: string): NameList {
  const text = joined.toLowerCase();
  let names = 1;
  for (let at = text.indexOf(NAME_SEPARATOR); at >= 0; at = text.indexOf(NAME_SEPARATOR, at + 1)) names++;
  const starts = new Int32Array(names + 1);
  let i = 1;
  for (let at = text.indexOf(NAME_SEPARATOR); at >= 0; at = text.indexOf(NAME_SEPARATOR, at + 1)) starts[i++] = at + 1;
  starts[names] = text.length + 1;
  return { text, starts };
}

/**
 * How many names of `list` `nameMatcher(query)` accepts. Only names holding one of the query's
 * searchPieces reach the matcher (found with indexOf in the whole text, several times faster than
 * testing each name); all of them when it has none.
 */
export function countMatches(query: string, list: NameList): number {
  const { text, starts } = list;
  const names = starts.length - 1;
  const pattern = normalizeQuery(query);
  if (pattern.length === 0) return names;
  const edits = allowedEdits(pattern.length);
  // The text is lowercased already; the matchers lowercase again, which changes nothing.
  let matches: (text: string, from: number, to: number) => boolean;
  if (edits > 0 && pattern.length <= WORD_BITS) matches = bitParallelRangeMatcher(pattern, edits);
  else {
    const matchesName = nameMatcher(query);
    matches = (text, from, to) => matchesName(text.slice(from, to));
  }
  let count = 0;
  const pieces = searchPieces(query);
  if (pieces === null) {
    for (let i = 0; i < names; i++) if (matches(text, starts[i]!, starts[i + 1]! - 1)) count++;
    return count;
  }
  const seen = new Uint8Array(names);
  for (const piece of pieces) {
    // Occurrences come in order, so the name holding each is found by walking `starts` forward;
    // after one, the next is looked for from the following name on.
    let name = 0;
    for (let at = text.indexOf(piece); at >= 0; at = text.indexOf(piece, starts[name + 1])) {
      while (starts[name + 1]! <= at) name++;
      if (seen[name] === 1) continue;
      seen[name] = 1;
      if (matches(text, starts[name]!, starts[name + 1]! - 1)) count++;
    }
  }
  return count;
}

/**
 * How many of the names in `joined` (separated by NAME_SEPARATOR) there are, and how many of them
 * `nameMatcher(query)` accepts: the count of a search over a long list read from the database as
 * one string (SQLite's group_concat), so neither a call per row from SQL nor a string per name.
 */
export function countMatchingNames(query: string, joined: string): { names: number; matches: number } {
  const list = nameList(joined);
  return { names: list.starts.length - 1, matches: countMatches(query, list) };
}

/**
 * approximateSubstring for patterns too long for one word, behind a cheap filter: a name must
 * contain all but `edits` of the query's characters (counted with repeats): an insertion or a
 * swap loses none of them, a deletion or substitution one, so a name missing more cannot match.
 */
function countingMatcher(pattern: string, edits: number): (text: string) => boolean {
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
  return (text: string) => {
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

/** Shortest piece worth a substring condition. A trigram index (PostgreSQL) serves only pieces
 * of three or more; a shorter one still narrows what reaches the matcher where names are scanned
 * anyway (SQLite, or PostgreSQL when a piece is short), and one character narrows next to nothing. */
const MIN_PIECE = 2;

/**
 * Substrings of which every name matching `query` contains at least one: a cheap condition a
 * database can test (with a trigram index on PostgreSQL) before the exact check above. The query
 * is cut into edits + 1 pieces with one character left out at every cut (the gap), so no single
 * edit breaks more than one piece: a substitution, deletion or insertion touches one piece or a
 * gap, and a swap of two neighbours either lies within a piece or pairs a gap with the piece on
 * one side of it. With `edits` edits one piece is left whole, and it occurs in the name as is.
 * Null when a piece would be too short to narrow anything, or holds a character outside ASCII
 * (the databases' LIKE ignores only ASCII case, the matcher any case): then every name is a
 * candidate.
 */
export function searchPieces(query: string): string[] | null {
  const pattern = normalizeQuery(query);
  const edits = allowedEdits(pattern.length);
  if (edits === 0) return pattern.length === 0 || !ASCII.test(pattern) ? null : [pattern];
  const parts = edits + 1;
  const kept = pattern.length - edits; // characters in pieces: all but one gap per cut
  const pieces: string[] = [];
  for (let i = 0; i < parts; i++) {
    const from = Math.round((i * kept) / parts) + i;
    const to = Math.round(((i + 1) * kept) / parts) + i;
    pieces.push(pattern.slice(from, to));
  }
  return pieces.every((piece) => piece.length >= MIN_PIECE && ASCII.test(piece)) ? pieces : null;
}

/**
 * The LIKE pattern (a backslash escapes) that finds the names holding `piece` (from searchPieces).
 * The databases' LIKE, and PostgreSQL's lower() in a C locale, fold ASCII case only, while the
 * matcher lowercases every character, and two characters outside ASCII lowercase into ASCII: the
 * Kelvin sign into "k", and "İ" into "i" and a combining dot. So a "k" matches any one character,
 * and so does an "i" that ends the piece; an "i" inside a piece is followed by an ASCII character,
 * never by the dot, so it is an "i" or "I" in the name.
 */
export function likePattern(piece: string): string {
  let pattern = piece.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/k/g, '_');
  if (pattern.endsWith('i')) pattern = `${pattern.slice(0, -1)}_`;
  return `%${pattern}%`;
}

/** Nothing outside ASCII (names hold no control characters, so printable ASCII is enough). */
const ASCII = /^[\x20-\x7e]*$/;
