import { describe, expect, it } from 'vitest';
import { NAME_SEPARATOR, WORD_BITS, allowedEdits, approximateSubstring, bitParallelMatcher, countMatchingNames, likePattern, nameMatcher, normalizeQuery, searchPieces } from './search.js';

const nameMatches = (query: string, name: string) => nameMatcher(query)(name);

describe('nameMatcher: one name', () => {
  it.each([
    ['prod', 'Production backend', true],
    ['PROD', 'production', true],
    ['', 'anything', true],
    ['  back ', 'Production backend', true],
    ['prodcution', 'Production backend', true], // swapped neighbours
    ['producton', 'Production backend', true], // one missing
    ['prodxuction', 'Production backend', true], // one extra
    ['pruduction', 'Production backend', true], // one substituted
    ['backedn', 'Production backend', true],
    ['stagign', 'staging key', true],
    ['xyz', 'Production backend', false],
    ['prd', 'Production backend', true], // within one edit of "pro"
    ['qq', 'Production', false], // short queries: substring only
    ['nightly', 'Production backend', false],
    ['api key name 2022', 'API Key name 20220715165727', true],
    ['🔑', 'my 🔑 key', true],
  ])('%j in %j → %s', (query, name, expected) => {
    expect(nameMatches(query, name)).toBe(expected);
  });

  it('is a true approximate substring matcher', () => {
    expect(approximateSubstring('abc', 'xxabcxx', 0)).toBe(true);
    expect(approximateSubstring('abd', 'xxabcxx', 1)).toBe(true);
    expect(approximateSubstring('adb', 'xxabdxx', 1)).toBe(true);
    expect(approximateSubstring('axyz', 'abcd', 1)).toBe(false);
  });
});

describe('searchPieces', () => {
  it.each([
    ['', null],
    ['ab', ['ab']],
    ['é', null], // the databases' LIKE would not match É
    ['abc', null], // one edit allowed, pieces would be too short
    ['abcd', null],
    ['abcde', ['ab', 'de']],
    ['production', ['pro', 'uc', 'ion']], // two edits: three pieces, a gap at each cut
    ['abcdefgh', ['abcd', 'fgh']],
    ['ABCDEFGHIJKLMNOPQ', ['abcde', 'ghijk', 'mnopq']],
    ['chloé laptop', null], // a piece outside ASCII
    ['laptop chloé', null],
  ])('%j → %j', (query, expected) => {
    expect(searchPieces(query)).toEqual(expected);
  });

  // The guarantee behind the narrowing: any name that matches contains one of the pieces.
  it('never excludes a true match (every single edit of a query, incl. swaps at every position)', () => {
    const query = 'abcdefghijklmnop';
    const pieces = searchPieces(query)!;
    const variants = new Set<string>();
    const letters = 'xyz';
    for (let i = 0; i <= query.length; i++) {
      for (const c of letters) variants.add(query.slice(0, i) + c + query.slice(i)); // insert
      if (i < query.length) {
        variants.add(query.slice(0, i) + query.slice(i + 1)); // delete
        for (const c of letters) variants.add(query.slice(0, i) + c + query.slice(i + 1)); // substitute
      }
      if (i < query.length - 1) variants.add(query.slice(0, i) + query[i + 1] + query[i] + query.slice(i + 2)); // swap
    }
    for (const variant of variants) {
      const name = `key ${variant} name`;
      if (!nameMatches(query, name)) continue;
      expect(pieces.some((piece) => name.toLowerCase().includes(piece)), name).toBe(true);
    }
    // Two independent edits (the allowance for 16 characters) are covered too.
    const twice = 'aXcdefghiYklmnop';
    expect(nameMatches(query, twice)).toBe(true);
    expect(pieces.some((piece) => twice.toLowerCase().includes(piece))).toBe(true);
  });

  it('never excludes a true match: random queries, each with as many random edits as it allows (swaps across gaps too), in random names', () => {
    const random = randomSource(29);
    const alphabet = 'abcdefghij -';
    const pick = () => alphabet[Math.floor(random() * alphabet.length)]!;
    let narrowed = 0;
    let matched = 0;
    for (let q = 0; q < 3_000; q++) {
      const query = randomWord(random, 'abcdefghij', 3, 20);
      const pieces = searchPieces(query);
      if (pieces === null) continue;
      narrowed++;
      let variant = query;
      for (let e = allowedEdits(query.length); e > 0; e--) {
        const at = Math.floor(random() * variant.length);
        const kind = Math.floor(random() * 4);
        if (kind === 0) variant = variant.slice(0, at) + pick() + variant.slice(at); // insert
        else if (kind === 1) variant = variant.slice(0, at) + variant.slice(at + 1); // delete
        else if (kind === 2) variant = variant.slice(0, at) + pick() + variant.slice(at + 1); // substitute
        else if (at + 1 < variant.length) variant = variant.slice(0, at) + variant[at + 1] + variant[at] + variant.slice(at + 2); // swap
      }
      const name = `${randomWord(random, alphabet, 0, 8)}${random() < 0.5 ? variant.toUpperCase() : variant}${randomWord(random, alphabet, 0, 8)}`;
      if (!nameMatches(query, name)) continue;
      matched++;
      expect(pieces.some((piece) => name.toLowerCase().includes(piece)), JSON.stringify({ query, name, pieces })).toBe(true);
    }
    expect(narrowed).toBeGreaterThan(2_500);
    expect(matched).toBeGreaterThan(2_000);
  });
});

