import { describe, expect, it } from 'vitest';
import { allowedEdits, approximateSubstring, nameMatcher, normalizeQuery, searchPieces } from './search.js';

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
    ['abc', null], // one edit allowed, pieces would be too short
    ['production', null],
    ['abcdefgh', ['abc', 'fgh']],
    ['ABCDEFGHIJKLMNOPQ', ['abcde', 'hij', 'mnopq']],
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
});

describe('nameMatcher', () => {
  // Its character-count filter only skips work: it must agree with the edit-distance check alone.
  it('agrees with the plain approximate match on thousands of random names and queries', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = 'abcdeéfg _-';
    const word = (min: number, max: number) =>
      Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    let agreedMatches = 0;
    for (let q = 0; q < 200; q++) {
      const query = word(1, 12);
      const matches = nameMatcher(query);
      const pattern = normalizeQuery(query);
      for (let n = 0; n < 50; n++) {
        // Half the names carry the query with an edit or two, so both answers occur often.
        const name = random() < 0.5 ? word(0, 6) + mutate(pattern, random) + word(0, 6) : word(0, 24);
        const text = name.toLowerCase();
        const expected = pattern.length === 0 || text.includes(pattern) || approximateSubstring(pattern, text, allowedEdits(pattern.length));
        expect(matches(name), `${JSON.stringify(query)} in ${JSON.stringify(name)}`).toBe(expected);
        if (expected) agreedMatches++;
      }
    }
    expect(agreedMatches).toBeGreaterThan(1_000);
  });
});

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
