import { describe, expect, it } from 'vitest';
import { encodeUlid, isId, newId, ulid } from './ids.js';

describe('ids', () => {
  it('sort by creation time, also within one millisecond', () => {
    const ids = [ulid(1000), ulid(1000), ulid(1000), ulid(2000), ulid(2000)];
    expect([...ids].sort()).toEqual(ids);
  });
  it('carry a kind prefix that isId checks', () => {
    const id = newId('key');
    expect(isId('key', id)).toBe(true);
    expect(isId('proj', id)).toBe(false);
    expect(isId('key', id + 'x')).toBe(false);
    expect(isId('key', 'key_' + 'U'.repeat(26))).toBe(false); // U is not in Crockford base32
  });
  it('draw fresh random bits for every new millisecond, across many refills of the random pool', () => {
    // 409 milliseconds' worth of random parts fit in the pool: 5,000 span a dozen refills.
    const randomParts = Array.from({ length: 5_000 }, (_, i) => ulid(10_000_000 + i, 'pool-test').slice(10));
    expect(new Set(randomParts).size).toBe(randomParts.length);
    // Every one of the 16 random characters takes all 32 values somewhere (no stuck bytes).
    for (let position = 0; position < 16; position++) expect(new Set(randomParts.map((part) => part[position])).size).toBe(32);
  });
});

describe('encodeUlid', () => {
  // The reference: the whole 80-bit random part as one BigInt, 16 base32 digits.
  const reference = (time: number, random: bigint) => {
    const digits = (value: bigint, length: number) => {
      let out = '';
      for (let i = 0; i < length; i++) {
        out = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[Number(value & 31n)]! + out;
        value >>= 5n;
      }
      return out;
    };
    return digits(BigInt(time), 10) + digits(random, 16);
  };

  it('spells time and random part as the BigInt reference does, at the edges and at random', () => {
    const cases: [number, number, number][] = [
      [0, 0, 0],
      [2 ** 48 - 1, 2 ** 40 - 1, 2 ** 40 - 1],
      [Date.UTC(2030, 0, 15), 1, 2 ** 40 - 1],
    ];
    for (let i = 0; i < 1_000; i++) {
      cases.push([Math.floor(Math.random() * 2 ** 48), Math.floor(Math.random() * 2 ** 40), Math.floor(Math.random() * 2 ** 40)]);
    }
    for (const [time, high, low] of cases) {
      expect(encodeUlid(time, high, low)).toBe(reference(time, (BigInt(high) << 40n) | BigInt(low)));
    }
  });

  it('keeps ids of one millisecond in order across the carry from the low half into the high half', () => {
    expect(encodeUlid(5, 7, 2 ** 40 - 1) < encodeUlid(5, 8, 0)).toBe(true);
    const many = Array.from({ length: 5_000 }, () => ulid(3000, 'test-order'));
    expect([...many].sort()).toEqual(many);
    expect(new Set(many).size).toBe(many.length);
  });
});