describe('likePattern', () => {
  /** LIKE as SQLite has it (and PostgreSQL on lower(name) in a C locale): ASCII case folded only,
   * `_` one character, `%` any, a backslash escapes. */
  const like = (name: string, pattern: string): boolean => {
    const fold = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\') source += fold(pattern[++i]!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else if (c === '%') source += '.*';
      else if (c === '_') source += '.';
      else source += fold(c).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${source}$`, 'su').test(fold(name));
  };

  it.each([
    ['chec', '%chec%'],
    ['kuot', '%_uot%'], // the Kelvin sign lowercases into k
    ['wiki', '%wi__%'], // İ lowercases into i and a dot: only a last i can be its i
    ['in_t', '%in\\_t%'],
    ['1%\\', '%1\\%\\\\%'],
  ])('%j → %j', (piece, expected) => {
    expect(likePattern(piece)).toBe(expected);
  });

  it('lets through every name the matcher finds, also names with the Kelvin sign or İ in place of k and i', () => {
    const random = randomSource(41);
    const words = ['kubernetes', 'backup', 'istanbul', 'izmir', 'monkey', 'wiki', 'kiosk', 'link', 'skill', 'kitkat', 'pik', 'ik', 'in_te%k'];
    let checked = 0;
    for (let n = 0; n < 20_000; n++) {
      const word = words[n % words.length]!;
      const swapped = [...word].map((c) => (c === 'k' && random() < 0.5 ? '\u212A' : c === 'i' && random() < 0.5 ? '\u0130' : random() < 0.3 ? c.toUpperCase() : c));
      const name = swapped.join('') + (random() < 0.5 ? ' prod' : '');
      // A query from the lowercased name (without İ's dot), sometimes with a letter left out.
      const lower = name.toLowerCase().replace(/\u0307/g, '');
      const from = Math.floor(random() * lower.length);
      let query = lower.slice(from, from + 2 + Math.floor(random() * 10));
      if (random() < 0.3 && query.length > 3) query = query.slice(0, 1) + query.slice(2);
      const pieces = searchPieces(query);
      if (pieces === null || !nameMatcher(query)(name)) continue;
      checked++;
      expect(pieces.some((piece) => like(name, likePattern(piece))), JSON.stringify({ query, name, pieces })).toBe(true);
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

/** Deterministic random numbers (an LCG), so a failure repeats. */
function randomSource(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function randomWord(random: () => number, alphabet: string, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min + 1));
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

/** What nameMatcher must answer: the definition, with the plain table of approximateSubstring. */
function expectedMatch(query: string, name: string): boolean {
  const pattern = normalizeQuery(query);
  const text = name.toLowerCase();
  return pattern.length === 0 || text.includes(pattern) || approximateSubstring(pattern, text, allowedEdits(pattern.length));
}

describe('bitParallelMatcher', () => {
  // It must be approximateSubstring exactly, only faster.
  it('agrees with approximateSubstring on every short pattern and text over a small alphabet', () => {
    const words = (alphabet: string, maxLength: number) => {
      const out = [''];
      for (let i = 0; out[i]!.length < maxLength; i++) for (const c of alphabet) out.push(out[i]! + c);
      return out;
    };
    const texts = words('abc', 5);
    let checked = 0;
    for (const pattern of words('ab', 5).slice(1)) {
      for (let maxEdits = 0; maxEdits <= 3; maxEdits++) {
        const matches = bitParallelMatcher(pattern, maxEdits);
        for (const text of texts) {
          expect(matches(text), `${pattern} in ${text}, ${maxEdits} edits`).toBe(approximateSubstring(pattern, text, maxEdits));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(80_000);
  });

  it('agrees with approximateSubstring on random patterns up to WORD_BITS characters and mixed-case names', () => {
    const random = randomSource(11);
    const alphabet = 'abcdeéfg _-';
    let matched = 0;
    for (let p = 0; p < 400; p++) {
      const pattern = randomWord(random, alphabet, 1, WORD_BITS);
      const maxEdits = Math.floor(random() * 4);
      const matches = bitParallelMatcher(pattern, maxEdits);
      for (let n = 0; n < 40; n++) {
        // Half the names carry the pattern with edits; some letters upper case (ASCII and not).
        const lower = random() < 0.5 ? randomWord(random, alphabet, 0, 6) + mutate(pattern, random) + randomWord(random, alphabet, 0, 6) : randomWord(random, alphabet, 0, 40);
        const name = [...lower].map((c) => (random() < 0.3 ? c.toUpperCase() : c)).join('');
        const expected = approximateSubstring(pattern, name.toLowerCase(), maxEdits);
        expect(matches(name), `${JSON.stringify(pattern)} in ${JSON.stringify(name)}, ${maxEdits} edits`).toBe(expected);
        if (expected) matched++;
      }
    }
    expect(matched).toBeGreaterThan(2_000);
  });

  it.each([
    ['abcdefghijklmnopqrstuvwxyz012345', 'xxABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 0, true], // all 32 bits
    ['abcdefghijklmnopqrstuvwxyz012345', 'abcdefghijklmnopqrstuvwxyz01234', 1, true], // the last row missing
    ['abcdefghijklmnopqrstuvwxyz012345', 'bacdefghijklmnopqrstuvwxyz012354', 1, false], // two swaps
    ['abcdefghijklmnopqrstuvwxyz012345', 'bacdefghijklmnopqrstuvwxyz012354', 2, true],
    ['ab', '', 1, false],
    ['ab', '', 2, true], // the empty match: delete both
    ['ab', 'x', 1, false],
    ['ab', 'xb', 1, true],
    ['abc', 'BAC', 1, true], // a swap, through the case folding
    ['kelvin', 'KELVIN', 0, true], // U+212A KELVIN SIGN lowercases to ASCII "k"
    ['i̇stanbul', 'İSTANBUL', 0, true], // U+0130 lowercases to two characters: "i" and a combining dot
    ['résumé', 'RÉSUMÉ', 0, true],
    ['résumé', 'RESUME', 1, false],
  ])('%j in %j with %i edits → %s', (pattern, name, maxEdits, expected) => {
    expect(approximateSubstring(pattern, name.toLowerCase(), maxEdits)).toBe(expected);
    expect(bitParallelMatcher(pattern, maxEdits)(name)).toBe(expected);
  });
});

describe('nameMatcher', () => {
  // Its shortcuts (the bit-parallel matcher, the character-count filter for long queries) only
  // skip work: it must agree with the plain approximate match.
  it('agrees with the plain approximate match on thousands of random names and queries', () => {
    const random = randomSource(7);
    const alphabet = 'abcdeéfgABÉ _-';
    let agreedMatches = 0;
    for (let q = 0; q < 300; q++) {
      // Lengths on both sides of WORD_BITS, where nameMatcher changes method.
      const query = randomWord(random, alphabet, 1, q % 3 === 0 ? WORD_BITS + 12 : 12);
      const matches = nameMatcher(query);
      const pattern = normalizeQuery(query);
      for (let n = 0; n < 50; n++) {
        // Half the names carry the query with an edit or two, so both answers occur often.
        const name = random() < 0.5 ? randomWord(random, alphabet, 0, 6) + mutate(pattern, random) + randomWord(random, alphabet, 0, 6) : randomWord(random, alphabet, 0, 24);
        const expected = expectedMatch(query, name);
        expect(matches(name), `${JSON.stringify(query)} in ${JSON.stringify(name)}`).toBe(expected);
        if (expected) agreedMatches++;
      }
    }
    expect(agreedMatches).toBeGreaterThan(1_500);
  });
});

describe('countMatchingNames', () => {
  it('counts the names in one string and those nameMatcher accepts, for every kind of query', () => {
    const random = randomSource(11);
    const alphabet = 'abcdeéfgABÉİß _-';
    for (let q = 0; q < 200; q++) {
      // Queries without edits (under 3 characters), bit-parallel ones, and longer than WORD_BITS.
      const query = randomWord(random, alphabet, 1, q % 4 === 0 ? WORD_BITS + 12 : q % 4 === 1 ? 2 : 12);
      const pattern = normalizeQuery(query);
      const names = Array.from({ length: Math.floor(random() * 40) + 1 }, () =>
        random() < 0.5 ? randomWord(random, alphabet, 0, 6) + mutate(pattern, random) + randomWord(random, alphabet, 0, 6) : randomWord(random, alphabet, 0, 24),
      );
      const matches = nameMatcher(query);
      expect(countMatchingNames(query, names.join(NAME_SEPARATOR)), JSON.stringify({ query, names })).toEqual({
        names: names.length,
        matches: names.filter((name) => matches(name)).length,
      });
    }
  });

  it('counts right where the query has pieces to look for, among names whose lowercase differs in length or by context', () => {
    const random = randomSource(23);
    // Mostly ASCII, so most queries have pieces (searchPieces); İ lowercases into two characters,
    // the Kelvin sign into "k", and Σ into σ or, ending a word, ς.
    const alphabet = 'abcdekabcdek _-İKΣσς';
    let withPieces = 0;
    for (let q = 0; q < 400; q++) {
      const query = randomWord(random, 'abcdek', 5, q % 2 === 0 ? 8 : 14);
      if (searchPieces(query) !== null) withPieces++;
      const names = Array.from({ length: Math.floor(random() * 60) + 1 }, () =>
        random() < 0.5 ? randomWord(random, alphabet, 0, 4) + upperSome(mutate(query, random), random) + randomWord(random, alphabet, 0, 4) : randomWord(random, alphabet, 0, 16),
      );
      const matches = nameMatcher(query);
      expect(countMatchingNames(query, names.join(NAME_SEPARATOR)), JSON.stringify({ query, names })).toEqual({
        names: names.length,
        matches: names.filter((name) => matches(name)).length,
      });
    }
    expect(withPieces).toBeGreaterThan(300);
    // The Kelvin sign as the query's k; a name ending in Σ lowercases it as it would alone.
    const names = ['checKout', 'chec\u212Aout', 'ΣΣ', 'aΣ', 'Σa', 'wİki'];
    for (const query of ['checkout', 'chec\u212Aout', 'aς', 'aσ', 'σa', 'σσ', 'wiki', 'wİk']) {
      const matches = nameMatcher(query);
      expect({ query, count: countMatchingNames(query, names.join(NAME_SEPARATOR)).matches }).toEqual({ query, count: names.filter((name) => matches(name)).length });
    }
  });

  it('takes an empty string for one empty name, and a separator at either end for an empty name there', () => {
    expect(countMatchingNames('abc', '')).toEqual({ names: 1, matches: 0 });
    expect(countMatchingNames('', '')).toEqual({ names: 1, matches: 1 });
    expect(countMatchingNames('abc', `${NAME_SEPARATOR}abc${NAME_SEPARATOR}`)).toEqual({ names: 3, matches: 1 });
  });
});

/** `text` with about half its letters in upper case (k as the Kelvin sign now and then). */
function upperSome(text: string, random: () => number): string {
  return [...text].map((c) => (c === 'k' && random() < 0.2 ? '\u212A' : random() < 0.5 ? c.toUpperCase() : c)).join('');
}

function mutate(text: string, random: () => number): string {
  let out = text;
  for (let edits = Math.floor(random() * 3); edits > 0 && out.length > 1; edits--) {
    const i = Math.floor(random() * (out.length - 1));
    const kind = Math.floor(random() * 4);
    if (kind === 0) out = out.slice(0, i) + out.slice(i + 1);
    else if (kind === 1) out = out.slice(0, i) + 'x' + out.slice(i);
    else if (kind === 2) out = out.slice(0, i) + 'y' + out.slice(i + 1);
    else out = out.slice(0, i) + out[i + 1] + out[i] + out.slice(i + 2);
  }
  return out;
}
