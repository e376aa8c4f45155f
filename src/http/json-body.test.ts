import { describe, expect, it } from 'vitest';
import { findBadMember, parseJsonBody } from './json-body.js';

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
