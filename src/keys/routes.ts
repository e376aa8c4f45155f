// HTTP routes of keys: parse, hand the caller to the service, reply. No rules live here.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import {
  ApiKeyListReply,
  ApiKeyReply,
  ApiKeySecretReply,
  CreateKeyBody,
  KeyIdParam,
  ListKeysQuery,
  ProjectIdParam,
  RotateKeyBody,
  UpdateKeyBody,
} from './schema.js';

/** Lets clients POST without a body where every field is optional. Only a missing body: an
 * explicit JSON `null` is not an object and must fail validation. */
async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

export const keyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const keys = app.services.keys;
  const common = { tags: ['keys'], security: ADMIN_SECURITY };

  app.post(
    '/v1/projects/:projectId/keys',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        ...common,
        operationId: 'createKey',
        summary: 'Create a key',
        description: 'The reply carries the secret (`key`, or `username` + `password` for identity keys): the only time it is shown.',
        params: ProjectIdParam,
        body: CreateKeyBody,
        response: responses({ 201: ApiKeySecretReply }, [404, 409]),
      },
    },
    async (request, reply) => {
      const apiKey = await keys.create(request.actor, request.params.projectId, request.body);
      return reply.code(201).send({ apiKey });
    },
  );

  app.get(
    '/v1/projects/:projectId/keys',
    {
      schema: {
        ...common,
        operationId: 'listKeys',
        summary: 'List keys',
        description: "Newest first. Without keys:manage_all only the caller's own keys.",
        params: ProjectIdParam,
        querystring: ListKeysQuery,
        response: responses({ 200: ApiKeyListReply }, [404]),
      },
    },
    async (request) => keys.list(request.actor, request.params.projectId, request.query),
  );

  app.get(
    '/v1/keys/:keyId',
    { schema: { ...common, operationId: 'getKey', summary: 'Get a key', params: KeyIdParam, response: responses({ 200: ApiKeyReply }, [404]) } },
    async (request) => ({ apiKey: await keys.get(request.actor, request.params.keyId) }),
  );

  app.patch(
    '/v1/keys/:keyId',
    {
      schema: {
        ...common,
        operationId: 'updateKey',
        summary: 'Update a key',
        description: 'Send only the fields to change; null clears an optional field. The owner account and project never change.',
        params: KeyIdParam,
        body: UpdateKeyBody,
        response: responses({ 200: ApiKeyReply }, [404, 409]),
      },
    },
    async (request) => ({ apiKey: await keys.update(request.actor, request.params.keyId, request.body) }),
  );

  app.delete(
    '/v1/keys/:keyId',
    { schema: { ...common, operationId: 'deleteKey', summary: 'Delete a key', params: KeyIdParam, response: responses({ 204: Type.Null() }, [404]) } },
    async (request, reply) => {
      await keys.delete(request.actor, request.params.keyId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/keys/:keyId/rotate',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        ...common,
        operationId: 'rotateKey',
        summary: 'Rotate a key',
        description: 'Issues a new secret (shown once). The old one keeps working for gracePeriodSeconds (default 0: it stops now).',
        params: KeyIdParam,
        body: RotateKeyBody,
        response: responses({ 200: ApiKeySecretReply }, [404]),
      },
    },
    async (request) => ({
      apiKey: await keys.rotate(request.actor, request.params.keyId, request.body.gracePeriodSeconds ?? 0),
    }),
  );

  app.post(
    '/v1/keys/:keyId/reveal',
    {
      schema: {
        ...common,
        operationId: 'revealKey',
        summary: 'Reveal a key’s secret',
        description: 'Only in projects with recoverable keys.',
        params: KeyIdParam,
        response: responses({ 200: ApiKeySecretReply }, [404, 409]),
      },
    },
    async (request) => ({ apiKey: await keys.reveal(request.actor, request.params.keyId) }),
  );
};
