// The framework-neutral heart of the middleware: read the credential from request headers, ask
// Keyward (or a short-lived local cache) whether it may do what the route needs, and say either
// "let it through, here is the key" or "answer this status, body and headers". The adapters for
// node:http, Express, Fastify and Hono only translate requests and answers.
//
// Caching: only VALID answers, only for min(the reply's cacheForMs, cacheTtlMs). Keyward answers
// cacheForMs 0 for keys with a quota or a rate limit, so every counted use reaches the server.
import { createHash } from 'node:crypto';
import { Keyward } from '../client.js';
import { KeywardError } from '../errors.js';
import type { Environment, VerifyCode, VerifyRequest, VerifyResult } from '../types.js';

/** The verified key, as Keyward's verify reply describes it. */
export type VerifiedKey = NonNullable<VerifyResult['key']>;

/** Request headers: Node's `IncomingHttpHeaders` (lower-case names) or a fetch `Headers`. */
export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>>;

export interface RouteOptions {
  /** Scopes the key must have (all of them). */
  scopes?: string[];
  /** Require a key of this environment. */
  environment?: Environment;
  /** Quota units one request uses (default 1 on the server; 0 is allowed). */
  cost?: number;
  /** Accept only keys of this project. */
  projectId?: string;
  /**
   * The host checked against the key's host binding: by default the request's `Host` header (see
   * GuardOptions.hostFromHeader); a string sends that value instead, `false` sends none.
   */
  host?: string | false;
}

export type Logger = (message: string) => void;

export interface GuardOptions {
  /** Where Keyward listens, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Bounds each verify call, answer included; never retried. Default 2000. */
  timeoutMs?: number;
  /** Longest time a VALID answer is reused; the reply's cacheForMs can only shorten it. 0 turns the cache off. Default 5000. */
  cacheTtlMs?: number;
  /** Answers kept at most (least recently used go first). Default 10 000. */
  maxEntries?: number;
  /** When Keyward cannot be reached: false (default) answers 503, true lets the request through with `key: null`. */
  failOpen?: boolean;
  /** Where the fail-closed / fail-open lines go. Default `console.warn`. */
  logger?: Logger;
  /** At most one unavailability line per this many ms (the others are counted in the next). Default 1000; 0 logs each. */
  logIntervalMs?: number;
  /** Realm of the `WWW-Authenticate` challenge. Default `keyward`. */
  realm?: string;
  /** Send the request's `Host` header as the verify `host` (for host-bound keys). Default true. */
  hostFromHeader?: boolean;
  /** Route options every route starts from (a route's own options replace them field by field). */
  defaults?: RouteOptions;
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Default: the SDK's. */
  userAgent?: string;
  /** Default: Date.now (tests). */
  now?: () => number;
}

/** Keyward's error envelope, as the middleware answers it. */
export interface ErrorBody {
  status: 'error';
  type: MiddlewareErrorType;
  error: { message: string };
}

export type MiddlewareErrorType =
  | 'unauthorizedApiKeyError'
  | 'rateLimitedError'
  | 'usageExceededError'
  | 'keywardUnavailableError'
  | 'internalError';

export type CheckResult =
  | {
      ok: true;
      /** null only when Keyward was unreachable and `failOpen` let the request through. */
      key: VerifiedKey | null;
      /** The verify reply (null when failing open). */
      result: VerifyResult | null;
      /** Whether the answer came from the local cache. */
      cached: boolean;
    }
  | {
      ok: false;
      status: number;
      body: ErrorBody;
      headers: Record<string, string>;
      /** The verify code behind the refusal; absent for a missing or unreadable credential and for Keyward errors. */
      code?: VerifyCode;
    };

export type Failure = Extract<CheckResult, { ok: false }>;

export interface Guard {
  check(headers: HeaderSource, route?: RouteOptions): Promise<CheckResult>;
  /** Forgets every cached answer. */
  clear(): void;
  /** Cached answers held now. */
  readonly size: number;
}

