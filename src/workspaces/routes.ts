// GET /v1/workspace: the caller's workspace, account and permission points.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { WorkspaceReply } from './schema.js';
import { describeWorkspace } from './service.js';

export const workspaceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/workspace',
    { schema: { tags: ['workspace'], security: ADMIN_SECURITY, operationId: 'getWorkspace', summary: 'The caller’s workspace', response: responses({ 200: WorkspaceReply }) } },
    async (request) => describeWorkspace(app.services.storage.db, request.actor),
  );
};
