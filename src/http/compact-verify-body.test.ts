import { describe, expect, it } from 'vitest';
import { readCompactVerifyBody } from './compact-verify-body.js';
import { parseJsonBody } from './json-body.js';

const read = (text: string) => readCompactVerifyBody(Buffer.from(text));

describe('readCompactVerifyBody', () => {
  it('reads what JSON.stringify makes of { key } and { key, scopes }', () => {
    const key = 'kw_live_3fA9xYz0123456789abcdefghijklmnopqrstuv';
    expect(read(JSON.stringify({ key }))).toEqual({ key });
    expect(read(JSON.stringify({ key, scopes: ['inference'] }))).toEqual({ key, scopes: ['inference'] });
    expect(read(JSON.stringify({ key, scopes: ['a', 'b:c', 'd.e-f_g'] }))).toEqual({ key, scopes: ['a', 'b:c', 'd.e-f_g'] });
    expect(read(JSON.stringify({ key, scopes: [] }))).toEqual({ key, scopes: [] });
    expect(read('{"key":""}')).toEqual({ key: '' });
    expect(read('{"key":"user:kw_live_x"}')).toEqual({ key: 'user:kw_live_x' });
  });

  it.each([
    ['whitespace', '{ "key":"a"}'],
    ['a trailing newline', '{"key":"a"}\n'],
    ['another member', '{"key":"a","host":"x"}'],
    ['members the other way round', '{"scopes":[],"key":"a"}'],
    ['a repeated key', '{"key":"a","key":"b"}'],
    ['a repeated scopes', '{"key":"a","scopes":[],"scopes":[]}'],
    ['an escape', '{"key":"a\\u0062"}'],
    ['an escaped quote', '{"key":"a\\"b"}'],
    ['non-ASCII', '{"key":"é"}'],
    ['a control character', '{"key":"a\tb"}'],
    ['a number for a scope', '{"key":"a","scopes":[1]}'],
    ['a trailing comma', '{"key":"a","scopes":["x",]}'],
    ['an unclosed list', '{"key":"a","scopes":["x"}'],
    ['an unclosed string', '{"key":"a}'],
    ['no closing brace', '{"key":"a"'],
    ['text after the object', '{"key":"a"}}'],
    ['a nested object', '{"key":"a","scopes":[{}]}'],
  ])('leaves %s to parseJsonBody', (_label, text) => {
    expect(read(text)).toBeUndefined();
  });

  it('answers as JSON.parse and parseJsonBody do wherever it answers, for 20,000 random bodies', () => {
    let seed = 3;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const CHARS = ['a', 'Z', '0', '_', ':', '.', '-', ' ', '~', '"', '\\', '/', ',', '[', ']', '{', '}', 'é', '\u0000', '\n', '\u007f'];
    const text = () => Array.from({ length: Math.floor(random() * 6) }, () => (random() < 0.8 ? 'k' : pick(CHARS))).join('');
    let answered = 0;
    for (let i = 0; i < 20_000; i++) {
      const body: Record<string, unknown> = { key: text() };
      if (random() < 0.6) body.scopes = Array.from({ length: Math.floor(random() * 3) }, text);
      if (random() < 0.1) body.host = text();
      let json = JSON.stringify(body);
      // Mutations: a character replaced, inserted or dropped anywhere, which may or may not leave JSON.
      if (random() < 0.4) {
        const at = Math.floor(random() * (json.length + 1));
        const roll = random();
        const char = pick(CHARS);
        json = roll < 0.4 ? json.slice(0, at) + char + json.slice(at + 1) : roll < 0.7 ? json.slice(0, at) + char + json.slice(at) : json.slice(0, at) + json.slice(at + 1);
      }
      const value = read(json);
      if (value === undefined) continue;
      answered++;
      expect(JSON.parse(json), json).toEqual(value);
      expect(Object.keys(value), json).toEqual(Object.keys(JSON.parse(json) as object));
      expect(parseJsonBody(json), json).toEqual({ value });
    }
    // It reads most plain bodies (a reader that gave up on everything would prove nothing).
    expect(answered).toBeGreaterThan(8_000);
  });
});
