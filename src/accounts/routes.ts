// HTTP routes of accounts (workspace members).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { responses } from '../http/schemas.js';
import { ADMIN_SECURITY } from '../http/types.js';
import { AccountIdParams, AccountListReply, AccountReply, CreateAccountBody, UpdateAccountBody } from './schema.js';

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const accounts = app.services.accounts;
  const common = { tags: ['accounts'], security: ADMIN_SECURITY };

  app.get('/v1/accounts', { schema: { ...common, operationId: 'listAccounts', summary: 'List members', response: responses({ 200: AccountListReply }) } }, async (request) => ({
    accounts: await accounts.list(request.actor),
  }));

  app.post(
    '/v1/accounts',
    { schema: { ...common, operationId: 'createAccount', summary: 'Add a member', body: CreateAccountBody, response: responses({ 201: AccountReply }, [409]) } },
    async (request, reply) => reply.code(201).send({ account: await accounts.create(request.actor, request.body) }),
  );

  app.get(
    '/v1/accounts/:accountId',
    { schema: { ...common, operationId: 'getAccount', summary: 'Get a member', params: AccountIdParams, response: responses({ 200: AccountReply }, [404]) } },
    async (request) => ({ account: await accounts.get(request.actor, request.params.accountId) }),
  );

  app.patch(
    '/v1/accounts/:accountId',
    {
      schema: {
        ...common,
        operationId: 'updateAccount',
        summary: 'Update a member',
        description: 'A role change applies to the member’s keys at once.',
        params: AccountIdParams,
        body: UpdateAccountBody,
        response: responses({ 200: AccountReply }, [404, 409]),
      },
    },
    async (request) => ({ account: await accounts.update(request.actor, request.params.accountId, request.body) }),
  );

  app.delete(
    '/v1/accounts/:accountId',
    {
      schema: {
        ...common,
        operationId: 'deleteAccount',
        summary: 'Remove a member',
        description: 'Deletes the member’s keys too.',
        params: AccountIdParams,
        response: responses({ 204: Type.Null() }, [404, 409]),
      },
    },
    async (request, reply) => {
      await accounts.delete(request.actor, request.params.accountId);
      return reply.code(204).send(null);
    },
  );
};
