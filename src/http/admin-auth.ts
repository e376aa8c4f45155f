// Authenticates admin API calls. The root key (KEYWARD_ROOT_KEY) acts as the first workspace's
// owner; any other credential is verified like a key that must carry the `admin` scope, so
// disabled, expired, rate-limited and host-bound keys are refused the same way verify refuses
// them, and the caller's power is its account's permission points. Without a credential header, a
// dashboard session cookie authenticates as its account; its changes must carry the CSRF token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../storage/database.js';
import { AppError, forbidden } from '../errors.js';
import type { Actor } from '../domain/actor.js';
import { ADMIN_SCOPE, permissionsOf } from '../domain/permissions.js';
import type { VerifyService } from '../verify/service.js';
import { findRootActor } from '../workspaces/service.js';
import { parseCredential } from './credentials.js';
import { csrfMatches, readCookie, SESSION_COOKIE, type SessionService } from '../auth/service.js';
import { csrfRefused } from '../auth/routes.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const CHALLENGE = { 'www-authenticate': 'Bearer realm="keyward", Basic realm="keyward"' };

const digest = (value: string) => createHash('sha256').update(value).digest();

export class AdminAuthenticator {
  private readonly rootKeyDigest: Buffer | null;

  constructor(
    private readonly db: Db,
    private readonly verifier: VerifyService,
    rootKey: string | undefined,
    private readonly sessions: SessionService | null = null,
  ) {
    this.rootKeyDigest = rootKey === undefined ? null : digest(rootKey);
  }

  async authenticate(request: FastifyRequest): Promise<Actor> {
    const credential = parseCredential(request.headers);
    if (credential === null && this.sessions !== null) {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (token !== null) return this.authenticateSession(request, this.sessions, token);
    }
    if (credential === null) {
      throw refuse('Missing credential: send Authorization: Bearer <admin key>, X-API-Key, or Basic base64(keyId:token)');
    }
    if (credential === 'malformed') throw refuse('Malformed credential header');

    if (credential.kind === 'token' && credential.keyId === null && this.isRootKey(credential.token)) {
      const actor = await findRootActor(this.db);
      if (actor === null) throw refuse('No workspace exists yet');
      return { ...actor, ip: request.ip };
    }

    const key = credential.kind === 'token' ? credential.token : `${credential.username}:${credential.password}`;
    const result = await this.verifier.verify({ key, scopes: [ADMIN_SCOPE], host: request.ip }, request.ip);
    switch (result.code) {
      case 'VALID': {
        const record = result.record!;
        if (credential.kind === 'token' && credential.keyId !== null && credential.keyId !== record.id) {
          throw refuse('The key id does not match the token');
        }
        return {
          workspaceId: record.workspaceId,
          accountId: record.accountId,
          role: record.role,
          permissions: permissionsOf(record.role),
          credentialType: 'key',
          credentialKeyId: record.id,
          ip: request.ip,
        };
      }
      case 'MALFORMED':
      case 'NOT_FOUND':
        throw refuse('Invalid API key');
      case 'DISABLED':
        throw refuse('This API key is disabled');
      case 'EXPIRED':
        throw refuse('This API key has expired');
      case 'INSUFFICIENT_SCOPE':
        throw forbidden(`This API key does not have the '${ADMIN_SCOPE}' scope needed for the admin API`);
      case 'FORBIDDEN_HOST':
        throw forbidden('This API key may not be used from this address');
      case 'WRONG_ENVIRONMENT':
        throw forbidden('This API key may not be used in this environment');
      case 'RATE_LIMITED': {
        throw new AppError('rateLimitedError', 429, 'Rate limit of this API key reached', undefined, { 'retry-after': String(result.retryAfterSeconds ?? 1) });
      }
      case 'USAGE_EXCEEDED': {
        const headers = result.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(result.retryAfterSeconds) };
        throw new AppError('usageExceededError', 429, 'Usage limit of this API key reached', undefined, headers);
      }
    }
  }

  private async authenticateSession(request: FastifyRequest, sessions: SessionService, token: string): Promise<Actor> {
    const auth = await sessions.authenticate(token, request.ip);
    if (auth === null) throw refuse('Your session has ended; log in again');
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (!csrfMatches(typeof sent === 'string' ? sent : undefined, auth.csrfToken)) throw csrfRefused();
    }
    return auth.actor;
  }

  private isRootKey(token: string): boolean {
    return this.rootKeyDigest !== null && timingSafeEqual(digest(token), this.rootKeyDigest);
  }
}

function refuse(message: string): AppError {
  return new AppError('unauthorizedApiKeyError', 401, message, undefined, CHALLENGE);
}
