// Request and response schemas of the project routes.
import { Type, type Static } from '@sinclair/typebox';
import { PREFIX_PATTERN } from '../domain/token.js';
import { IdPattern, Timestamp } from '../http/schemas.js';
import { Scopes } from '../keys/schema.js';

export const MAX_PROJECT_NAME = 100;
const Name = Type.String({ minLength: 1, maxLength: MAX_PROJECT_NAME, pattern: '^[^\\u0000-\\u001F\\u007F-\\u009F]*$' });
const Prefix = Type.String({ pattern: PREFIX_PATTERN, description: 'Token prefix: 2-16 lowercase letters/digits, starting with a letter' });
const MaxKeys = Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most keys one account may hold in this project' });

export const ProjectIdParams = Type.Object({ projectId: Type.String({ pattern: IdPattern('proj') }) }, { additionalProperties: false });

export const CreateProjectBody = Type.Object(
  {
    name: Name,
    scopes: Type.Optional(Scopes),
    prefix: Type.Optional(Prefix),
    maxKeysPerAccount: Type.Optional(MaxKeys),
    recoverable: Type.Optional(Type.Boolean({ description: 'Keep an encrypted copy of each token so it can be revealed' })),
  },
  { additionalProperties: false },
);
export type CreateProjectInput = Static<typeof CreateProjectBody>;

export const UpdateProjectBody = Type.Object(
  {
    name: Type.Optional(Name),
    scopes: Type.Optional(Scopes),
    prefix: Type.Optional(Prefix),
    maxKeysPerAccount: Type.Optional(MaxKeys),
    recoverable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateProjectInput = Static<typeof UpdateProjectBody>;

export const DeleteProjectQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ default: false, description: 'Also delete the keys of the project' })) },
  { additionalProperties: false },
);

export const Project = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String(),
    scopes: Type.Array(Type.String(), { description: "The project's scopes; `admin` is built in and not listed" }),
    maxKeysPerAccount: Type.Integer(),
    recoverable: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false, title: 'Project' },
);
export type ProjectResource = Static<typeof Project>;

export const ProjectReply = Type.Object({ project: Project });
export const ProjectListReply = Type.Object({ projects: Type.Array(Project) });
