// GET /v1/audit-log.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { AuditListReply, ListAuditQuery } from './schema.js';

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/audit-log',
    {
      schema: {
        tags: ['audit'],
        security: ADMIN_SECURITY,
        operationId: 'listAuditLog',
        summary: 'Audit log',
        description: 'Who changed what, when and from where; newest first, paged by cursor. Needs audit:read.',
        querystring: ListAuditQuery,
        response: responses({ 200: AuditListReply }),
      },
    },
    async (request) => app.services.audit.list(request.actor, request.query),
  );
};
