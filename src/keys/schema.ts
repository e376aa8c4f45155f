// Request and response schemas of the key routes: the single source for validation, types,
// serialization and the OpenAPI document. Every limit lives here.
import { Type, type Static } from '@sinclair/typebox';
import { ENVIRONMENTS } from '../domain/token.js';
import { KEY_STATUSES } from '../domain/status.js';
import { MAX_NAME_LENGTH, NAME_PATTERN } from '../domain/names.js';
import { MAX_SCOPES, SCOPE_PATTERN } from '../domain/permissions.js';
import { REFILL_INTERVALS } from '../domain/quota.js';
import { MAX_HOST_LENGTH } from '../domain/host.js';
import { IdPattern, Nullable, PageQuery, StringEnum, Timestamp } from '../http/schemas.js';

export const MAX_META_BYTES = 4096;
export const MAX_LIMITED_AMOUNT = 1e15; // within Number's exact integers, with room to add costs
export const MAX_COST = 1_000_000_000;
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;

export const KeyId = Type.String({ pattern: IdPattern('key'), description: 'Key id (key_…)' });
export const ProjectIdParam = Type.Object({ projectId: Type.String({ pattern: IdPattern('proj') }) }, { additionalProperties: false });
export const KeyIdParam = Type.Object({ keyId: KeyId }, { additionalProperties: false });

const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: NAME_PATTERN });
export const Scope = Type.String({ pattern: SCOPE_PATTERN, maxLength: 64 });
export const Scopes = Type.Array(Scope, { maxItems: MAX_SCOPES });
const Environment = StringEnum(ENVIRONMENTS);
const KeyType = StringEnum(['token', 'identity'] as const);
const Host = Type.String({ minLength: 1, maxLength: MAX_HOST_LENGTH, description: 'Domain, *.domain, IP address or CIDR' });
const Refill = Type.Object(
  { interval: StringEnum(REFILL_INTERVALS, { description: 'The quota starts again at each UTC day or month' }) },
  { additionalProperties: false },
);
const RateLimit = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    windowMs: Type.Integer({ minimum: 1000, maximum: 86_400_000, description: 'Window length in ms (1 s to 1 day)' }),
  },
  { additionalProperties: false },
);
const Meta = Type.Object({}, { additionalProperties: true, maxProperties: 64, description: `Free JSON object, at most ${MAX_META_BYTES} bytes` });
const LimitedAmount = Type.Integer({ minimum: 0, maximum: MAX_LIMITED_AMOUNT });

/** Fields both create and update accept. */
const EditableFields = {
  name: Type.Optional(Name),
  scopes: Type.Optional(Scopes),
  expiresAt: Type.Optional(Nullable(Timestamp)),
  host: Type.Optional(Nullable(Host)),
  limitedAmount: Type.Optional(Nullable(LimitedAmount)),
  refill: Type.Optional(Nullable(Refill)),
  rateLimit: Type.Optional(Nullable(RateLimit)),
  meta: Type.Optional(Nullable(Meta)),
};

export const CreateKeyBody = Type.Object(
  {
    ...EditableFields,
    accountId: Type.Optional(Type.String({ pattern: IdPattern('acc'), description: "Owner account (default: the caller's)" })),
    environment: Type.Optional(Environment),
    type: Type.Optional(KeyType),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateKeyInput = Static<typeof CreateKeyBody>;

export const UpdateKeyBody = Type.Object({ ...EditableFields, enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type UpdateKeyInput = Static<typeof UpdateKeyBody>;

export const RotateKeyBody = Type.Object(
  {
    gracePeriodSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_GRACE_PERIOD_SECONDS, default: 0, description: 'How long the old secret keeps working' }),
    ),
  },
  { additionalProperties: false },
);

export const ListKeysQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: MAX_NAME_LENGTH, description: 'Fuzzy, case-insensitive name search' })),
    environment: Type.Optional(Environment),
    status: Type.Optional(StringEnum(KEY_STATUSES)),
    accountId: Type.Optional(Type.String({ pattern: IdPattern('acc') })),
  },
  { additionalProperties: false },
);
export type ListKeysInput = Static<typeof ListKeysQuery>;

export const ApiKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    start: Type.String({ description: 'First characters of the secret, for display' }),
    projectId: Type.String(),
    accountId: Type.String(),
    environment: Environment,
    type: KeyType,
    username: Nullable(Type.String()),
    scopes: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    disabledReason: Nullable(Type.String({ description: 'Set when the system disabled the key (`leaked`)' })),
    status: StringEnum(KEY_STATUSES),
    expiresAt: Nullable(Timestamp),
    host: Nullable(Type.String()),
    limitedAmount: Nullable(Type.Integer()),
    usedAmount: Type.Integer(),
    refill: Nullable(Refill),
    rateLimit: Nullable(RateLimit),
    meta: Nullable(Meta),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    lastUsedAt: Nullable(Timestamp),
  },
  { additionalProperties: false, title: 'ApiKey' },
);
export type ApiKeyResource = Static<typeof ApiKey>;

/** A key with its secret: only in replies to create, rotate and reveal. */
export const ApiKeyWithSecret = Type.Object(
  {
    ...ApiKey.properties,
    key: Type.Optional(Type.String({ description: 'The token (token keys). Shown once.' })),
    password: Type.Optional(Type.String({ description: 'The password (identity keys). Shown once.' })),
  },
  { additionalProperties: false },
);
export type ApiKeyWithSecretResource = Static<typeof ApiKeyWithSecret>;

export const ApiKeyReply = Type.Object({ apiKey: ApiKey });
export const ApiKeySecretReply = Type.Object({ apiKey: ApiKeyWithSecret });
export const ApiKeyListReply = Type.Object({
  apiKeys: Type.Array(ApiKey),
  page: Type.Integer(),
  pageSize: Type.Integer(),
  total: Type.Integer(),
});
