import { describe, expect, it } from 'vitest';
import { approximateSubstring, nameMatches, searchPieces } from './search.js';

describe('nameMatches', () => {
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
