// Every API operation the client calls, by method name: HTTP method and path as the OpenAPI
// document spells them. The request and reply types of each come from the generated `paths`, so
// a path the server drops or a schema it changes breaks the SDK's typecheck, and a test walks the
// document to make sure no operation is missing from this table.
import type { paths } from './generated/schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OperationDefinition {
  method: HttpMethod;
  path: keyof paths;
  /** False for the one public endpoint (verify): the admin credential is not sent there. */
  authenticated: boolean;
}

export const OPERATIONS = {
  verify: { method: 'POST', path: '/v1/keys/verify', authenticated: false },
  'workspace.get': { method: 'GET', path: '/v1/workspace', authenticated: true },
  'projects.list': { method: 'GET', path: '/v1/projects', authenticated: true },
  'projects.create': { method: 'POST', path: '/v1/projects', authenticated: true },
  'projects.get': { method: 'GET', path: '/v1/projects/{projectId}', authenticated: true },
  'projects.update': { method: 'PATCH', path: '/v1/projects/{projectId}', authenticated: true },
  'projects.delete': { method: 'DELETE', path: '/v1/projects/{projectId}', authenticated: true },
  'accounts.list': { method: 'GET', path: '/v1/accounts', authenticated: true },
  'accounts.create': { method: 'POST', path: '/v1/accounts', authenticated: true },
  'accounts.get': { method: 'GET', path: '/v1/accounts/{accountId}', authenticated: true },
  'accounts.update': { method: 'PATCH', path: '/v1/accounts/{accountId}', authenticated: true },
  'accounts.delete': { method: 'DELETE', path: '/v1/accounts/{accountId}', authenticated: true },
  'keys.create': { method: 'POST', path: '/v1/projects/{projectId}/keys', authenticated: true },
  'keys.list': { method: 'GET', path: '/v1/projects/{projectId}/keys', authenticated: true },
  'keys.get': { method: 'GET', path: '/v1/keys/{keyId}', authenticated: true },
  'keys.update': { method: 'PATCH', path: '/v1/keys/{keyId}', authenticated: true },
  'keys.delete': { method: 'DELETE', path: '/v1/keys/{keyId}', authenticated: true },
  'keys.rotate': { method: 'POST', path: '/v1/keys/{keyId}/rotate', authenticated: true },
  'keys.reveal': { method: 'POST', path: '/v1/keys/{keyId}/reveal', authenticated: true },
  'logs.list': { method: 'GET', path: '/v1/projects/{projectId}/logs', authenticated: true },
  'usage.get': { method: 'GET', path: '/v1/keys/{keyId}/usage', authenticated: true },
  'auditLog.list': { method: 'GET', path: '/v1/audit-log', authenticated: true },
  'push.get': { method: 'GET', path: '/v1/keys/{keyId}/push', authenticated: true },
  'push.set': { method: 'PUT', path: '/v1/keys/{keyId}/push', authenticated: true },
  'push.remove': { method: 'DELETE', path: '/v1/keys/{keyId}/push', authenticated: true },
  'push.realtime': { method: 'POST', path: '/v1/keys/{keyId}/push/realtime', authenticated: true },
  'push.startHistory': { method: 'POST', path: '/v1/keys/{keyId}/push/history', authenticated: true },
  'leaks.report': { method: 'POST', path: '/v1/leaks', authenticated: true },
} as const satisfies Record<string, OperationDefinition>;

/** Paths of the document the client leaves out on purpose: the dashboard's cookie sessions, the operations probes and the gateways' forward-auth. */
export const NOT_IN_CLIENT: readonly string[] = ['/v1/auth/login', '/v1/auth/session', '/v1/auth/logout', '/healthz', '/readyz', '/metrics', '/v1/forward-auth'];

export type OperationName = keyof typeof OPERATIONS;
type Definition<N extends OperationName> = (typeof OPERATIONS)[N];

/** The generated type of one operation (never when the table names a method the path lacks). */
export type OperationOf<N extends OperationName> =
  paths[Definition<N>['path']] extends infer Item
    ? Lowercase<Definition<N>['method']> extends keyof Item
      ? NonNullable<Item[Lowercase<Definition<N>['method']>]>
      : never
    : never;

/** The JSON request body, or never when the operation takes none. */
export type RequestBody<N extends OperationName> = OperationOf<N> extends { requestBody: { content: { 'application/json': infer Body } } } ? Body : never;

/** The query parameters. All optional: the document marks those with a default as required,
 * but the server fills the default in. */
export type QueryOf<N extends OperationName> = OperationOf<N> extends { parameters: { query?: infer Query } } ? Partial<NonNullable<Query>> : never;

export type PathParams<N extends OperationName> = OperationOf<N> extends { parameters: { path: infer Params } } ? Params : never;

type SuccessStatus = 200 | 201 | 204;
type Responses<N extends OperationName> = OperationOf<N>['responses'];

/** The body of the operation's success answer; undefined for 204 No Content. */
export type ReplyOf<N extends OperationName> =
  Responses<N>[Extract<keyof Responses<N>, SuccessStatus>] extends { content: { 'application/json': infer Reply } } ? Reply : undefined;

// Fails to compile when the table names a method that its path does not have in the document
// (the error names the operation).
type MissingOperations = { [N in OperationName]: [OperationOf<N>] extends [never] ? N : never }[OperationName];
type NoneMissing<T extends never> = T;
type _EveryOperationExists = NoneMissing<MissingOperations>;