/** A credential read from the headers: the string verify takes, and the key id Basic named. */
export type Credential = { key: string; keyId: string | null } | 'malformed' | null;

const MAX_HOST_LENGTH = 253;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `Authorization: Bearer <token>`, `X-API-Key: <token>`, `Authorization: Basic base64(keyId:token)`
 * (→ the token; the key id is checked against the verified key), `Authorization: Basic
 * base64(username:password)` of an identity key (→ `username:password`), and, when neither header
 * carries a credential, `Proxy-Authorization: Basic` the same way. null: nothing sent.
 */
export function readCredential(headers: HeaderSource): Credential {
  const authorization = header(headers, 'authorization');
  const fromAuthorization = authorization === undefined ? null : parseAuthorization(authorization);
  if (fromAuthorization !== null && fromAuthorization !== 'unknown-scheme') return fromAuthorization;
  const apiKey = header(headers, 'x-api-key');
  if (apiKey !== undefined) return apiKey.trim() === '' ? 'malformed' : { key: apiKey.trim(), keyId: null };
  const proxy = header(headers, 'proxy-authorization');
  if (proxy !== undefined) {
    const fromProxy = parseAuthorization(proxy);
    if (fromProxy === 'unknown-scheme' || fromProxy === null) return 'malformed';
    // Only Basic belongs here: a proxy credential is an identity key's username and password.
    if (!/^basic /i.test(proxy.trim())) return 'malformed';
    return fromProxy;
  }
  // An Authorization header of a scheme we do not read is a credential we cannot use.
  return fromAuthorization === 'unknown-scheme' ? 'malformed' : null;
}

function parseAuthorization(value: string): Credential | 'unknown-scheme' {
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  if (space === -1) return trimmed === '' ? null : 'unknown-scheme';
  const scheme = trimmed.slice(0, space).toLowerCase();
  const rest = trimmed.slice(space + 1).trim();
  if (scheme === 'bearer') return rest === '' ? 'malformed' : { key: rest, keyId: null };
  if (scheme !== 'basic') return 'unknown-scheme';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(rest)) return 'malformed';
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return 'malformed';
  const user = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return user.startsWith('key_') ? { key: secret, keyId: user } : { key: `${user}:${secret}`, keyId: null };
}

function envelope(type: MiddlewareErrorType, message: string): ErrorBody {
  return { status: 'error', type, error: { message } };
}

/** Whether the error means "Keyward could not answer" (as opposed to "Keyward refused the request we built"). */
function isUnavailable(error: KeywardError): boolean {
  return error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429 || error.type === 'invalidResponseError';
}

interface CacheEntry {
  result: VerifyResult;
  expiresAt: number;
}

