// Fastify 5: `keyward(options)` gives a factory of preHandler hooks, `guard(route)`; the verified
// key is set as `request.keyward` (call `app.decorateRequest('keyward', null)` once to keep
// request objects of one shape). Only Fastify's types are imported: it is no dependency of the SDK.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { createGuard, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the Keyward preHandler: the verified key; null only when failing open. */
    keyward?: VerifiedKey | null;
  }
}

export type KeywardFastify = ((route?: RouteOptions) => preHandlerAsyncHookHandler) & { guard: Guard };

export function keyward(options: GuardOptions): KeywardFastify {
  const guard = createGuard(options);
  const factory = (route?: RouteOptions): preHandlerAsyncHookHandler =>
    async function keywardPreHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const outcome = await guard.check(request.headers, route);
      if (!outcome.ok) {
        await reply.code(outcome.status).headers(outcome.headers).type('application/json; charset=utf-8').send(outcome.body);
        return;
      }
      request.keyward = outcome.key;
    };
  return Object.assign(factory, { guard });
}

export { createGuard, type CheckResult, type Failure, type Guard, type GuardOptions, type RouteOptions, type VerifiedKey } from './core.js';
