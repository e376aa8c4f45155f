// Environment variables → one typed, validated config object. Bad values stop start-up with a
// message naming the variable.
import { resolve } from 'node:path';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Operator secret that authenticates as the first workspace's owner. */
  rootKey: string | undefined;
  /** Encryption key material for recoverable tokens; generated into the data dir when unset. */
  masterKey: string | undefined;
  databaseUrl: string | undefined;
  /** PostgreSQL schema for Keyward's tables (created if missing). */
  databaseSchema: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel (several deployments can share one Redis). */
  redisPrefix: string;
  /** Key-cache TTL while the cross-node invalidation channel is down. */
  clusterFallbackTtlMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** E-mail of the owner account made on first start. */
  ownerEmail: string;
  /** Dashboard password of that owner; generated and printed once when not given. */
  ownerPassword: string | undefined;
  /** How long a dashboard session lasts. */
  sessionTtlMs: number;
  /** Mark session cookies Secure even on plain http (TLS ends at a proxy in front). */
  secureCookies: boolean;
  /** How long a verified key stays in the in-process cache without a change notice. */
  keyCacheTtlMs: number;
  keyCacheMaxEntries: number;
  /** Interval of the write-behind flush of lastUsedAt and usage counts. */
  usageFlushIntervalMs: number;
  /** Trust X-Forwarded-For from proxies (for the caller IP in host checks and logs). */
  trustProxy: boolean;
  /** Record every verification in the usage log. */
  usageLogs: boolean;
  /** Most usage-log entries waiting to be written; past it entries are dropped and counted. */
  usageLogBuffer: number;
  /** Usage logs and events older than this are deleted. */
  logRetentionDays: number;
  /** Allow webhook targets on private, loopback and link-local addresses (tests, closed networks). */
  webhookAllowPrivate: boolean;
  /** Serve /metrics without credentials. */
  metricsPublic: boolean;
  /** Longest time a VALID verify answer tells clients they may reuse it (`cacheForMs`). */
  verifyCacheHintMs: number;
  /** How long a webhook delivery may take. A node holds a stream for 3× this per batch, so a dead
   * node's stream is taken over by another node after that long, and never while a send may still run. */
  pushTimeoutMs: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env = process.env): Config {
  const rootKey = optional(env, 'KEYWARD_ROOT_KEY');
  if (rootKey !== undefined && (rootKey.length < 32 || rootKey.length > 512)) {
    throw new ConfigError('KEYWARD_ROOT_KEY must be 32 to 512 characters long');
  }
  const masterKey = optional(env, 'KEYWARD_MASTER_KEY');
  if (masterKey !== undefined && masterKey.length < 32) {
    throw new ConfigError('KEYWARD_MASTER_KEY must be at least 32 characters long');
  }
  const ownerPassword = optional(env, 'KEYWARD_OWNER_PASSWORD');
  if (ownerPassword !== undefined && (ownerPassword.length < 10 || ownerPassword.length > 200)) {
    throw new ConfigError('KEYWARD_OWNER_PASSWORD must be 10 to 200 characters long');
  }
  const logLevel = optional(env, 'KEYWARD_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`KEYWARD_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const databaseSchema = optional(env, 'KEYWARD_DB_SCHEMA');
  if (databaseSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError('KEYWARD_DB_SCHEMA must be a lowercase identifier (letters, digits, _)');
  }
  const redisPrefix = optional(env, 'KEYWARD_REDIS_PREFIX') ?? 'keyward';
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(redisPrefix)) throw new ConfigError('KEYWARD_REDIS_PREFIX may use letters, digits and _ : . - (1-64)');
  const redisUrl = optional(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  }
  return {
    port: integer(env, 'KEYWARD_PORT', 8080, 0, 65535),
    host: optional(env, 'KEYWARD_HOST') ?? '127.0.0.1',
    dataDir: resolve(optional(env, 'KEYWARD_DATA_DIR') ?? './data'),
    rootKey,
    masterKey,
    databaseUrl,
    databaseSchema,
    databasePoolSize: integer(env, 'KEYWARD_DB_POOL_SIZE', 10, 1, 1000),
    redisUrl,
    redisPrefix,
    clusterFallbackTtlMs: integer(env, 'KEYWARD_CLUSTER_FALLBACK_TTL_MS', 1_000, 0, 60_000),
    logLevel: logLevel as Config['logLevel'],
    ownerEmail: optional(env, 'KEYWARD_OWNER_EMAIL') ?? 'owner@keyward.local',
    ownerPassword,
    sessionTtlMs: integer(env, 'KEYWARD_SESSION_TTL_HOURS', 12, 1, 24 * 90) * 3_600_000,
    secureCookies: flag(env, 'KEYWARD_COOKIE_SECURE', false),
    keyCacheTtlMs: integer(env, 'KEYWARD_KEY_CACHE_TTL_MS', 60_000, 0, 86_400_000),
    keyCacheMaxEntries: integer(env, 'KEYWARD_KEY_CACHE_MAX_ENTRIES', 100_000, 1, 10_000_000),
    usageFlushIntervalMs: integer(env, 'KEYWARD_USAGE_FLUSH_MS', 1_000, 10, 60_000),
    trustProxy: flag(env, 'KEYWARD_TRUST_PROXY', false),
    usageLogs: flag(env, 'KEYWARD_USAGE_LOGS', true),
    usageLogBuffer: integer(env, 'KEYWARD_USAGE_LOG_BUFFER', 100_000, 100, 10_000_000),
    logRetentionDays: integer(env, 'KEYWARD_LOG_RETENTION_DAYS', 90, 1, 36_500),
    webhookAllowPrivate: flag(env, 'KEYWARD_WEBHOOK_ALLOW_PRIVATE', false),
    metricsPublic: flag(env, 'KEYWARD_METRICS_PUBLIC', false),
    pushTimeoutMs: integer(env, 'KEYWARD_PUSH_TIMEOUT_MS', 10_000, 1_000, 120_000),
    verifyCacheHintMs: integer(env, 'KEYWARD_VERIFY_CACHE_HINT_MS', 5_000, 0, 300_000),
  };
}