export function createGuard(options: GuardOptions): Guard {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const cacheTtlMs = options.cacheTtlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const logIntervalMs = options.logIntervalMs ?? 1_000;
  if (!(cacheTtlMs >= 0)) throw new RangeError('Keyward middleware: cacheTtlMs must be ≥ 0');
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('Keyward middleware: maxEntries must be a whole number ≥ 1');
  const failOpen = options.failOpen ?? false;
  const log: Logger = options.logger ?? ((message) => console.warn(message));
  const now = options.now ?? Date.now;
  const realm = (options.realm ?? 'keyward').replace(/["\\]/g, '');
  const hostFromHeader = options.hostFromHeader ?? true;
  const defaults = options.defaults ?? {};
  const client = new Keyward({
    baseUrl: options.baseUrl,
    timeoutMs,
    // A verify is never retried here: it would add waits to a request someone is waiting for.
    retries: 0,
    maxRetryAfterSeconds: 0,
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.userAgent !== undefined && { userAgent: options.userAgent }),
  });
  // Insertion order is recency: a hit moves its entry to the end, the first entry is the oldest.
  const cache = new Map<string, CacheEntry>();
  let lastLogAt = -Infinity;
  let suppressed = 0;

  const challenge = (extra = '') => `Bearer realm="${realm}"${extra}`;
  const unauthorized = (message: string, code?: VerifyCode, error?: string): Failure => ({
    ok: false,
    status: 401,
    body: envelope('unauthorizedApiKeyError', message),
    headers: { 'www-authenticate': challenge(error === undefined ? '' : `, error="${error}"`) },
    ...(code && { code }),
  });
  const forbidden = (message: string, code: VerifyCode, extraChallenge = ''): Failure => ({
    ok: false,
    status: 403,
    body: envelope('unauthorizedApiKeyError', message),
    headers: { 'www-authenticate': challenge(extraChallenge) },
    code,
  });

  function logUnavailable(message: string): void {
    const at = now();
    if (at - lastLogAt < logIntervalMs) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} more since the last line)` : '';
    lastLogAt = at;
    suppressed = 0;
    log(message + more);
  }

  function refusal(result: VerifyResult, request: VerifyRequest): Failure {
    switch (result.code) {
      case 'MALFORMED':
      case 'NOT_FOUND':
        return unauthorized('Invalid API key', result.code, 'invalid_token');
      case 'DISABLED':
        return unauthorized('This API key is disabled', result.code, 'invalid_token');
      case 'EXPIRED':
        return unauthorized('This API key has expired', result.code, 'invalid_token');
      case 'INSUFFICIENT_SCOPE': {
        const missing = result.missingScopes ?? request.scopes ?? [];
        const scope = (request.scopes ?? []).join(' ').replace(/["\\]/g, '');
        return forbidden(
          `This API key lacks the scope${missing.length === 1 ? '' : 's'} ${missing.map((s) => `'${s}'`).join(', ')} needed here`,
          result.code,
          `, error="insufficient_scope", scope="${scope}"`,
        );
      }
      case 'FORBIDDEN_HOST':
        return forbidden('This API key may not be used from this host', result.code);
      case 'WRONG_ENVIRONMENT':
        return forbidden(`This API key may not be used here: a ${request.environment ?? ''} key is needed`, result.code);
      case 'RATE_LIMITED': {
        const resetAt = result.rateLimit === undefined ? NaN : Date.parse(result.rateLimit.resetAt);
        const retryAfter = Number.isFinite(resetAt) ? Math.max(1, Math.ceil((resetAt - now()) / 1000)) : 1;
        return {
          ok: false,
          status: 429,
          body: envelope('rateLimitedError', 'Rate limit of this API key reached'),
          headers: { 'retry-after': String(retryAfter) },
          code: result.code,
        };
      }
      case 'USAGE_EXCEEDED': {
        // A refilling quota says when it starts again; a spent quota without refill has no end: no Retry-After.
        const refillAt = result.usage?.refillAt === undefined ? NaN : Date.parse(result.usage.refillAt);
        const headers: Record<string, string> = Number.isFinite(refillAt) ? { 'retry-after': String(Math.max(1, Math.ceil((refillAt - now()) / 1000))) } : {};
        return { ok: false, status: 429, body: envelope('usageExceededError', 'Usage limit of this API key reached'), headers, code: result.code };
      }
      case 'VALID':
        throw new Error('unreachable: a VALID answer is no refusal');
    }
  }

  function cacheKey(credential: string, request: VerifyRequest): string {
    const requirement = JSON.stringify([request.scopes ?? null, request.environment ?? null, request.cost ?? null, request.projectId ?? null, request.host ?? null]);
    return createHash('sha256').update(credential).update('\0').update(requirement).digest('base64url');
  }

  function cached(key: string): VerifyResult | undefined {
    const entry = cache.get(key);
    if (entry === undefined) return undefined;
    cache.delete(key);
    if (entry.expiresAt <= now()) return undefined;
    cache.set(key, entry);
    return entry.result;
  }

  function remember(key: string, result: VerifyResult): void {
    const ttl = Math.min(result.cacheForMs ?? 0, cacheTtlMs);
    if (!result.valid || !(ttl > 0)) return;
    cache.delete(key);
    cache.set(key, { result, expiresAt: now() + ttl });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  }

  function accepted(result: VerifyResult, keyId: string | null, fromCache: boolean): CheckResult {
    const key = result.key;
    if (key === undefined) return unavailable(new KeywardError({ type: 'invalidResponseError', status: 200, message: 'a VALID answer without its key' }));
    // Basic keyId:token: the token must be that key's.
    if (keyId !== null && keyId !== key.id) return unauthorized('The key id does not match the token', undefined, 'invalid_token');
    return { ok: true, key, result, cached: fromCache };
  }

  function unavailable(error: KeywardError): CheckResult {
    const why = `${error.type}${error.status > 0 ? ` ${error.status}` : ''}: ${error.message}`;
    if (failOpen) {
      logUnavailable(`Keyward middleware: Keyward is unavailable (${why}); failing OPEN: the request goes through without a verified key`);
      return { ok: true, key: null, result: null, cached: false };
    }
    logUnavailable(`Keyward middleware: Keyward is unavailable (${why}); failing closed: answering 503`);
    return {
      ok: false,
      status: 503,
      body: envelope('keywardUnavailableError', 'The API key cannot be checked right now; try again shortly'),
      headers: { 'retry-after': '1' },
    };
  }

  async function check(headers: HeaderSource, route: RouteOptions = {}): Promise<CheckResult> {
    const credential = readCredential(headers);
    if (credential === null) return unauthorized('Missing API key: send Authorization: Bearer <key>, X-API-Key, or Basic credentials');
    if (credential === 'malformed') return unauthorized('Malformed credential header', undefined, 'invalid_request');

    const scopes = route.scopes ?? defaults.scopes;
    const environment = route.environment ?? defaults.environment;
    const cost = route.cost ?? defaults.cost;
    const projectId = route.projectId ?? defaults.projectId;
    const hostOption = route.host ?? defaults.host;
    let host: string | undefined;
    if (typeof hostOption === 'string') host = hostOption;
    else if (hostOption === undefined && hostFromHeader) {
      const value = header(headers, 'host') ?? header(headers, ':authority');
      // An absurd Host is not sent: a host-bound key then fails as FORBIDDEN_HOST, others do not care.
      if (value !== undefined && value !== '' && value.length <= MAX_HOST_LENGTH) host = value;
    }
    const request: VerifyRequest = {
      key: credential.key,
      ...(scopes !== undefined && scopes.length > 0 && { scopes }),
      ...(environment !== undefined && { environment }),
      ...(cost !== undefined && { cost }),
      ...(projectId !== undefined && { projectId }),
      ...(host !== undefined && { host }),
    };

    const key = cacheTtlMs > 0 ? cacheKey(credential.key, request) : null;
    if (key !== null) {
      const hit = cached(key);
      if (hit !== undefined) return accepted(hit, credential.keyId, true);
    }
    let result: VerifyResult;
    try {
      result = await client.verify(request);
    } catch (error) {
      if (!(error instanceof KeywardError)) throw error;
      if (isUnavailable(error)) return unavailable(error);
      // Keyward refused the request itself (a route option it rejects): a bug to fix, never a reason to fail open.
      log(`Keyward middleware: verify was refused (${error.type} ${error.status}: ${error.message}); answering 500`);
      return { ok: false, status: 500, body: envelope('internalError', 'The API key could not be checked'), headers: {} };
    }
    if (!result.valid) return refusal(result, request);
    if (key !== null) remember(key, result);
    return accepted(result, credential.keyId, false);
  }

  return {
    check,
    clear: () => cache.clear(),
    get size() {
      return cache.size;
    },
  };
}
