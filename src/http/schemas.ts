// Schema building blocks shared by every route: the error envelope, nullable fields, string enums,
// timestamps and paging. TypeBox schemas are plain JSON Schema, so they feed validation,
// serialization and the OpenAPI document alike.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { ERROR_TYPES } from '../errors.js';

/** A string limited to `values` (one `enum`, so validation errors stay readable). */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `schema` or null, as a JSON Schema type list (OpenAPI 3.1 style; no anyOf). */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const { type, ...rest } = schema as unknown as { type: string } & Record<string, unknown>;
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [type, 'null'] });
}

export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });

export const ErrorEnvelope = Type.Object(
  {
    status: Type.Literal('error'),
    type: StringEnum(ERROR_TYPES, { description: 'What went wrong; clients branch on this, not on the message' }),
    error: Type.Object({
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The request field at fault (validation errors)' })),
    }),
  },
  { $id: 'ErrorEnvelope', title: 'Error' },
);

const ErrorRef = Type.Ref('ErrorEnvelope');

// Any route can refuse bad input (400, 413, 415) and answer 503 while its node shuts down; routes
// behind credentials also refuse them (401, 403) and throttle the admin key (429).
const PUBLIC_ERRORS = [400, 413, 415, 503];
const CREDENTIAL_ERRORS = [401, 403, 429];

/**
 * Response map for a route: its success schemas plus the error envelope for the usual statuses and
 * `errorStatuses`. `open`: the route takes no credentials (verify), so no 401/403/429.
 */
export function responses<T extends Record<number, TSchema>>(success: T, errorStatuses: readonly number[] = [], options: { open?: boolean } = {}) {
  const errors: Record<number, TSchema> = {};
  for (const status of [...PUBLIC_ERRORS, ...(options.open === true ? [] : CREDENTIAL_ERRORS), ...errorStatuses]) errors[status] = ErrorRef;
  return { ...errors, ...success } as T & Record<number, TSchema>;
}

export const PageQuery = {
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
};

export const IdPattern = (kind: string) => `^${kind}_[0-9A-HJKMNP-TV-Z]{26}$`;
