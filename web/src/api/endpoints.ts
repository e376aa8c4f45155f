// Typed calls of the admin API routes the dashboard uses, one function per route.
import { request } from './client';
import type {
  Account,
  AccountInput,
  ApiKey,
  ApiKeyWithSecret,
  AuditPage,
  AuditQuery,
  CreateKeyInput,
  Granularity,
  KeyListQuery,
  KeyPage,
  LogPage,
  Project,
  ProjectInput,
  Push,
  PushWithSecret,
  Session,
  UpdateKeyInput,
  UsageBucket,
  VerifyCode,
} from './types';

const path = encodeURIComponent;

export const auth = {
  login: (email: string, password: string) =>
    request<{ session: Session }>('POST', '/v1/auth/login', { body: { email, password }, expectUnauthorized: true }).then((r) => r.session),
  session: () => request<{ session: Session }>('GET', '/v1/auth/session', { expectUnauthorized: true }).then((r) => r.session),
  logout: () => request<void>('POST', '/v1/auth/logout', { expectUnauthorized: true }),
};

export const projects = {
  list: () => request<{ projects: Project[] }>('GET', '/v1/projects').then((r) => r.projects),
  get: (projectId: string) => request<{ project: Project }>('GET', `/v1/projects/${path(projectId)}`).then((r) => r.project),
  create: (input: ProjectInput) => request<{ project: Project }>('POST', '/v1/projects', { body: input }).then((r) => r.project),
  update: (projectId: string, input: ProjectInput) =>
    request<{ project: Project }>('PATCH', `/v1/projects/${path(projectId)}`, { body: input }).then((r) => r.project),
  /** `force` deletes the project's keys with it; without it a project with keys is refused (409). */
  remove: (projectId: string, force: boolean) => request<void>('DELETE', `/v1/projects/${path(projectId)}`, { query: { force: force ? true : undefined } }),
};

export const accounts = {
  list: () => request<{ accounts: Account[] }>('GET', '/v1/accounts').then((r) => r.accounts),
  create: (input: AccountInput) => request<{ account: Account }>('POST', '/v1/accounts', { body: input }).then((r) => r.account),
  update: (accountId: string, input: AccountInput) =>
    request<{ account: Account }>('PATCH', `/v1/accounts/${path(accountId)}`, { body: input }).then((r) => r.account),
  remove: (accountId: string) => request<void>('DELETE', `/v1/accounts/${path(accountId)}`),
};

export const keys = {
  list: (projectId: string, query: KeyListQuery, signal?: AbortSignal) =>
    request<KeyPage>('GET', `/v1/projects/${path(projectId)}/keys`, { query: { ...query }, signal }),
  get: (keyId: string) => request<{ apiKey: ApiKey }>('GET', `/v1/keys/${path(keyId)}`).then((r) => r.apiKey),
  create: (projectId: string, input: CreateKeyInput) =>
    request<{ apiKey: ApiKeyWithSecret }>('POST', `/v1/projects/${path(projectId)}/keys`, { body: input }).then((r) => r.apiKey),
  update: (keyId: string, input: UpdateKeyInput) =>
    request<{ apiKey: ApiKey }>('PATCH', `/v1/keys/${path(keyId)}`, { body: input }).then((r) => r.apiKey),
  remove: (keyId: string) => request<void>('DELETE', `/v1/keys/${path(keyId)}`),
  rotate: (keyId: string, gracePeriodSeconds: number) =>
    request<{ apiKey: ApiKeyWithSecret }>('POST', `/v1/keys/${path(keyId)}/rotate`, { body: { gracePeriodSeconds } }).then((r) => r.apiKey),
  reveal: (keyId: string) => request<{ apiKey: ApiKeyWithSecret }>('POST', `/v1/keys/${path(keyId)}/reveal`).then((r) => r.apiKey),
  usage: (keyId: string, granularity: Granularity, from: string, to: string) =>
    request<{ usage: UsageBucket[] }>('GET', `/v1/keys/${path(keyId)}/usage`, { query: { granularity, from, to } }).then((r) => r.usage),
};

export const logs = {
  list: (projectId: string, query: { keyId?: string; outcome?: VerifyCode; cursor?: string; limit?: number }) =>
    request<LogPage>('GET', `/v1/projects/${path(projectId)}/logs`, { query: { ...query } }),
};

export const audit = {
  list: (query: AuditQuery) => request<AuditPage>('GET', '/v1/audit-log', { query: { ...query } }),
};

export const push = {
  get: (keyId: string) => request<{ push: Push }>('GET', `/v1/keys/${path(keyId)}/push`).then((r) => r.push),
  configure: (keyId: string, webhookUrl: string) =>
    request<{ push: PushWithSecret }>('PUT', `/v1/keys/${path(keyId)}/push`, { body: { webhookUrl } }).then((r) => r.push),
  remove: (keyId: string) => request<void>('DELETE', `/v1/keys/${path(keyId)}/push`),
  realtime: (keyId: string, enabled: boolean) =>
    request<{ push: Push }>('POST', `/v1/keys/${path(keyId)}/push/realtime`, { body: { enabled } }).then((r) => r.push),
  startHistory: (keyId: string) => request<{ push: Push }>('POST', `/v1/keys/${path(keyId)}/push/history`).then((r) => r.push),
};
