// HTTP routes of projects.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { CreateProjectBody, DeleteProjectQuery, ProjectIdParams, ProjectListReply, ProjectReply, UpdateProjectBody } from './schema.js';

export const projectRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const projects = app.services.projects;
  const common = { tags: ['projects'], security: ADMIN_SECURITY };

  app.get('/v1/projects', { schema: { ...common, operationId: 'listProjects', summary: 'List projects', response: responses({ 200: ProjectListReply }) } }, async (request) => ({
    projects: await projects.list(request.actor),
  }));

  app.post(
    '/v1/projects',
    { schema: { ...common, operationId: 'createProject', summary: 'Create a project', body: CreateProjectBody, response: responses({ 201: ProjectReply }, [409]) } },
    async (request, reply) => reply.code(201).send({ project: await projects.create(request.actor, request.body) }),
  );

  app.get(
    '/v1/projects/:projectId',
    { schema: { ...common, operationId: 'getProject', summary: 'Get a project', params: ProjectIdParams, response: responses({ 200: ProjectReply }, [404]) } },
    async (request) => ({ project: await projects.get(request.actor, request.params.projectId) }),
  );

  app.patch(
    '/v1/projects/:projectId',
    {
      schema: {
        ...common,
        operationId: 'updateProject',
        summary: 'Update a project',
        params: ProjectIdParams,
        body: UpdateProjectBody,
        response: responses({ 200: ProjectReply }, [404, 409]),
      },
    },
    async (request) => ({ project: await projects.update(request.actor, request.params.projectId, request.body) }),
  );

  app.delete(
    '/v1/projects/:projectId',
    {
      schema: {
        ...common,
        operationId: 'deleteProject',
        summary: 'Delete a project',
        description: 'Refused while the project has keys, unless force=true (which deletes them too).',
        params: ProjectIdParams,
        querystring: DeleteProjectQuery,
        response: responses({ 204: Type.Null() }, [404, 409]),
      },
    },
    async (request, reply) => {
      await projects.delete(request.actor, request.params.projectId, request.query.force ?? false);
      return reply.code(204).send(null);
    },
  );
};
