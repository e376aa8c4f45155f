import { describe, expect, it } from 'vitest';
import { isId, newId, ulid } from './ids.js';

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
});
