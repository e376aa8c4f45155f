// POST /v1/leaks.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { LeakBody, LeakReply } from './schema.js';

export const leakRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/leaks',
    {
      schema: {
        tags: ['keys'],
        security: ADMIN_SECURITY,
        operationId: 'reportLeaks',
        summary: 'Report leaked tokens',
        description: 'Matching keys of the caller’s workspace are disabled with reason `leaked`, audited and pushed as key.leaked.',
        body: LeakBody,
        response: responses({ 200: LeakReply }),
      },
    },
    async (request) => app.services.leaks.report(request.actor, request.body.tokens),
  );
};
