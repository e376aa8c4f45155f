// HTTP routes of usage logs and per-key usage.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { KeyIdParam, ProjectIdParam } from '../keys/schema.js';
import { ListLogsQuery, LogListReply, UsageQuery, UsageReply } from './schema.js';

export const logRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const logs = app.services.logs;
  const common = { tags: ['logs'], security: ADMIN_SECURITY };

  app.get(
    '/v1/projects/:projectId/logs',
    {
      schema: {
        ...common,
        operationId: 'listUsageLogs',
        summary: 'Usage logs',
        description: 'Every verification of the project’s keys, newest first, paged by cursor.',
        params: ProjectIdParam,
        querystring: ListLogsQuery,
        response: responses({ 200: LogListReply }, [404]),
      },
    },
    async (request) => logs.list(request.actor, request.params.projectId, request.query),
  );

  app.get(
    '/v1/keys/:keyId/usage',
    {
      schema: {
        ...common,
        operationId: 'getKeyUsage',
        summary: 'Usage of a key over time',
        description: 'Counts per hour or day by outcome (default: the 24 hours, or 30 days, up to the end of the current one).',
        params: KeyIdParam,
        querystring: UsageQuery,
        response: responses({ 200: UsageReply }, [404]),
      },
    },
    async (request) => logs.usage(request.actor, request.params.keyId, request.query),
  );
};
