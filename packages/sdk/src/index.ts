// @keyward/sdk: a typed client for Keyward's verify and admin API.
export { Keyward, type KeywardOptions } from './client.js';
export {
  KeywardError,
  SERVER_ERROR_TYPES,
  CLIENT_ERROR_TYPES,
  type KeywardErrorInit,
  type KeywardErrorType,
  type ServerErrorType,
  type ClientErrorType,
} from './errors.js';
export { OPERATIONS, type OperationName, type HttpMethod } from './operations.js';
export { SDK_VERSION } from './version.js';
export type * from './types.js';
export type { paths, components } from './generated/schema.js';
