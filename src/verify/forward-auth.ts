// Forward-auth for gateways (nginx auth_request, Traefik forwardAuth, Envoy ext_authz in HTTP
// mode): the gateway sends the original request's headers here; the credential is verified like
// POST /v1/keys/verify, and the answer is a status the gateway acts on — 200 with X-Keyward-*
// headers to pass upstream, or 401 / 403 / 429 with the reason. What a route requires (scopes,
// environment, cost, project) comes from this endpoint's query string, set in the gateway's
// config (nginx, Traefik) — or, on /v1/forward-auth/<original path> (Envoy, which appends the
// client's own path and query), only from X-Keyward-Require-* headers the gateway adds. Never
// from both: a client must not be able to lower what its gateway requires.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import { envelope } from '../http/error-handler.js';
import { IdPattern, responses, StringEnum } from '../http/schemas.js';
import { parseAuthorization, parseCredential, type Credential } from '../http/credentials.js';
import { ENVIRONMENTS, type Environment } from '../domain/token.js';
import { MAX_COST } from '../keys/schema.js';
import type { VerifyRequest, VerifyResult } from './service.js';

const SCOPE_LIST = '^[a-z][a-z0-9_:.-]{0,63}(,[a-z][a-z0-9_:.-]{0,63}){0,49}$';

const ForwardAuthQuery = Type.Object(
  {
    scopes: Type.Optional(Type.String({ pattern: SCOPE_LIST, description: 'Required scopes, comma-separated' })),
    environment: Type.Optional(StringEnum(ENVIRONMENTS, { description: 'Require a key of this environment' })),
    cost: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_COST, description: 'Quota units the request uses (default 1)' })),
    projectId: Type.Optional(Type.String({ pattern: IdPattern('proj'), description: 'Accept only keys of this project' })),
  },
  { additionalProperties: false },
);

const CHALLENGE = 'Bearer realm="keyward", Basic realm="keyward"';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const; // HEAD comes with GET

interface Requirements {
  scopes?: string[];
  environment?: Environment;
  cost?: number;
  projectId?: string;
}

export const forwardAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Gateways may forward the original request's Content-Type with an empty (or unread) body:
  // whatever arrives is read and ignored, never refused as an unsupported media type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
  app.setChildLoggerFactory((logger) => logger);

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const requirements = readRequirements(request, request.url.startsWith('/v1/forward-auth/') ? 'headers' : 'query');
    const credential = readCredential(request);
    if (credential === null) return refuse(reply, 401, 'unauthorizedApiKeyError', 'MISSING', 'Missing credential: send Authorization: Bearer <key>, X-API-Key, Basic, or Proxy-Authorization: Basic');
    if (credential === 'malformed') return refuse(reply, 401, 'unauthorizedApiKeyError', 'MALFORMED', 'Malformed credential header');
    const host = forwardedHost(request);
    const verifyRequest: VerifyRequest = {
      key: credential.kind === 'token' ? credential.token : `${credential.username}:${credential.password}`,
      ...(requirements.scopes !== undefined && { scopes: requirements.scopes }),
      ...(requirements.environment !== undefined && { environment: requirements.environment }),
      ...(requirements.cost !== undefined && { cost: requirements.cost }),
      ...(requirements.projectId !== undefined && { projectId: requirements.projectId }),
      ...(host !== undefined && { host }),
    };
    const result = await app.services.verify.verify(verifyRequest, request.ip);
    if (result.valid && credential.kind === 'token' && credential.keyId !== null && credential.keyId !== result.key!.id) {
      return refuse(reply, 401, 'unauthorizedApiKeyError', 'NOT_FOUND', 'The key id does not match the token');
    }
    return answer(reply, result);
  };

  // The document shows GET (one operation, one operationId); every other method answers the same
  // (a gateway forwards the client's method), as does any path below the prefix.
  const routes = [
    { url: '/v1/forward-auth', methods: ['GET'], hide: false },
    { url: '/v1/forward-auth', methods: METHODS.filter((method) => method !== 'GET'), hide: true },
    { url: '/v1/forward-auth/*', methods: [...METHODS], hide: true },
  ];
  for (const { url, methods, hide } of routes) {
    app.route({
      method: methods,
      url,
      schema: {
        ...(hide && { hide: true }),
        tags: ['verify'],
        operationId: 'forwardAuth',
        summary: 'Forward-auth for gateways',
        description:
          'Any HTTP method. Verifies the credential in the forwarded headers (Authorization Bearer or Basic, X-API-Key, Proxy-Authorization Basic for identity keys) against the host in X-Forwarded-Host / X-Original-Host. 200 with X-Keyward-Key-Id, -Account-Id, -Project-Id, -Scopes, -Remaining; 401, 403 or 429 (with Retry-After) otherwise, with X-Keyward-Code. Requirements come from the query string or X-Keyward-Require-Scopes / -Environment / -Cost / -Project headers.',
        // Below the prefix the query is the client's own (Envoy appends it): never read or validated.
        ...(!url.endsWith('*') && { querystring: ForwardAuthQuery }),
        response: responses({ 200: Type.Object({ valid: Type.Literal(true), code: Type.Literal('VALID') }) }),
      },
      handler,
    });
  }
};

