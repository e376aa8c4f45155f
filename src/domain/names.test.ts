import { describe, expect, it } from 'vitest';
import { autoKeyName, firstFreeName, normalizeName } from './names.js';

describe('normalizeName', () => {
  it.each([
    ['ok', { name: 'ok' }],
    ['  padded  ', { name: 'padded' }],
    ['', { problem: 'required' }],
    ['   ', { problem: 'required' }],
    ['x'.repeat(200), { name: 'x'.repeat(200) }],
    ['x'.repeat(201), { problem: 'tooLong' }],
    ['tab\tinside', { problem: 'controlCharacters' }],
    ['nul\u0000', { problem: 'controlCharacters' }],
    ['del\u007f', { problem: 'controlCharacters' }],
    ['c1\u0085', { problem: 'controlCharacters' }],
    ['名前 🔑', { name: '名前 🔑' }],
  ])('%j', (raw, expected) => {
    expect(normalizeName(raw)).toEqual(expected);
  });
});

describe('autoKeyName', () => {
  it('formats yyyyMMddHHmmss in UTC', () => {
    expect(autoKeyName(Date.UTC(2022, 6, 15, 16, 57, 27))).toBe('API Key name 20220715165727');
    expect(autoKeyName(Date.UTC(2023, 0, 2, 3, 4, 5, 999))).toBe('API Key name 20230102030405');
  });
});

describe('firstFreeName', () => {
  it('suffixes when taken', () => {
    expect(firstFreeName('a', new Set())).toBe('a');
    expect(firstFreeName('a', new Set(['a']))).toBe('a (2)');
    expect(firstFreeName('a', new Set(['a', 'a (2)']))).toBe('a (3)');
  });
});
