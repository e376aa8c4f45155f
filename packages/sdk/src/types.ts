// Names for the request and reply types of the API, all taken from the generated OpenAPI types
// (the document inlines its schemas, so they are picked out of the operations that use them).
import type { components } from './generated/schema.js';
import type { QueryOf, ReplyOf, RequestBody } from './operations.js';

export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

// Verify
export type VerifyRequest = RequestBody<'verify'>;
export type VerifyResult = ReplyOf<'verify'>;
export type VerifyCode = VerifyResult['code'];

// Workspace
export type WorkspaceInfo = ReplyOf<'workspace.get'>;
export type Workspace = WorkspaceInfo['workspace'];
export type Permission = WorkspaceInfo['permissions'][number];

// Projects
export type Project = ReplyOf<'projects.get'>['project'];
export type ProjectList = ReplyOf<'projects.list'>;
export type CreateProjectRequest = RequestBody<'projects.create'>;
export type UpdateProjectRequest = RequestBody<'projects.update'>;
export type DeleteProjectOptions = QueryOf<'projects.delete'>;

// Accounts
export type Account = ReplyOf<'accounts.get'>['account'];
export type AccountList = ReplyOf<'accounts.list'>;
export type Role = Account['role'];
export type CreateAccountRequest = RequestBody<'accounts.create'>;
export type UpdateAccountRequest = RequestBody<'accounts.update'>;

// Keys
export type ApiKey = ReplyOf<'keys.get'>['apiKey'];
/** A key with its secret (`key`, or `password` for identity keys): only from create, rotate and reveal. */
export type ApiKeyWithSecret = ReplyOf<'keys.create'>['apiKey'];
export type ApiKeyList = ReplyOf<'keys.list'>;
export type KeyStatus = ApiKey['status'];
export type Environment = ApiKey['environment'];
export type CreateKeyRequest = RequestBody<'keys.create'>;
export type UpdateKeyRequest = RequestBody<'keys.update'>;
export type ListKeysQuery = QueryOf<'keys.list'>;
export type RotateKeyOptions = RequestBody<'keys.rotate'>;

// Usage logs and aggregates
export type LogList = ReplyOf<'logs.list'>;
export type UsageLog = LogList['logs'][number];
export type ListLogsQuery = QueryOf<'logs.list'>;
export type KeyUsage = ReplyOf<'usage.get'>;
export type UsageBucket = KeyUsage['usage'][number];
export type UsageQuery = QueryOf<'usage.get'>;

// Audit log
export type AuditLogPage = ReplyOf<'auditLog.list'>;
export type AuditEntry = AuditLogPage['entries'][number];
export type ListAuditQuery = QueryOf<'auditLog.list'>;

// Push
export type Push = ReplyOf<'push.get'>['push'];
/** Push settings with the signing secret (`whsec_…`): only in the reply to `push.set`. */
export type PushWithSecret = ReplyOf<'push.set'>['push'];
export type SetPushRequest = RequestBody<'push.set'>;

// Leaks
export type LeakReport = ReplyOf<'leaks.report'>;