function readCredential(request: FastifyRequest): Credential | null | 'malformed' {
  const credential = parseCredential(request.headers);
  if (credential !== null) return credential;
  // Identity keys through a proxy: Proxy-Authorization: Basic base64(username:password).
  const proxy = request.headers['proxy-authorization'];
  if (proxy === undefined) return null;
  const parsed = parseAuthorization(proxy);
  return parsed === 'malformed' || parsed.kind !== 'identity' ? 'malformed' : parsed;
}

/**
 * The query string (nginx, Traefik: the gateway's config sets the whole address) or the
 * X-Keyward-Require-* headers (Envoy: the gateway adds them; the query there is the client's).
 */
function readRequirements(request: FastifyRequest, source: 'query' | 'headers'): Requirements {
  const query = source === 'query' ? (request.query as Requirements & { scopes?: string }) : {};
  const header = (name: string): string | undefined => {
    if (source !== 'headers') return undefined;
    const value = request.headers[`x-keyward-require-${name}`];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const scopes = query.scopes ?? header('scopes');
  if (scopes !== undefined && !new RegExp(SCOPE_LIST).test(scopes)) throw invalid('scopes', 'scopes must be a comma-separated list of scope names');
  const environment = query.environment ?? header('environment');
  if (environment !== undefined && !(ENVIRONMENTS as readonly string[]).includes(environment)) throw invalid('environment', 'environment must be live or test');
  const costText = query.cost ?? header('cost');
  const cost = costText === undefined ? undefined : Number(costText);
  if (cost !== undefined && (!Number.isInteger(cost) || cost < 0 || cost > MAX_COST)) throw invalid('cost', `cost must be an integer from 0 to ${MAX_COST}`);
  const projectId = query.projectId ?? header('project');
  if (projectId !== undefined && !new RegExp(IdPattern('proj')).test(projectId)) throw invalid('projectId', 'projectId must be a project id');
  return {
    ...(scopes !== undefined && { scopes: scopes.split(',') }),
    ...(environment !== undefined && { environment: environment as Environment }),
    ...(cost !== undefined && { cost }),
    ...(projectId !== undefined && { projectId }),
  };
}

function invalid(field: string, message: string): AppError {
  return new AppError('validationError', 400, message, field);
}

/** The original request's host, without a port: X-Forwarded-Host (first hop), else X-Original-Host. */
function forwardedHost(request: FastifyRequest): string | undefined {
  for (const name of ['x-forwarded-host', 'x-original-host']) {
    const value = request.headers[name];
    const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
    if (first !== undefined && first !== '') return first;
  }
  return undefined;
}

function answer(reply: FastifyReply, result: VerifyResult): FastifyReply {
  const key = result.key;
  if (result.valid && key !== undefined) {
    void reply.headers({
      'x-keyward-code': 'VALID',
      'x-keyward-key-id': key.id,
      'x-keyward-account-id': key.accountId,
      'x-keyward-project-id': key.projectId,
      'x-keyward-environment': key.environment,
      'x-keyward-scopes': key.scopes.join(','),
      ...(result.usage !== undefined && { 'x-keyward-remaining': String(result.usage.remaining) }),
      ...(result.rateLimit !== undefined && { 'x-keyward-ratelimit-remaining': String(result.rateLimit.remaining) }),
      'cache-control': 'no-store',
    });
    return reply.code(200).send({ valid: true, code: 'VALID' });
  }
  switch (result.code) {
    case 'INSUFFICIENT_SCOPE':
      return refuse(reply, 403, 'unauthorizedApiKeyError', result.code, `This API key lacks the scope(s) ${(result.missingScopes ?? []).join(', ')}`);
    case 'FORBIDDEN_HOST':
      return refuse(reply, 403, 'unauthorizedApiKeyError', result.code, 'This API key may not be used for this host');
    case 'WRONG_ENVIRONMENT':
      return refuse(reply, 403, 'unauthorizedApiKeyError', result.code, 'This API key belongs to another environment');
    case 'RATE_LIMITED': {
      void reply.header('retry-after', String(result.retryAfterSeconds ?? 1));
      return refuse(reply, 429, 'rateLimitedError', result.code, 'Rate limit of this API key reached');
    }
    case 'USAGE_EXCEEDED':
      void reply.header('x-keyward-remaining', '0');
      if (result.retryAfterSeconds !== undefined) void reply.header('retry-after', String(result.retryAfterSeconds));
      return refuse(reply, 429, 'usageExceededError', result.code, 'Usage limit of this API key reached');
    case 'DISABLED':
      return refuse(reply, 401, 'unauthorizedApiKeyError', result.code, 'This API key is disabled');
    case 'EXPIRED':
      return refuse(reply, 401, 'unauthorizedApiKeyError', result.code, 'This API key has expired');
    default:
      return refuse(reply, 401, 'unauthorizedApiKeyError', result.code, 'Invalid API key');
  }
}

function refuse(reply: FastifyReply, status: 401 | 403 | 429, type: 'unauthorizedApiKeyError' | 'rateLimitedError' | 'usageExceededError', code: string, message: string): FastifyReply {
  void reply.header('x-keyward-code', code).header('cache-control', 'no-store');
  if (status === 401) void reply.header('www-authenticate', CHALLENGE);
  return reply.code(status).send(envelope(new AppError(type, status, message)));
}
