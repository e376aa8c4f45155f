// Response schema of GET /v1/workspace.
import { Type } from '@sinclair/typebox';
import { Timestamp } from '../http/schemas.js';
import { Account } from '../accounts/schema.js';

export const Workspace = Type.Object(
  { id: Type.String(), name: Type.String(), createdAt: Timestamp, updatedAt: Timestamp },
  { additionalProperties: false, title: 'Workspace' },
);

export const WorkspaceReply = Type.Object({
  workspace: Workspace,
  account: Account,
  permissions: Type.Array(Type.String(), { description: "The caller's permission points" }),
  credential: Type.Object(
    {
      type: Type.Union([Type.Literal('key'), Type.Literal('root'), Type.Literal('session')]),
      keyId: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
});
