import { describe, expect, it } from 'vitest';
import { hostMatcher, normalizeHostBinding, normalizeRequestHost } from './host.js';

describe('normalizeHostBinding', () => {
  it.each([
    ['api.example.com', 'api.example.com'],
    ['API.Example.COM.', 'api.example.com'],
    ['*.example.com', '*.example.com'],
    ['localhost', 'localhost'],
    ['10.0.0.1', '10.0.0.1'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['::1', '::1'],
    ['', null],
    ['*', null],
    ['*.', null],
    ['a..b', null],
    ['-bad.com', null],
    ['bad-.com', null],
    ['ex ample.com', null],
    ['example.com/path', null],
    ['10.0.0.0/33', null],
    ['256.1.1.1', null],
    ['1.2.3', null],
    ['10.0.0.0/8/8', null],
    ['http://example.com', null],
    ['foo*.example.com', null],
    ['a'.repeat(64) + '.com', null],
    ['x.'.repeat(130) + 'com', null],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeHostBinding(raw)).toBe(expected);
  });
});

describe('normalizeRequestHost', () => {
  it.each([
    ['Api.Example.com:443', 'api.example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:8080', '::1'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['10.1.2.3:80', '10.1.2.3'],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeRequestHost(raw)).toBe(expected);
  });
});

describe('hostMatcher', () => {
  it.each([
    ['api.example.com', 'api.example.com', true],
    ['api.example.com', 'www.example.com', false],
    ['api.example.com', 'api.example.com.evil.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.0/8', 'example.com', false],
    ['10.0.0.1', '10.0.0.1', true],
    ['10.0.0.1', '10.0.0.2', false],
    ['2001:db8::/32', '2001:db8:1::5', true],
    ['2001:db8::/32', '2001:db9::5', false],
    ['::1', '::1', true],
    ['::1', '127.0.0.1', false],
  ])('%s matches %s = %s', (binding, host, expected) => {
    expect(hostMatcher(binding)(host)).toBe(expected);
  });
});
