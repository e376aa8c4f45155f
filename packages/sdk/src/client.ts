// The Keyward client: verify and every admin operation of OPERATIONS, typed by the generated
// OpenAPI types. A reply that wraps one resource ({apiKey}, {project}, {account}, {push}) is
// unwrapped; every other reply (lists with their paging, verify, workspace, usage, leaks) is
// returned as the server sent it.
import { OPERATIONS, type OperationName, type PathParams, type QueryOf, type ReplyOf, type RequestBody } from './operations.js';
import { Transport } from './transport.js';
import type {
  Account,
  AccountList,
  ApiKey,
  ApiKeyList,
  ApiKeyWithSecret,
  AuditLogPage,
  CreateAccountRequest,
  CreateKeyRequest,
  CreateProjectRequest,
  DeleteProjectOptions,
  KeyUsage,
  LeakReport,
  ListAuditQuery,
  ListKeysQuery,
  ListLogsQuery,
  LogList,
  Project,
  ProjectList,
  Push,
  PushWithSecret,
  RotateKeyOptions,
  SetPushRequest,
  UpdateAccountRequest,
  UpdateKeyRequest,
  UpdateProjectRequest,
  UsageQuery,
  VerifyRequest,
  VerifyResult,
  WorkspaceInfo,
} from './types.js';
import { SDK_VERSION } from './version.js';

export interface KeywardOptions {
  /** Where Keyward listens, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** An admin-scoped key (or KEYWARD_ROOT_KEY), sent as `Authorization: Bearer`. Verify needs none. */
  token?: string;
  /** Per attempt, until the whole answer has arrived. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts where a retry is safe (see README). Default 2. */
  retries?: number;
  /** A Retry-After longer than this is not waited for: the KeywardError carries it instead. Default 30. */
  maxRetryAfterSeconds?: number;
  /** Default: the global fetch (Node 20). */
  fetch?: typeof globalThis.fetch;
  /** Default: `keyward-sdk/<version>`. */
  userAgent?: string;
}

interface CallInput<N extends OperationName> {
  path?: PathParams<N>;
  query?: QueryOf<N>;
  body?: RequestBody<N>;
}

export class Keyward {
  private readonly transport: Transport;

