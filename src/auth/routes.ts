// Dashboard log-in, session and log-out. These routes sit outside the admin guard: log-in takes
// an e-mail address and password, the other two the session cookie.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors.js';
import { responses } from '../http/schemas.js';
import { LoginBody, SessionReply } from './schema.js';
import { csrfMatches, readCookie, SESSION_COOKIE, type SessionService } from './service.js';

export interface AuthRouteOptions {
  sessions: SessionService;
  /** Mark the cookie Secure even when the request did not arrive over https (behind a TLS proxy). */
  secureCookies: boolean;
}

const notLoggedIn = () => new AppError('unauthorizedApiKeyError', 401, 'Not logged in');

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, { sessions, secureCookies }) => {
  const cookie = (request: FastifyRequest, value: string, maxAgeSeconds: number) =>
    [
      `${SESSION_COOKIE}=${value}`,
      'Path=/',
      'HttpOnly',
      'SameSite=Strict',
      `Max-Age=${maxAgeSeconds}`,
      ...(secureCookies || request.protocol === 'https' ? ['Secure'] : []),
    ].join('; ');
  const clear = (request: FastifyRequest, reply: FastifyReply) => reply.header('set-cookie', cookie(request, '', 0));

  app.post(
    '/v1/auth/login',
    {
      schema: {
        tags: ['dashboard'],
        operationId: 'login',
        summary: 'Log in to the dashboard with e-mail and password',
        description: 'Sets an HttpOnly session cookie. Repeated failures for an address or client make the next try wait (429 with Retry-After).',
        body: LoginBody,
        response: responses({ 200: SessionReply }),
      },
    },
    async (request, reply) => {
      const userAgent = request.headers['user-agent'];
      const result = await sessions.login(request.body.email, request.body.password, { ip: request.ip, userAgent: userAgent ?? null });
      reply.header('set-cookie', cookie(request, result.token, result.maxAgeSeconds));
      reply.header('cache-control', 'no-store');
      return { session: result.session };
    },
  );

  app.get(
    '/v1/auth/session',
    { schema: { tags: ['dashboard'], operationId: 'getSession', summary: 'The current dashboard session', response: responses({ 200: SessionReply }) } },
    async (request, reply) => {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE);
      const session = token === null ? null : await sessions.find(token);
      if (session === null) {
        if (token !== null) clear(request, reply);
        throw notLoggedIn();
      }
      reply.header('cache-control', 'no-store');
      return { session };
    },
  );

  app.post(
    '/v1/auth/logout',
    { schema: { tags: ['dashboard'], operationId: 'logout', summary: 'End the dashboard session', response: responses({ 204: Type.Null() }) } },
    async (request, reply) => {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (token !== null) {
        const auth = await sessions.authenticate(token, request.ip);
        if (auth !== null) {
          const sent = request.headers['x-csrf-token'];
          if (!csrfMatches(typeof sent === 'string' ? sent : undefined, auth.csrfToken)) throw csrfRefused();
          await sessions.logout(token);
        }
      }
      clear(request, reply);
      return reply.code(204).send(null);
    },
  );
};

export function csrfRefused(): AppError {
  return new AppError('csrfError', 403, 'Missing or wrong X-CSRF-Token header: a dashboard session must send its csrfToken with every change');
}
