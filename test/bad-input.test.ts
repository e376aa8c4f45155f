// Hostile and malformed input at every write endpoint: each request is refused with a clear 4xx in
// the one error envelope (never a 500, a stack trace or a secret), and a refused write changes nothing.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { createKey, startApp, verify, type ApiResponse, type TestApp } from './helpers.js';

let t!: TestApp;
/** What each test starts with besides the owner: one key, one member, one more project. */
let fixture: { keyId: string; token: string; memberId: string; projectId: string; ownerEmail: string; defaultProjectName: string };
/** Whether the app may hold state a test left behind; only a test that proved it wrote nothing clears it. */
let dirty = true;

// Hundreds of refusals each start from the fixture and must leave it as it was, so they share one
// app; any test that writes, or fails (and so may have written), makes the next test start afresh.
beforeEach(async () => {
  if (!dirty) {
    dirty = true;
    return;
  }
  if (t !== undefined) await t.close();
  t = await startApp();
  const key = await createKey(t, { name: 'original', scopes: ['inference'] });
  const member = await t.call('POST', '/v1/accounts', { body: { email: 'member@example.com', name: 'Member', role: 'developer' } });
  const project = await t.call('POST', '/v1/projects', { body: { name: 'Second project' } });
  const owner = await t.call('GET', `/v1/accounts/${t.ownerId}`);
  const defaultProject = await t.call('GET', `/v1/projects/${t.projectId}`);
  expect([member.status, project.status, owner.status, defaultProject.status]).toEqual([201, 201, 200, 200]);
  fixture = {
    keyId: key.id,
    token: key.key,
    memberId: member.body.account.id,
    projectId: project.body.project.id,
    ownerEmail: owner.body.account.email,
    defaultProjectName: defaultProject.body.project.name,
  };
});
afterAll(async () => {
  await t.close();
});

/** Called last by a test that has shown it changed nothing, so the next test may reuse the app. */
function untouched(): void {
  dirty = false;
}

// ---------------------------------------------------------------------------------------------
// Sending and checking

interface RawRequest {
  method: InjectOptions['method'];
  url: string;
  /** Sent byte for byte. */
  payload?: string;
  /** Defaults to application/json when there is a payload; null sends no Content-Type. */
  contentType?: string | null;
  /** The owner's admin key unless given; null = no credential. */
  token?: string | null;
}

async function send(request: RawRequest): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const token = request.token === undefined ? t.ownerKey : request.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (request.payload !== undefined && request.contentType !== null) headers['content-type'] = request.contentType ?? 'application/json';
  const response = await t.app.inject({
    method: request.method,
    url: request.url,
    headers,
    ...(request.payload !== undefined && { payload: request.payload }),
  });
  let body: unknown = undefined;
  try {
    body = JSON.parse(response.body);
  } catch {
    // Not JSON: the envelope assertions below say so.
  }
  return { status: response.statusCode, body, headers: response.headers, text: response.body };
}

async function get(url: string): Promise<unknown> {
  const response = await t.call('GET', url);
  expect(response.status, `GET ${url}: ${response.text}`).toBe(200);
  return response.body;
}

/**
 * A key list without the usage fields of the owner's admin key: every call in these tests is a use
 * of that key, and its lastUsedAt/usedAmount are written behind on a timer, so they may move
 * between two reads no matter what the refused request did.
 */
function withoutCallerUsage(body: unknown): unknown {
  const list = body as { apiKeys: Record<string, unknown>[] };
  return {
    ...list,
    apiKeys: list.apiKeys.map((key) => {
      if (!t.ownerKey.startsWith(String(key.start))) return key;
      const { lastUsedAt: _lastUsedAt, usedAmount: _usedAmount, ...rest } = key;
      return rest;
    }),
  };
}

interface Refusal {
  status: number;
  type: string;
  /** The request field the error must name (omit when the case does not state one). */
  field?: string;
}

