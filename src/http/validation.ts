// Request validation: bodies are strict (no type coercion, unknown fields rejected, never
// silently removed); query strings and path params are coerced from text, and also reject
// unknown fields. Errors are turned into a message that names the field.
import { Ajv, type ErrorObject, type Options } from 'ajv';
import { createRequire } from 'node:module';
import type { FastifySchemaCompiler } from 'fastify';
import { validationError, type AppError } from '../errors.js';

// ajv-formats is CommonJS whose typings describe `exports.default`; require it to get the function.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv, formats: string[]) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ removeAdditional: false, useDefaults: true, allErrors: false, strict: false, ...options });
  addFormats(ajv, ['date-time', 'email', 'uri']);
  return ajv;
}

const bodyAjv = makeAjv({ coerceTypes: false });
const textAjv = makeAjv({ coerceTypes: 'array' });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object);
};

/** `/scopes/1` → `scopes[1]`, `/rateLimit/limit` → `rateLimit.limit`. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`), '');
}

/** One readable validation error for the first problem ajv found. */
export function validationErrorFrom(errors: readonly ErrorObject[], context: string): AppError {
  const first = errors[0];
  if (first === undefined) return validationError(context, `invalid ${context}`);
  let field = fieldPath(first.instancePath);
  const params = first.params as Record<string, unknown>;
  const join = (name: string) => (field === '' ? name : `${field}.${name}`);
  let message: string;
  switch (first.keyword) {
    case 'additionalProperties':
      field = join(String(params.additionalProperty));
      message = `unknown field '${field}'`;
      break;
    case 'required':
      field = join(String(params.missingProperty));
      message = `${field} is required`;
      break;
    case 'enum':
      message = `${field || context} must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
      break;
    case 'type':
      message = `${field || context} must be of type ${Array.isArray(params.type) ? params.type.join(' or ') : String(params.type)}`;
      break;
    case 'format':
      message = `${field || context} must be a valid ${String(params.format)}${params.format === 'date-time' ? ' (ISO 8601 with time zone, e.g. 2030-01-31T12:00:00Z)' : ''}`;
      break;
    case 'pattern':
      message = `${field || context} has characters or a shape that is not allowed`;
      break;
    default:
      message = `${field || context} ${first.message ?? 'is invalid'}`;
  }
  if (field === '') field = context;
  return validationError(field, message);
}
