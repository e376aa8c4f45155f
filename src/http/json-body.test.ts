import { describe, expect, it } from 'vitest';
import { findBadMember, mayHaveBadMember, parseJsonBody } from './json-body.js';

describe('findBadMember', () => {
  it.each([
    ['{"a":1,"b":2}', null],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1},"c":{"b":2}}', null], // same name in different objects
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"a":2}]', null],
    ['{"a":["a","a"]}', null], // strings that are values, not names
    ['{"a":"x","\\u0061":"y"}', 'a'],
    ['{"k\\"q":1,"k\\"q":2}', 'k"q'],
    ['{ "a" : 1 , "a" : 2 }', 'a'],
    ['{"a":"{\\"a\\":1}","b":1}', null],
    ['"just a string"', null],
  ])('%s → %s', (text, expected) => {
    expect(findBadMember(text)).toEqual(expected === null ? null : { kind: 'duplicate', name: expected });
  });

  it.each([
    ['{"__proto__":{"x":1}}', '__proto__'],
    ['{"a":{"constructor":{"prototype":{}}}}', 'constructor'],
    ['{"\\u005f_proto__":1}', '__proto__'],
  ])('refuses %s', (text, name) => {
    expect(findBadMember(text)).toEqual({ kind: 'forbidden', name });
  });
});

describe('parseJsonBody', () => {
  it.each([
    ['{"a":1}', { value: { a: 1 } }],
    ['[1,2]', { value: [1, 2] }],
    ['"text"', { value: 'text' }],
    ['{"a":', { error: 'Request body is not valid JSON', field: 'body' }],
    ['{"a":1,"a":2}', { error: "field 'a' appears more than once", field: 'a' }],
    ['{"__proto__":1}', { error: "field name '__proto__' is not allowed", field: '__proto__' }],
  ])('%s', (text, expected) => {
    expect(parseJsonBody(text)).toEqual(expected);
  });
});

describe('parseJsonBody skipping the member scan', () => {
  /** What parseJsonBody answered when it scanned every object body in full. */
  function scannedInFull(text: string): ReturnType<typeof parseJsonBody> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { error: 'Request body is not valid JSON', field: 'body' };
    }
    const problem = typeof value === 'object' && value !== null ? findBadMember(text) : null;
    if (problem === null) return { value };
    return problem.kind === 'duplicate'
      ? { error: `field '${problem.name}' appears more than once`, field: problem.name }
      : { error: `field name '${problem.name}' is not allowed`, field: problem.name };
  }

  // Few names, so objects often repeat one; strings holding colons and quotes; whitespace
  // between a name and its colon; escapes (also in names); nesting and arrays.
  const NAMES = ['a', 'b', 'key', 'scopes', 'a\\u0062', '__proto__', 'constructor', ':', 'a b'];
  const STRINGS = ['', 'x', ':', '":"', 'a\\"b', '\\\\', 'a:b', '\\u0061', 'é'];
  const SPACES = ['', '', '', ' ', '\n', '\t '];

  function randomValue(random: () => number, depth: number): string {
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const space = () => pick(SPACES);
    const roll = random();
    if (depth > 3 || roll < 0.35) return JSON.stringify(pick(STRINGS)).replaceAll('\\\\', '\\');
    if (roll < 0.45) return String(Math.floor(random() * 100));
    if (roll < 0.5) return pick(['true', 'null', '1.5']);
    if (roll < 0.7) {
      const items = Array.from({ length: Math.floor(random() * 3) }, () => randomValue(random, depth + 1));
      return `[${space()}${items.join(`${space()},${space()}`)}${space()}]`;
    }
    const members = Array.from({ length: Math.floor(random() * 4) }, () => `"${pick(NAMES)}"${space()}:${space()}${randomValue(random, depth + 1)}`);
    return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
  }

  it('answers as a full scan does, for 5,000 random bodies', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const outcomes = { value: 0, duplicate: 0, forbidden: 0, invalid: 0, skipped: 0 };
    for (let i = 0; i < 5_000; i++) {
      const text = randomValue(random, 0);
      const expected = scannedInFull(text);
      expect(parseJsonBody(text), text).toEqual(expected);
      if ('value' in expected) {
        outcomes.value++;
        // And the point of it: a sound object body without escapes skips the scan.
        const value = expected.value;
        if (typeof value === 'object' && value !== null && !text.includes('\\')) {
          expect(mayHaveBadMember(text, value), text).toBe(false);
          outcomes.skipped++;
        }
      } else if (expected.error.includes('more than once')) outcomes.duplicate++;
      else if (expected.error.includes('not allowed')) outcomes.forbidden++;
      else outcomes.invalid++;
    }
    // The bodies exercise every answer (a generator making only valid ones would prove little).
    for (const count of Object.values(outcomes)) expect(count).toBeGreaterThan(100);
  });

  it.each([
    ['{"a" :1,"a":2}', 'a'], // whitespace before the colon
    ['{"a":":","a":1}', 'a'], // a value starting with a colon
    ['{"a":{"b":1},"b":{"a":[{"c":1,"c":2}]}}', 'c'], // deep in an array
  ])('finds the repeated name in %s', (text, name) => {
    expect(parseJsonBody(text)).toEqual({ error: `field '${name}' appears more than once`, field: name });
  });

  it('takes a body nested deeper than the stack allows recursion', () => {
    const depth = 200_000;
    expect('value' in parseJsonBody(`${'['.repeat(depth)}{"a":1}${']'.repeat(depth)}`)).toBe(true);
  });
});