/** Leaks no response may carry: a stack frame, a source path, or a credential. */
function expectNoLeak(response: ApiResponse): void {
  expect(response.text).not.toMatch(/\bat [^"]*?\.[cm]?[jt]s:\d+/);
  expect(response.text).not.toContain('node_modules');
  expect(response.text).not.toContain(t.ownerKey);
  expect(response.text).not.toContain(fixture.token);
}

/** The one envelope: {"status":"error","type":…,"error":{"message":…, "field"?:…}}. */
function expectEnvelope(response: ApiResponse, context: string): void {
  expect(String(response.headers['content-type']), context).toMatch(/^application\/json/);
  expect(response.body, context).toEqual({ status: 'error', type: expect.stringMatching(/^[a-z][A-Za-z]*Error$/), error: expect.any(Object) });
  const error = response.body.error as Record<string, unknown>;
  expect(Object.keys(error).filter((name) => name !== 'message' && name !== 'field'), context).toEqual([]);
  expect(error.message, context).toEqual(expect.stringMatching(/\S/));
  if (error.field !== undefined) expect(error.field, context).toEqual(expect.stringMatching(/\S/));
  expectNoLeak(response);
}

function expectRefused(response: ApiResponse, expected: Refusal): void {
  const context = `${response.status} ${response.text.slice(0, 500)}`;
  expect(response.status, context).toBe(expected.status);
  expectEnvelope(response, context);
  expect(response.body.type, context).toBe(expected.type);
  if (expected.field !== undefined) expect(response.body.error.field, context).toBe(expected.field);
}

// ---------------------------------------------------------------------------------------------
// The write endpoints, each with a body it accepts and the state a refusal must leave alone

type EndpointName = 'createKey' | 'updateKey' | 'rotateKey' | 'createProject' | 'updateProject' | 'createAccount' | 'updateAccount' | 'verify';

interface Endpoint {
  method: 'POST' | 'PATCH';
  path: string;
  url: () => string;
  /** A body this endpoint accepts; cases change one thing in it. */
  valid: () => Record<string, unknown>;
  success: number;
  /** What must read the same before and after a refused request. */
  state: () => Promise<unknown>;
  /** A string field for the oversized-body case. */
  bigField: string;
}

const endpoints: Record<EndpointName, Endpoint> = {
  createKey: {
    method: 'POST',
    path: '/v1/projects/{projectId}/keys',
    url: () => `/v1/projects/${t.projectId}/keys`,
    valid: () => ({ name: 'fresh key' }),
    success: 201,
    state: async () => withoutCallerUsage(await get(`/v1/projects/${t.projectId}/keys?pageSize=1000`)),
    bigField: 'name',
  },
  updateKey: {
    method: 'PATCH',
    path: '/v1/keys/{keyId}',
    url: () => `/v1/keys/${fixture.keyId}`,
    valid: () => ({ name: 'renamed' }),
    success: 200,
    state: () => get(`/v1/keys/${fixture.keyId}`),
    bigField: 'name',
  },
  rotateKey: {
    method: 'POST',
    path: '/v1/keys/{keyId}/rotate',
    url: () => `/v1/keys/${fixture.keyId}/rotate`,
    valid: () => ({ gracePeriodSeconds: 60 }),
    success: 200,
    state: () => get(`/v1/keys/${fixture.keyId}`),
    bigField: 'padding',
  },
  createProject: {
    method: 'POST',
    path: '/v1/projects',
    url: () => '/v1/projects',
    valid: () => ({ name: 'New project' }),
    success: 201,
    state: () => get('/v1/projects'),
    bigField: 'name',
  },
  updateProject: {
    method: 'PATCH',
    path: '/v1/projects/{projectId}',
    url: () => `/v1/projects/${fixture.projectId}`,
    valid: () => ({ name: 'Renamed project' }),
    success: 200,
    state: () => get('/v1/projects'),
    bigField: 'name',
  },
  createAccount: {
    method: 'POST',
    path: '/v1/accounts',
    url: () => '/v1/accounts',
    valid: () => ({ email: 'new@example.com', name: 'New member', role: 'developer' }),
    success: 201,
    state: () => get('/v1/accounts'),
    bigField: 'name',
  },
  updateAccount: {
    method: 'PATCH',
    path: '/v1/accounts/{accountId}',
    url: () => `/v1/accounts/${fixture.memberId}`,
    valid: () => ({ name: 'Renamed member' }),
    success: 200,
    state: () => get('/v1/accounts'),
    bigField: 'name',
  },
  verify: {
    method: 'POST',
    path: '/v1/keys/verify',
    url: () => '/v1/keys/verify',
    valid: () => ({ key: fixture.token }),
    success: 200,
    // A refused verify charges nothing and touches nothing.
    state: () => get(`/v1/keys/${fixture.keyId}`),
    bigField: 'key',
  },
};

const ENDPOINT_NAMES = Object.keys(endpoints) as EndpointName[];

// ---------------------------------------------------------------------------------------------
// Case builders

interface BadCase extends Refusal {
  label: string;
  /** The request text, given the endpoint's valid body. */
  payload: (valid: Record<string, unknown>) => string;
  contentType?: string | null;
}

const INVALID: Refusal = { status: 400, type: 'validationError' };
const NOT_FOUND: Refusal = { status: 404, type: 'notFoundError' };
const CONFLICT: Refusal = { status: 409, type: 'conflictError' };
const DUPLICATE_NAME: Refusal = { status: 409, type: 'duplicateNameError' };

/** The valid body with `patch` laid over it (a function when the values need the fixture). */
function withFields(
  label: string,
  patch: Record<string, unknown> | (() => Record<string, unknown>),
  field: string | undefined,
  refusal: Refusal = INVALID,
): BadCase {
  const payload = (valid: Record<string, unknown>) => JSON.stringify({ ...valid, ...(typeof patch === 'function' ? patch() : patch) });
  return { label, payload, ...refusal, ...(field !== undefined && { field }) };
}

/** The valid body with `field` set to `text`, written as raw JSON (numbers JSON.stringify cannot write). */
function withRawField(label: string, field: string, text: string, expectedField = field): BadCase {
  return {
    label,
    payload: (valid) => {
      const json = JSON.stringify(valid);
      return `${json.slice(0, -1)}${json === '{}' ? '' : ','}"${field}":${text}}`;
    },
    ...INVALID,
    field: expectedField,
  };
}

/** A whole body, ignoring the valid one. */
function rawBody(label: string, text: string, refusal: Refusal = INVALID): BadCase {
  return { label, payload: () => text, ...refusal };
}

/** The same bad values for one field, each expected to be refused naming `field`. */
function fieldCases(field: string, values: readonly (readonly [string, unknown])[], expectedField = field): BadCase[] {
  return values.map(([label, value]) => withFields(`${field}: ${label}`, { [field]: value }, expectedField));
}

const LONG = 'x'.repeat(10_000);
const HUNDRED_KIB = 'x'.repeat(100 * 1024);
const FIFTY_ONE_SCOPES = Array.from({ length: 51 }, (_, i) => `s${i}`);
const WELL_FORMED_UNKNOWN = (kind: string) => `${kind}_01ARZ3NDEKTSV4RRFFQ69G5FAV`;

const WRONG_NUMBER = [
  ['string for integer', '10'],
  ['float for integer', 1.5],
  ['negative', -1],
  ['1e308', 1e308],
  ['2^63', 2 ** 63],
  ['NaN string', 'NaN'],
  ['Infinity string', 'Infinity'],
  ['boolean', true],
  ['array', [1]],
  ['object', {}],
] as const;

function hugeNumberCases(field: string): BadCase[] {
  return [
    withRawField(`${field}: 1e400 as raw JSON`, field, '1e400'),
    withRawField(`${field}: 2^63 as raw JSON`, field, '9223372036854775808'),
    withRawField(`${field}: -1e400 as raw JSON`, field, '-1e400'),
  ];
}

function nameCases(maxLength: number): BadCase[] {
  return fieldCases('name', [
    ['number for string', 123],
    ['boolean', true],
    ['array', ['a']],
    ['object', { first: 'a' }],
    ['null', null],
    ['empty', ''],
    ['whitespace only', '   '],
    ['whitespace only (tabs and newlines)', '\t\n \r'],
    [`${maxLength + 1} chars`, 'n'.repeat(maxLength + 1)],
    ['201 chars', 'n'.repeat(201)],
    ['10,000 chars', LONG],
    ['NUL', 'a\u0000b'],
    ['tab', 'a\tb'],
    ['newline', 'a\nb'],
    ['ESC sequence', '\u001b[31mred'],
    ['DEL', 'a\u007fb'],
    ['NEL (C1 control)', 'a\u0085b'],
  ]);
}

function scopeCases(): BadCase[] {
  return [
    ...fieldCases('scopes', [
      ['string for array', 'inference'],
      ['object for array', { 0: 'inference' }],
      ['null', null],
      ['51 scopes', FIFTY_ONE_SCOPES],
    ]),
    ...fieldCases(
      'scopes',
      [
        ['number item', [1]],
        ['null item', [null]],
        ['nested array', [['inference']]],
        ['empty scope', ['']],
        ['upper case', ['Inference']],
        ['space and punctuation', ['bad scope!']],
        ['slash', ['a/b']],
        ['NUL', ['inference\u0000']],
        ['10,000 chars', [LONG]],
      ],
      'scopes[0]',
    ),
  ];
}

function refusedCreate(label: string, body: Record<string, unknown>, refusal: Refusal): BadCase {
  return { label, payload: () => JSON.stringify(body), ...refusal };
}

// ---------------------------------------------------------------------------------------------
// Cases every write endpoint shares

function commonCases(name: EndpointName): BadCase[] {
  const endpoint = endpoints[name];
  const unsupported = { status: 415, type: 'unsupportedMediaTypeError' } as const;
  const tooLarge = { status: 413, type: 'payloadTooLargeError' } as const;
  const malformed = { ...INVALID, field: 'body' };
  return [
    // Malformed JSON
    rawBody('malformed JSON: unterminated object', '{"name":', malformed),
    rawBody('malformed JSON: lone brace', '{', malformed),
    rawBody('malformed JSON: trailing comma', '{"name":"x",}', malformed),
    rawBody('malformed JSON: single quotes', "{'name':'x'}", malformed),
    rawBody('malformed JSON: trailing garbage', '{"name":"x"}}', malformed),
    rawBody('malformed JSON: bare NaN', '{"name":NaN}', malformed),
    rawBody('malformed JSON: NUL byte', '\u0000', malformed),
    rawBody('malformed JSON: truncated literal', 'nul', malformed),
    // JSON that is not an object
    rawBody('non-object JSON: empty array', '[]', malformed),
    { label: 'non-object JSON: the valid body inside an array', payload: (valid) => `[${JSON.stringify(valid)}]`, ...malformed },
    rawBody('non-object JSON: string', '"name"', malformed),
    rawBody('non-object JSON: number', '42', malformed),
    rawBody('non-object JSON: true', 'true', malformed),
    rawBody('non-object JSON: null', 'null', malformed),
    // Wrong media types (the body itself is valid JSON)
    { label: 'content type text/plain', payload: (valid) => JSON.stringify(valid), contentType: 'text/plain', ...unsupported },
    { label: 'content type text/plain; charset=utf-8', payload: (valid) => JSON.stringify(valid), contentType: 'text/plain; charset=utf-8', ...unsupported },
    { label: 'content type form-urlencoded', payload: () => 'name=x', contentType: 'application/x-www-form-urlencoded', ...unsupported },
    { label: 'content type application/xml', payload: () => '<name>x</name>', contentType: 'application/xml', ...unsupported },
    { label: 'content type multipart/form-data', payload: () => '--b\r\n\r\nx\r\n--b--', contentType: 'multipart/form-data; boundary=b', ...unsupported },
    { label: 'no content type', payload: (valid) => JSON.stringify(valid), contentType: null, ...unsupported },
    // Oversized bodies (the limit is 64 KiB)
    { label: `oversized body: 100 KiB ${endpoint.bigField}`, payload: (valid) => JSON.stringify({ ...valid, [endpoint.bigField]: HUNDRED_KIB }), ...tooLarge },
    { label: 'oversized body: 100 KiB of whitespace', payload: (valid) => JSON.stringify(valid) + ' '.repeat(100 * 1024), ...tooLarge },
    // Unknown fields
    withFields('unknown field', { bogus: 1 }, 'bogus'),
    withFields('unknown field differing only in case', { NAME: 'x' }, 'NAME'),
    withFields('unknown field with a null value', { extra: null }, 'extra'),
    // Prototype pollution
    rawBody('prototype pollution: __proto__', '{"__proto__":{"x":1}}'),
    rawBody('prototype pollution: constructor.prototype', '{"constructor":{"prototype":{}}}'),
    {
      label: 'prototype pollution: __proto__ after valid fields',
      payload: (valid) => {
        const json = JSON.stringify(valid);
        return `${json.slice(0, -1)}${json === '{}' ? '' : ','}"__proto__":{"admin":true}}`;
      },
      ...INVALID,
    },
    // The same member twice is ambiguous (parsers disagree on which one wins): refuse it.
    {
      label: 'duplicated JSON member',
      payload: (valid) => {
        const [first, value] = Object.entries(valid)[0]!;
        const json = JSON.stringify(valid);
        return `{${JSON.stringify(first)}:${JSON.stringify(typeof value === 'string' ? `${value} (shadowed)` : 0)},${json.slice(1)}`;
      },
      ...INVALID,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Field rules per endpoint

/** Fields both key create and key update take. */
function editableKeyCases(): BadCase[] {
  return [
    ...nameCases(200),
    ...scopeCases(),
    withFields('scopes: a scope the project does not define', { scopes: ['nope'] }, 'scopes[0]'),
    withFields('scopes: second scope unknown', { scopes: ['inference', 'nope'] }, 'scopes[1]'),
    ...fieldCases('expiresAt', [
      ['"tomorrow"', 'tomorrow'],
      ['month 13', '2030-13-01T00:00:00Z'],
      ['February 30', '2030-02-30T00:00:00Z'],
      ['hour 25', '2030-06-01T25:00:00Z'],
      ['no time zone', '2030-06-01T00:00:00'],
      ['date only', '2030-06-01'],
      ['five-digit year', '+010000-01-01T00:00:00Z'],
      ['empty', ''],
      ['10,000 chars', LONG],
      ['epoch number', 1_900_000_000_000],
      ['boolean', true],
      ['object', {}],
    ]),
    ...fieldCases('host', [
      ['URL with scheme', 'http://x.com'],
      ['empty label', 'a..b'],
      ['bare wildcard', '*'],
      ['wildcard without domain', '*.'],
      ['CIDR /33', '10.0.0.0/33'],
      ['CIDR twice', '10.0.0.0/8/8'],
      ['space', 'exa mple.com'],
      ['leading hyphen', '-bad.com'],
      ['64-char label', `${'a'.repeat(64)}.com`],
      ['empty', ''],
      ['10,000 chars', LONG],
      ['number', 123],
      ['array', ['a.com']],
    ]),
    ...fieldCases('limitedAmount', WRONG_NUMBER),
    ...hugeNumberCases('limitedAmount'),
    withFields('refill: without limitedAmount', { refill: { interval: 'daily' } }, 'refill'),
    withFields('refill: null limitedAmount with refill', { limitedAmount: null, refill: { interval: 'monthly' } }, 'refill'),
    withFields('refill: string for object', { limitedAmount: 5, refill: 'daily' }, 'refill'),
    withFields('refill: array for object', { limitedAmount: 5, refill: [] }, 'refill'),
    withFields('refill: unknown interval', { limitedAmount: 5, refill: { interval: 'weekly' } }, 'refill.interval'),
    withFields('refill: interval missing', { limitedAmount: 5, refill: {} }, 'refill.interval'),
    withFields('refill: unknown nested field', { limitedAmount: 5, refill: { interval: 'daily', at: 3 } }, 'refill.at'),
    withFields('refill: 10,000-char interval', { limitedAmount: 5, refill: { interval: LONG } }, 'refill.interval'),
    withFields('rateLimit: windowMs missing', { rateLimit: { limit: 5 } }, 'rateLimit.windowMs'),
    withFields('rateLimit: limit missing', { rateLimit: { windowMs: 1000 } }, 'rateLimit.limit'),
    withFields('rateLimit: empty object', { rateLimit: {} }, 'rateLimit.limit'),
    withFields('rateLimit: windowMs 999', { rateLimit: { limit: 5, windowMs: 999 } }, 'rateLimit.windowMs'),
    withFields('rateLimit: windowMs 0', { rateLimit: { limit: 5, windowMs: 0 } }, 'rateLimit.windowMs'),
    withFields('rateLimit: windowMs 1e308', { rateLimit: { limit: 5, windowMs: 1e308 } }, 'rateLimit.windowMs'),
    withFields('rateLimit: limit 0', { rateLimit: { limit: 0, windowMs: 1000 } }, 'rateLimit.limit'),
    withFields('rateLimit: negative limit', { rateLimit: { limit: -1, windowMs: 1000 } }, 'rateLimit.limit'),
    withFields('rateLimit: string limit', { rateLimit: { limit: '5', windowMs: 1000 } }, 'rateLimit.limit'),
    withFields('rateLimit: float limit', { rateLimit: { limit: 1.5, windowMs: 1000 } }, 'rateLimit.limit'),
    withFields('rateLimit: 2^63 limit', { rateLimit: { limit: 2 ** 63, windowMs: 1000 } }, 'rateLimit.limit'),
    withFields('rateLimit: unknown nested field', { rateLimit: { limit: 5, windowMs: 1000, burst: 2 } }, 'rateLimit.burst'),
    withFields('rateLimit: string for object', { rateLimit: '5/s' }, 'rateLimit'),
    withFields('rateLimit: array for object', { rateLimit: [5, 1000] }, 'rateLimit'),
    ...fieldCases('meta', [
      ['string', 'x'],
      ['array', [{ a: 1 }]],
      ['number', 1],
      ['boolean', true],
      ['over 4096 bytes', { blob: 'x'.repeat(5000) }],
      ['over 4096 bytes in multi-byte characters', { blob: 'é'.repeat(2100) }],
      ['10,000-char value', { blob: LONG }],
      ['65 properties', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]))],
    ]),
    rawBody('meta: __proto__ inside meta', '{"meta":{"__proto__":{"admin":true}}}'),
    ...fieldCases('enabled', [
      ['string for boolean', 'true'],
      ['"false" string', 'false'],
      ['number 1', 1],
      ['number 0', 0],
      ['null', null],
    ]),
  ];
}

function createKeyCases(): BadCase[] {
  return [
    ...editableKeyCases(),
    withFields('expiresAt: in the past', { expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'),
    withFields('expiresAt: exactly now', () => ({ expiresAt: new Date(t.clock.now).toISOString() }), 'expiresAt'),
    ...fieldCases('accountId', [
      ['number', 123],
      ['not an id', 'acc_bad'],
      ['a key id', WELL_FORMED_UNKNOWN('key')],
      ['lower-case id', WELL_FORMED_UNKNOWN('acc').toLowerCase()],
      ['empty', ''],
      ['10,000 chars', LONG],
      ['null', null],
    ]),
    withFields('accountId: well-formed but unknown', { accountId: WELL_FORMED_UNKNOWN('acc') }, undefined, NOT_FOUND),
    ...fieldCases('environment', [
      ['unknown', 'prod'],
      ['upper case', 'LIVE'],
      ['number', 1],
      ['null', null],
      ['10,000 chars', LONG],
    ]),
    ...fieldCases('type', [
      ['unknown', 'bogus'],
      ['upper case', 'TOKEN'],
      ['number', 1],
      ['10,000 chars', LONG],
    ]),
    withFields('name: taken by another key of the account', { name: 'original' }, 'name', DUPLICATE_NAME),
    withFields('name: taken once trimmed', { name: '  original  ' }, 'name', DUPLICATE_NAME),
  ];
}

function updateKeyCases(): BadCase[] {
  return [
    ...editableKeyCases(),
    // The account binding, project and kind of a key never change.
    withFields('binding: accountId', () => ({ accountId: fixture.memberId }), 'accountId'),
    withFields('binding: accountId of the owner itself', () => ({ accountId: t.ownerId }), 'accountId'),
    withFields('binding: projectId', () => ({ projectId: fixture.projectId }), 'projectId'),
    withFields('binding: environment', { environment: 'test' }, 'environment'),
    withFields('binding: type', { type: 'identity' }, 'type'),
    withFields('read-only: id', { id: WELL_FORMED_UNKNOWN('key') }, 'id'),
    withFields('read-only: usedAmount', { usedAmount: 0 }, 'usedAmount'),
    withFields('read-only: start', { start: 'kw_live_abcd' }, 'start'),
    withFields('read-only: createdAt', { createdAt: '2030-01-01T00:00:00Z' }, 'createdAt'),
    withFields('write-once: key', { key: 'kw_live_x' }, 'key'),
  ];
}

function rotateCases(): BadCase[] {
  return [
    ...fieldCases('gracePeriodSeconds', [...WRONG_NUMBER, ['null', null], ['over 30 days', 30 * 24 * 3600 + 1]]),
    ...hugeNumberCases('gracePeriodSeconds'),
    withFields('unknown field: gracePeriod', { gracePeriod: 60 }, 'gracePeriod'),
    withFields('unknown field: key', { key: 'kw_live_x' }, 'key'),
  ];
}

function projectCases(create: boolean): BadCase[] {
  return [
    ...nameCases(100),
    ...scopeCases(),
    ...fieldCases('prefix', [
      ['upper case "KW"', 'KW'],
      ['underscore "k_w"', 'k_w'],
      ['one letter "k"', 'k'],
      ['leading digit', '1kw'],
      ['hyphen', 'k-w'],
      ['17 chars', 'k'.repeat(17)],
      ['10,000 chars', LONG],
      ['empty', ''],
      ['number', 1],
      ['null', null],
    ]),
    ...fieldCases('maxKeysPerAccount', [...WRONG_NUMBER, ['zero', 0], ['over 10,000', 10_001], ['null', null]]),
    ...hugeNumberCases('maxKeysPerAccount'),
    ...fieldCases('recoverable', [
      ['string for boolean', 'true'],
      ['number', 1],
      ['null', null],
    ]),
    withFields('unknown field: id', { id: WELL_FORMED_UNKNOWN('proj') }, 'id'),
    withFields('unknown field: workspaceId', { workspaceId: WELL_FORMED_UNKNOWN('ws') }, 'workspaceId'),
    ...(create
      ? [
          refusedCreate('name: missing', { scopes: ['inference'] }, { ...INVALID, field: 'name' }),
          rawBody('empty body', '', { ...INVALID, field: 'body' }),
          withFields('name: taken by another project', { name: 'Second project' }, undefined, CONFLICT),
        ]
      : [withFields('name: taken by another project', () => ({ name: fixture.defaultProjectName }), undefined, CONFLICT)]),
  ];
}

function accountCases(create: boolean): BadCase[] {
  return [
    ...nameCases(200),
    ...fieldCases('email', [
      ['no at sign', 'not-an-email'],
      ['no domain', 'a@'],
      ['no local part', '@example.com'],
      ['space', 'a b@example.com'],
      ['10,000 chars', `${LONG}@example.com`],
      ['empty', ''],
      ['number', 123],
      ['null', null],
    ]),
    ...fieldCases('role', [
      ['unknown', 'superuser'],
      ['capitalised', 'Owner'],
      ['empty', ''],
      ['number', 1],
      ['null', null],
      ['10,000 chars', LONG],
    ]),
    ...fieldCases('password', [
      ['5 chars', 'short'],
      ['9 chars', '123456789'],
      ['number', 1_234_567_890],
      ['null', null],
      ['10,000 chars', LONG],
    ]),
    withFields('unknown field: passwordHash', { passwordHash: 'x' }, 'passwordHash'),
    withFields('unknown field: workspaceId', { workspaceId: WELL_FORMED_UNKNOWN('ws') }, 'workspaceId'),
    ...(create
      ? [
          refusedCreate('email: missing', { name: 'New', role: 'developer' }, { ...INVALID, field: 'email' }),
          refusedCreate('name: missing', { email: 'new@example.com', role: 'developer' }, { ...INVALID, field: 'name' }),
          refusedCreate('role: missing', { email: 'new@example.com', name: 'New' }, { ...INVALID, field: 'role' }),
          rawBody('empty body', '', { ...INVALID, field: 'body' }),
          withFields('email: taken', { email: 'member@example.com' }, undefined, CONFLICT),
          withFields('email: taken in other case', { email: 'MEMBER@Example.com' }, undefined, CONFLICT),
        ]
      : [withFields("email: taken (the owner's)", () => ({ email: fixture.ownerEmail }), undefined, CONFLICT)]),
  ];
}

function verifyCases(): BadCase[] {
  return [
    ...fieldCases('key', [
      ['number', 123],
      ['null', null],
      ['array', ['kw_live_x']],
      ['object', { token: 'x' }],
      ['boolean', true],
    ]),
    refusedCreate('key: missing', { scopes: ['inference'] }, { ...INVALID, field: 'key' }),
    rawBody('empty body', '', { ...INVALID, field: 'body' }),
    ...scopeCases(),
    ...fieldCases('host', [
      ['number', 123],
      ['null', null],
      ['10,000 chars', LONG],
    ]),
    ...fieldCases('environment', [
      ['unknown', 'prod'],
      ['number', 1],
      ['null', null],
    ]),
    ...fieldCases('projectId', [
      ['not an id', 'proj_bad'],
      ['number', 1],
      ['10,000 chars', LONG],
    ]),
    ...fieldCases('cost', [...WRONG_NUMBER, ['null', null], ['over the maximum', 1_000_000_001]]),
    ...hugeNumberCases('cost'),
  ];
}

const fieldCasesOf: Record<EndpointName, () => BadCase[]> = {
  createKey: createKeyCases,
  updateKey: updateKeyCases,
  rotateKey: rotateCases,
  createProject: () => projectCases(true),
  updateProject: () => projectCases(false),
  createAccount: () => accountCases(true),
  updateAccount: () => accountCases(false),
  verify: verifyCases,
};

function caseName(c: BadCase): string {
  return `${c.label} → ${c.status} ${c.type}${c.field === undefined ? '' : ` (${c.field})`}`;
}

// ---------------------------------------------------------------------------------------------
// The tables

describe('every write endpoint accepts its control body (so each refusal below is about the bad part)', () => {
  it.each(ENDPOINT_NAMES)('%s', async (name) => {
    const endpoint = endpoints[name];
    const response = await send({ method: endpoint.method, url: endpoint.url(), payload: JSON.stringify(endpoint.valid()) });
    expect(response.status, response.text).toBe(endpoint.success);
  });
});

for (const name of ENDPOINT_NAMES) {
  const endpoint = endpoints[name];
  describe(`${endpoint.method} ${endpoint.path}: bad input is refused and writes nothing`, () => {
    const cases = [...commonCases(name), ...fieldCasesOf[name]()];
    it.each(cases.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
      const before = await endpoint.state();
      const response = await send({
        method: endpoint.method,
        url: endpoint.url(),
        payload: c.payload(endpoint.valid()),
        ...(c.contentType !== undefined && { contentType: c.contentType }),
      });
      expectRefused(response, c);
      expect(await endpoint.state()).toEqual(before);
      untouched();
    });
  });
}

describe('never a partial write: a valid change next to an invalid one changes nothing', () => {
  it('PATCH /v1/keys: a valid name with an unknown scope keeps the name and the scopes', async () => {
    const response = await t.call('PATCH', `/v1/keys/${fixture.keyId}`, { body: { name: 'renamed', scopes: ['inference', 'nope'] } });
    expectRefused(response, { ...INVALID, field: 'scopes[1]' });
    const key = (await t.call('GET', `/v1/keys/${fixture.keyId}`)).body.apiKey;
    expect(key).toMatchObject({ name: 'original', scopes: ['inference'] });
  });

  it('PATCH /v1/keys: disabling with a bad host leaves the key enabled and verifying', async () => {
    const response = await t.call('PATCH', `/v1/keys/${fixture.keyId}`, { body: { name: 'renamed', enabled: false, host: '*' } });
    expectRefused(response, { ...INVALID, field: 'host' });
    expect((await t.call('GET', `/v1/keys/${fixture.keyId}`)).body.apiKey).toMatchObject({ name: 'original', enabled: true, host: null });
    expect((await verify(t, { key: fixture.token })).code).toBe('VALID');
  });

  it('PATCH /v1/keys: a quota with a refill but a cleared limit changes neither', async () => {
    const key = await createKey(t, { name: 'metered', limitedAmount: 10, refill: { interval: 'daily' } });
    const response = await t.call('PATCH', `/v1/keys/${key.id}`, { body: { name: 'renamed', limitedAmount: null } });
    expectRefused(response, { ...INVALID, field: 'refill' });
    expect((await t.call('GET', `/v1/keys/${key.id}`)).body.apiKey).toMatchObject({ name: 'metered', limitedAmount: 10, refill: { interval: 'daily' } });
  });

  it('POST /v1/projects/{projectId}/keys: no refused create leaves a key behind', async () => {
    const before = (await get(`/v1/projects/${t.projectId}/keys`)) as { total: number };
    const bodies = [
      { name: 'a', scopes: ['nope'] },
      { name: 'b', host: 'a..b' },
      { name: 'c', expiresAt: '2020-01-01T00:00:00Z' },
      { name: 'd', meta: { blob: 'x'.repeat(5000) } },
      { name: 'e', refill: { interval: 'daily' } },
      { name: '   ' },
      { name: 'original' },
    ];
    for (const body of bodies) {
      const response = await t.call('POST', `/v1/projects/${t.projectId}/keys`, { body });
      expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(response.status, JSON.stringify(body)).toBeLessThan(500);
    }
    expect(((await get(`/v1/projects/${t.projectId}/keys`)) as { total: number }).total).toBe(before.total);
  });

  it('duplicated scopes are never stored twice', async () => {
    const response = await t.call('POST', `/v1/projects/${t.projectId}/keys`, { body: { name: 'dup', scopes: ['inference', 'inference'] } });
    if (response.status === 201) expect(response.body.apiKey.scopes).toEqual(['inference']);
    else expectRefused(response, { ...INVALID, field: 'scopes[1]' });
    const project = await t.call('PATCH', `/v1/projects/${fixture.projectId}`, { body: { scopes: ['project', 'project'] } });
    if (project.status === 200) expect(project.body.project.scopes).toEqual(['project']);
    else expectRefused(project, { ...INVALID, field: 'scopes[1]' });
  });
});

describe('POST /v1/keys/verify: an unusable key is a normal answer, not an error', () => {
  const malformedKeys: readonly (readonly [string, () => string])[] = [
    ['10,000 chars', () => LONG],
    ['60,000 chars', () => 'k'.repeat(60_000)],
    ['empty', () => ''],
    ['a colon only', () => ':'],
    ['colons', () => 'a:b:c'],
    ['a token and a trailing colon', () => `${fixture.token}:`],
    ['a token then a colon and junk', () => `${fixture.token}:junk`],
    ['a token with a NUL', () => `${fixture.token}\u0000`],
    ['a NUL then a token', () => `\u0000${fixture.token}`],
    ['NUL only', () => '\u0000'],
    ['a token with a trailing space', () => `${fixture.token} `],
    ['a token with a trailing newline', () => `${fixture.token}\n`],
    ['the prefix with NULs', () => `kw_live_${'\u0000'.repeat(35)}`],
  ];
  it.each(malformedKeys)('key: %s → 200 MALFORMED', async (_label, key) => {
    const before = await get(`/v1/keys/${fixture.keyId}`);
    const response = await send({ method: 'POST', url: '/v1/keys/verify', payload: JSON.stringify({ key: key() }), token: null });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ valid: false, code: 'MALFORMED' });
    expectNoLeak(response);
    expect(await get(`/v1/keys/${fixture.keyId}`)).toEqual(before);
    untouched();
  });

  it('a body with a wrong type is a 400, with or without a credential', async () => {
    for (const token of [null, undefined]) {
      const response = await send({ method: 'POST', url: '/v1/keys/verify', payload: JSON.stringify({ key: 123 }), token });
      expectRefused(response, { ...INVALID, field: 'key' });
    }
    untouched();
  });
});

describe('path parameters that are not ids: 400 or 404 in the envelope, never 500', () => {
  interface PathCase {
    method: InjectOptions['method'];
    url: () => string;
    /** Statuses a correct server may answer with. */
    statuses: readonly number[];
    /** The parameter a 400 must name. */
    field?: string;
  }
  const key = (suffix = '') => `/v1/keys/abc${suffix}`;
  const cases: readonly (readonly [string, PathCase])[] = [
    ['GET /v1/keys/abc', { method: 'GET', url: () => key(), statuses: [400], field: 'keyId' }],
    ['PATCH /v1/keys/abc', { method: 'PATCH', url: () => key(), statuses: [400], field: 'keyId' }],
    ['DELETE /v1/keys/abc', { method: 'DELETE', url: () => key(), statuses: [400], field: 'keyId' }],
    ['POST /v1/keys/abc/rotate', { method: 'POST', url: () => key('/rotate'), statuses: [400], field: 'keyId' }],
    ['POST /v1/keys/abc/reveal', { method: 'POST', url: () => key('/reveal'), statuses: [400], field: 'keyId' }],
    ['GET /v1/keys/key_%00', { method: 'GET', url: () => '/v1/keys/key_%00', statuses: [400], field: 'keyId' }],
    ['GET /v1/keys/<lower-case id>', { method: 'GET', url: () => `/v1/keys/${fixture.keyId.toLowerCase()}`, statuses: [400, 404] }],
    ['GET /v1/keys/<a project id>', { method: 'GET', url: () => `/v1/keys/${t.projectId}`, statuses: [400], field: 'keyId' }],
    ['GET /v1/keys/<id>%20', { method: 'GET', url: () => `/v1/keys/${fixture.keyId}%20`, statuses: [400], field: 'keyId' }],
    ['GET /v1/keys/%2e%2e', { method: 'GET', url: () => '/v1/keys/%2e%2e', statuses: [400, 404] }],
    ['GET /v1/keys/<well-formed unknown id>', { method: 'GET', url: () => `/v1/keys/${WELL_FORMED_UNKNOWN('key')}`, statuses: [404] }],
    ['DELETE /v1/keys/<well-formed unknown id>', { method: 'DELETE', url: () => `/v1/keys/${WELL_FORMED_UNKNOWN('key')}`, statuses: [404] }],
    ['GET /v1/keys/verify (as an admin)', { method: 'GET', url: () => '/v1/keys/verify', statuses: [400, 404] }],
    ['GET /v1/keys/% (bad percent-encoding)', { method: 'GET', url: () => '/v1/keys/%', statuses: [400, 404] }],
    ['GET /v1/keys/%E0%A4%A (truncated UTF-8 escape)', { method: 'GET', url: () => '/v1/keys/%E0%A4%A', statuses: [400, 404] }],
    ['GET /v1/keys/<1,000 chars>', { method: 'GET', url: () => `/v1/keys/${'a'.repeat(1000)}`, statuses: [400, 404, 414] }],
    ['GET /v1/projects/../x', { method: 'GET', url: () => '/v1/projects/../x', statuses: [400, 404] }],
    ['GET /v1/projects/abc', { method: 'GET', url: () => '/v1/projects/abc', statuses: [400], field: 'projectId' }],
    ['PATCH /v1/projects/abc', { method: 'PATCH', url: () => '/v1/projects/abc', statuses: [400], field: 'projectId' }],
    ['DELETE /v1/projects/abc', { method: 'DELETE', url: () => '/v1/projects/abc', statuses: [400], field: 'projectId' }],
    ['POST /v1/projects/abc/keys', { method: 'POST', url: () => '/v1/projects/abc/keys', statuses: [400], field: 'projectId' }],
    ['GET /v1/projects/abc/keys', { method: 'GET', url: () => '/v1/projects/abc/keys', statuses: [400], field: 'projectId' }],
    ['POST /v1/projects/<a key id>/keys', { method: 'POST', url: () => `/v1/projects/${fixture.keyId}/keys`, statuses: [400], field: 'projectId' }],
    ['POST /v1/projects/<well-formed unknown id>/keys', { method: 'POST', url: () => `/v1/projects/${WELL_FORMED_UNKNOWN('proj')}/keys`, statuses: [404] }],
    ['GET /v1/accounts/abc', { method: 'GET', url: () => '/v1/accounts/abc', statuses: [400], field: 'accountId' }],
    ['PATCH /v1/accounts/abc', { method: 'PATCH', url: () => '/v1/accounts/abc', statuses: [400], field: 'accountId' }],
    ['DELETE /v1/accounts/abc', { method: 'DELETE', url: () => '/v1/accounts/abc', statuses: [400], field: 'accountId' }],
    ['DELETE /v1/accounts/<well-formed unknown id>', { method: 'DELETE', url: () => `/v1/accounts/${WELL_FORMED_UNKNOWN('acc')}`, statuses: [404] }],
  ];
  it.each(cases)('%s', async (_label, c) => {
    const keysBefore = await get(`/v1/projects/${t.projectId}/keys?pageSize=1000`);
    const withBody = c.method === 'PATCH' || c.method === 'POST';
    const response = await send({ method: c.method, url: c.url(), ...(withBody && { payload: JSON.stringify(c.method === 'PATCH' ? { name: 'renamed' } : {}) }) });
    const context = `${response.status} ${response.text.slice(0, 300)}`;
    expect(c.statuses, context).toContain(response.status);
    expectEnvelope(response, context);
    if (response.status === 400) expect(response.body.type, context).toBe('validationError');
    if (response.status === 404) expect(response.body.type, context).toBe('notFoundError');
    if (response.status === 400 && c.field !== undefined) expect(response.body.error.field, context).toBe(c.field);
    expect(await get(`/v1/projects/${t.projectId}/keys?pageSize=1000`)).toEqual(keysBefore);
    untouched();
  });
});

describe('query strings: 400 naming the parameter', () => {
  const list = () => `/v1/projects/${t.projectId}/keys`;
  const cases: readonly (readonly [string, string])[] = [
    ['pageSize=0', 'pageSize'],
    ['pageSize=1001', 'pageSize'],
    ['pageSize=-5', 'pageSize'],
    ['pageSize=abc', 'pageSize'],
    ['pageSize=1.5', 'pageSize'],
    ['pageSize=1e400', 'pageSize'],
    ['pageSize=', 'pageSize'],
    ['pageSize=1&pageSize=2', 'pageSize'],
    ['page=-1', 'page'],
    ['page=0', 'page'],
    ['page=abc', 'page'],
    ['page=NaN', 'page'],
    ['page=1000001', 'page'],
    ['page=9223372036854775808', 'page'],
    ['status=bogus', 'status'],
    ['status=ACTIVE', 'status'],
    ['environment=prod', 'environment'],
    ['accountId=abc', 'accountId'],
    [`search=${LONG}`, 'search'],
    ['foo=1', 'foo'],
    ['__proto__=x', '__proto__'],
    ['constructor=x', 'constructor'],
  ];
  it.each(cases)('GET /v1/projects/{projectId}/keys?%s', async (query, field) => {
    const response = await send({ method: 'GET', url: `${list()}?${query}` });
    expectRefused(response, { ...INVALID, field });
    untouched();
  });

  it('DELETE /v1/projects/{projectId}?force=maybe is refused and deletes nothing', async () => {
    await createKey(t, { name: 'keeps the project busy' });
    for (const force of ['maybe', '2', 'yes%00']) {
      const response = await send({ method: 'DELETE', url: `/v1/projects/${fixture.projectId}?force=${force}` });
      expectRefused(response, { ...INVALID, field: 'force' });
    }
    const unknown = await send({ method: 'DELETE', url: `/v1/projects/${fixture.projectId}?cascade=true` });
    expectRefused(unknown, { ...INVALID, field: 'cascade' });
    expect((await t.call('GET', `/v1/projects/${fixture.projectId}`)).status).toBe(200);
  });
});

describe('unknown routes and methods: 404 notFoundError in the envelope', () => {
  const cases: readonly (readonly [InjectOptions['method'], () => string])[] = [
    ['GET', () => '/v1/nope'],
    ['POST', () => '/v1/nope'],
    ['GET', () => '/nope'],
    ['GET', () => '/v2/keys'],
    ['GET', () => '/v1/keys'],
    ['DELETE', () => '/v1/projects'],
    ['PUT', () => `/v1/keys/${fixture.keyId}`],
    ['PUT', () => `/v1/projects/${fixture.projectId}`],
    ['GET', () => `/v1/keys/${fixture.keyId}/rotate`],
    ['GET', () => `/v1/keys/${fixture.keyId}/reveal`],
    ['DELETE', () => `/v1/keys/${fixture.keyId}/rotate`],
    ['GET', () => `/v1/projects/${t.projectId}/keys/extra`],
    ['POST', () => `/v1/keys/${fixture.keyId}`],
    ['POST', () => '/v1/workspace'],
  ];
  for (const credential of ['the owner', 'no credential'] as const) {
    it.each(cases)(`%s %s (${credential})`, async (method, url) => {
      const withBody = method === 'POST' || method === 'PUT';
      const response = await send({
        method,
        url: url(),
        token: credential === 'the owner' ? undefined : null,
        ...(withBody && { payload: JSON.stringify({ name: 'x' }) }),
      });
      expectRefused(response, { status: 404, type: 'notFoundError' });
      untouched();
    });
  }

  it('a POST to an unknown route with a wrong content type is still a 404', async () => {
    const response = await send({ method: 'POST', url: '/v1/nope', payload: 'x', contentType: 'text/plain' });
    expectRefused(response, { status: 404, type: 'notFoundError' });
  });
});
