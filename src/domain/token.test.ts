import { describe, expect, it } from 'vitest';
import {
  BODY_LENGTH,
  checksumOf,
  digestHex,
  generateToken,
  generateUsername,
  hashToken,
  isValidPrefix,
  isWellFormedToken,
  TOKEN_PATTERN,
  randomBase62,
  tokenDigest,
  tokenStart,
} from './token.js';

describe('generateToken', () => {
  it('has the documented shape and checks as well-formed', () => {
    const token = generateToken('kw', 'live');
    expect(token).toMatch(/^kw_live_[0-9A-Za-z]{35}$/);
    expect(token.length - 'kw_live_'.length).toBe(BODY_LENGTH);
    expect(isWellFormedToken(token)).toBe(true);
  });

  it('uses the project prefix and environment', () => {
    const token = generateToken('acme9', 'test');
    expect(token).toMatch(/^acme9_test_[0-9A-Za-z]{35}$/);
    expect(isWellFormedToken(token)).toBe(true);
  });

  it('never repeats (10,000 tokens)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(generateToken('kw', 'live'));
    expect(seen.size).toBe(10_000);
  });

  it('refuses an invalid prefix', () => {
    expect(() => generateToken('KW', 'live')).toThrow();
    expect(() => generateToken('k_w', 'live')).toThrow();
  });
});

describe('isWellFormedToken rejects without I/O', () => {
  const valid = generateToken('kw', 'live');
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
  it.each([
    ['empty', ''],
    ['one changed body char', flip(valid, 12)],
    ['changed checksum char', flip(valid, valid.length - 1)],
    ['changed environment', valid.replace('_live_', '_test_')],
    ['changed prefix', 'kx' + valid.slice(2)],
    ['truncated', valid.slice(0, -1)],
    ['extra char', valid + 'a'],
    ['wrong environment', valid.replace('_live_', '_prod_')],
    ['non-base62 char', valid.slice(0, 10) + '-' + valid.slice(11)],
    ['unicode lookalike', valid.slice(0, 10) + 'а' + valid.slice(11)],
    ['NUL byte', valid.slice(0, 10) + '\u0000' + valid.slice(11)],
    ['whitespace around', ` ${valid} `],
    ['very long', 'kw_live_' + 'a'.repeat(100_000)],
    ['uppercase prefix', 'KW' + valid.slice(2)],
    ['made up', 'kw_live_' + 'A'.repeat(35)],
  ])('%s', (_label, token) => {
    expect(isWellFormedToken(token)).toBe(false);
  });

  it('accepts a token whose checksum was recomputed (format, not authenticity)', () => {
    const payload = 'kw_test_' + 'Z'.repeat(29);
    expect(isWellFormedToken(payload + checksumOf(payload))).toBe(true);
  });

  it("checks the checksum as zlib's CRC-32 does: 20,000 random payloads and a wrong checksum for each", () => {
    for (let i = 0; i < 20_000; i++) {
      const payload = `${i % 2 === 0 ? 'kw' : 'acme' + (i % 97)}_${i % 3 === 0 ? 'test' : 'live'}_${randomBase62(29)}`;
      const checksum = checksumOf(payload); // zlib's crc32, in base62
      expect(isWellFormedToken(payload + checksum)).toBe(true);
      const wrong = checksumOf(payload + 'x');
      if (wrong !== checksum) expect(isWellFormedToken(payload + wrong)).toBe(false);
    }
    // The extremes of the checksum's range: leading zeros, and the largest CRC-32 values.
    expect(checksumOf('kw_live_' + '0'.repeat(29)).length).toBe(6);
    for (const suffix of ['000000', 'zzzzzz', '4gfFC3', '4gfFC4']) {
      const token = 'kw_live_' + 'q'.repeat(29) + suffix;
      expect(isWellFormedToken(token)).toBe(checksumOf(token.slice(0, -6)) === suffix);
    }
  });
});

describe('helpers', () => {
  it('hashes with SHA-256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('keeps a short display start', () => {
    expect(tokenStart('kw_live_3fA9abcdefghijklmnopqrstuvwxyz0123456')).toBe('kw_live_3fA9');
  });
  it.each([
    ['kw', true],
    ['acme', true],
    ['a1', true],
    ['k', false],
    ['1kw', false],
    ['kw_', false],
    ['Kw', false],
    ['abcdefghijklmnopq', false],
  ])('prefix %s valid=%s', (prefix, valid) => {
    expect(isValidPrefix(prefix)).toBe(valid);
  });
  it('draws base62 uniformly enough to use every symbol', () => {
    const chars = new Set(randomBase62(5000));
    expect(chars.size).toBe(62);
  });
  it('makes usernames without separators', () => {
    expect(generateUsername('kw')).toMatch(/^kwu[0-9A-Za-z]{20}$/);
  });
});

describe('isWellFormedToken checks the shape by hand', () => {
  const pattern = new RegExp(TOKEN_PATTERN);
  /** What it answered with a regex for the shape and zlib's crc32 for the checksum. */
  const byPattern = (token: string) => pattern.test(token) && checksumOf(token.slice(0, -6)) === token.slice(-6);

  it('answers as the pattern and the checksum do, for 20,000 mutated tokens', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    // Characters at the edges of every class the shape uses, and some it never allows.
    const CHARS = ['a', 'z', 'A', 'Z', '0', '9', '_', '`', '{', '@', '[', '/', ':', '-', ' ', 'é', 'а', '\u0000', '\u007f', '\u0080'];
    const outcomes = { valid: 0, invalid: 0 };
    for (let i = 0; i < 20_000; i++) {
      let token = generateToken(pick(['kw', 'a0', 'acme9', 'abcdefghijklmnop']), pick(['live', 'test']));
      const edits = Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (token.length + 1));
        const roll = random();
        if (roll < 0.4) token = token.slice(0, at) + pick(CHARS) + token.slice(at + 1); // replace
        else if (roll < 0.7) token = token.slice(0, at) + pick(CHARS) + token.slice(at); // insert
        else token = token.slice(0, at) + token.slice(at + 1); // delete
      }
      // Half of them get a checksum that matches whatever the rest became: the shape decides.
      if (random() < 0.5 && token.length > 6) token = token.slice(0, -6) + checksumOf(token.slice(0, -6));
      const expected = byPattern(token);
      expect(isWellFormedToken(token), JSON.stringify(token)).toBe(expected);
      outcomes[expected ? 'valid' : 'invalid']++;
    }
    expect(outcomes.valid).toBeGreaterThan(2_000);
    expect(outcomes.invalid).toBeGreaterThan(2_000);
  });

  it.each([
    ['a 1-character prefix', 'k'],
    ['a 17-character prefix', 'abcdefghijklmnopq'],
    ['a prefix starting with a digit', '9kw'],
  ])('refuses %s even with a matching checksum', (_label, prefix) => {
    const payload = `${prefix}_live_${'A'.repeat(29)}`;
    expect(isWellFormedToken(payload + checksumOf(payload))).toBe(false);
  });

  it('takes the longest prefix', () => {
    const payload = `abcdefghijklmnop_test_${'z'.repeat(29)}`;
    expect(isWellFormedToken(payload + checksumOf(payload))).toBe(true);
  });
});

describe('tokenDigest', () => {
  it('is the SHA-256 that hashToken writes in hex, as 32 one-byte characters', () => {
    for (let i = 0; i < 1_000; i++) {
      const token = generateToken('kw', i % 2 === 0 ? 'live' : 'test');
      const digest = tokenDigest(token);
      expect(digest).toHaveLength(32);
      expect(digestHex(digest)).toBe(hashToken(token));
    }
  });
});