  constructor(options: KeywardOptions) {
    if (!URL.canParse(options.baseUrl)) throw new TypeError(`Keyward: baseUrl is not a URL: ${options.baseUrl}`);
    const timeoutMs = options.timeoutMs ?? 5_000;
    const retries = options.retries ?? 2;
    const maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 30;
    if (!(timeoutMs > 0)) throw new RangeError('Keyward: timeoutMs must be positive');
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError('Keyward: retries must be a whole number ≥ 0');
    if (!(maxRetryAfterSeconds >= 0)) throw new RangeError('Keyward: maxRetryAfterSeconds must be ≥ 0');
    // Checked here, without echoing it: fetch would reject a bad header value with the value in its message.
    if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
      throw new TypeError('Keyward: token must be printable ASCII without spaces');
    }
    this.transport = new Transport({
      baseUrl: options.baseUrl,
      token: options.token,
      timeoutMs,
      retries,
      maxRetryAfterSeconds,
      // Looked up at each call, so a fetch replaced later (a test's mock) is the one used.
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      userAgent: options.userAgent ?? `keyward-sdk/${SDK_VERSION}`,
    });
  }

  /** Verifies a key. An invalid key is a normal result (`valid: false` and a `code`), not an error. Never retried
   * after the server may have counted it (quota). Sends no admin credential: the key is the credential. */
  verify(request: VerifyRequest): Promise<VerifyResult> {
    return this.call('verify', { body: request });
  }

  readonly workspace = {
    /** The caller's workspace, account, permission points and credential. */
    get: (): Promise<WorkspaceInfo> => this.call('workspace.get'),
  };

  readonly projects = {
    list: (): Promise<ProjectList> => this.call('projects.list'),
    get: async (projectId: string): Promise<Project> => (await this.call('projects.get', { path: { projectId } })).project,
    create: async (request: CreateProjectRequest): Promise<Project> => (await this.call('projects.create', { body: request })).project,
    update: async (projectId: string, request: UpdateProjectRequest): Promise<Project> =>
      (await this.call('projects.update', { path: { projectId }, body: request })).project,
    /** Refused (409 conflictError) while the project has keys, unless `force: true` deletes them too. */
    delete: async (projectId: string, options: DeleteProjectOptions = {}): Promise<void> =>
      void (await this.call('projects.delete', { path: { projectId }, query: options })),
  };

  readonly accounts = {
    list: (): Promise<AccountList> => this.call('accounts.list'),
    get: async (accountId: string): Promise<Account> => (await this.call('accounts.get', { path: { accountId } })).account,
    create: async (request: CreateAccountRequest): Promise<Account> => (await this.call('accounts.create', { body: request })).account,
    update: async (accountId: string, request: UpdateAccountRequest): Promise<Account> =>
      (await this.call('accounts.update', { path: { accountId }, body: request })).account,
    /** Deletes the member's keys too. */
    delete: async (accountId: string): Promise<void> => void (await this.call('accounts.delete', { path: { accountId } })),
  };

  readonly keys = {
    /** The reply carries the secret (`key`, or `username` + `password`): the only time it is shown. */
    create: async (projectId: string, request: CreateKeyRequest = {}): Promise<ApiKeyWithSecret> =>
      (await this.call('keys.create', { path: { projectId }, body: request })).apiKey,
    /** Newest first; `search` is a fuzzy name search. Without keys:manage_all only the caller's own keys. */
    list: (projectId: string, query: ListKeysQuery = {}): Promise<ApiKeyList> => this.call('keys.list', { path: { projectId }, query }),
    get: async (keyId: string): Promise<ApiKey> => (await this.call('keys.get', { path: { keyId } })).apiKey,
    /** Send only the fields to change; null clears an optional field. */
    update: async (keyId: string, request: UpdateKeyRequest): Promise<ApiKey> =>
      (await this.call('keys.update', { path: { keyId }, body: request })).apiKey,
    delete: async (keyId: string): Promise<void> => void (await this.call('keys.delete', { path: { keyId } })),
    /** A new secret (shown once); the old one keeps working for `gracePeriodSeconds` (default 0). */
    rotate: async (keyId: string, options: RotateKeyOptions = {}): Promise<ApiKeyWithSecret> =>
      (await this.call('keys.rotate', { path: { keyId }, body: options })).apiKey,
    /** The secret again, in projects with `recoverable: true` only; audited. */
    reveal: async (keyId: string): Promise<ApiKeyWithSecret> => (await this.call('keys.reveal', { path: { keyId } })).apiKey,
  };

  readonly logs = {
    /** Every verification of the project's keys, newest first; pass `nextCursor` as `cursor` for the next page. */
    list: (projectId: string, query: ListLogsQuery = {}): Promise<LogList> => this.call('logs.list', { path: { projectId }, query }),
  };

  readonly usage = {
    /** Counts per hour or day by outcome. */
    get: (keyId: string, query: UsageQuery = {}): Promise<KeyUsage> => this.call('usage.get', { path: { keyId }, query }),
  };

  readonly auditLog = {
    /** Who changed what, when and from where; newest first, paged by `cursor`. */
    list: (query: ListAuditQuery = {}): Promise<AuditLogPage> => this.call('auditLog.list', { query }),
  };

  readonly push = {
    get: async (keyId: string): Promise<Push> => (await this.call('push.get', { path: { keyId } })).push,
    /** Sets or replaces the webhook address; the reply alone carries the signing `secret` (`whsec_…`). */
    set: async (keyId: string, request: SetPushRequest): Promise<PushWithSecret> =>
      (await this.call('push.set', { path: { keyId }, body: request })).push,
    /** Removes the webhook and stops every push of the key. */
    remove: async (keyId: string): Promise<void> => void (await this.call('push.remove', { path: { keyId } })),
    /** Starts or stops real-time push (needs a webhook address). */
    realtime: async (keyId: string, enabled: boolean): Promise<Push> =>
      (await this.call('push.realtime', { path: { keyId }, body: { enabled } })).push,
    /** Starts the one-time historical push; a second start is refused (409 conflictError). */
    startHistory: async (keyId: string): Promise<Push> => (await this.call('push.startHistory', { path: { keyId } })).push,
  };

  readonly leaks = {
    /** Matching keys of the caller's workspace are disabled with reason `leaked`. */
    report: (tokens: string[]): Promise<LeakReport> => this.call('leaks.report', { body: { tokens } }),
  };

  private async call<N extends OperationName>(name: N, input: CallInput<N> = {}): Promise<ReplyOf<N>> {
    const operation = OPERATIONS[name];
    const params = (input.path ?? {}) as Record<string, string>;
    const path = operation.path.replace(/\{(\w+)\}/g, (_match, param: string) => {
      const value = params[param];
      if (value === undefined || value === '') throw new TypeError(`Keyward ${name}: ${param} is required`);
      return encodeURIComponent(value);
    });
    const reply = await this.transport.send({
      method: operation.method,
      path: path + queryString(input.query ?? {}),
      body: input.body,
      authenticated: operation.authenticated,
    });
    return reply as ReplyOf<N>;
  }
}

function queryString(query: object): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    search.append(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
