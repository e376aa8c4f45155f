// `keyward keys …` and `keyward projects …`: admin commands against a running server, through the
// SDK. Exit codes: 0 ok, 1 refused by the server (or an invalid key for `keys verify`), 2 usage
// error, 3 server unreachable.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Keyward, KeywardError, type ApiKey, type ApiKeyWithSecret, type CreateKeyRequest, type Project, type UpdateKeyRequest } from '@keyward/sdk';

const DEFAULT_URL = 'http://127.0.0.1:8080';

export const REMOTE_HELP_LINES = `  keys       Manage API keys on a running server: create, list, show, update, delete, rotate, verify
  projects   Manage projects on a running server: list, create`;

const CONNECTION = `Connection:
  --url URL        Keyward's address (default: KEYWARD_URL, else ${DEFAULT_URL})
  --token TOKEN    Admin credential (default: KEYWARD_TOKEN; a flag shows in process lists)
  --json           Print the server's reply as JSON
  -h, --help       Show this help`;

const KEY_FIELDS = `  --name N                 Key name
  --scopes a,b             Scopes, comma-separated
  --expires ISO            Expiry date-time (ISO 8601)
  --limit N                Usage limit (number of verifications)
  --refill daily|monthly   Refill the usage limit
  --rate-limit N/MS        At most N verifications per MS milliseconds, e.g. 100/60000
  --host H                 Only valid for this host
  --meta JSON              Metadata, a JSON object`;

const HELP: Record<string, string> = {
  keys: `Usage: keyward keys <command> [options]

Commands:
  create    Create a key (prints its secret once)
  list      List a project's keys
  show      Show one key
  update    Change a key
  delete    Delete a key
  rotate    Give a key a new secret
  verify    Verify a key (exit 0 when valid, 1 otherwise)

Run \`keyward keys <command> --help\` for a command's options.

${CONNECTION}`,
  'keys create': `Usage: keyward keys create --project ID [options]

  --project ID             The project (required)
${KEY_FIELDS}
  --environment live|test  Environment (default live)
  --type token|identity    Key type (default token)

The secret is printed once: store it now.

${CONNECTION}`,
  'keys list': `Usage: keyward keys list --project ID [options]

  --project ID                       The project (required)
  --search S                         Fuzzy name search
  --status active|disabled|expired   Only keys with this status
  --environment live|test            Only keys of this environment
  --page N                           Page (from 1)
  --page-size N                      Keys per page

${CONNECTION}`,
  'keys show': `Usage: keyward keys show ID

${CONNECTION}`,
  'keys update': `Usage: keyward keys update ID [options]

${KEY_FIELDS}
  --enable | --disable     Enable or disable the key

--expires, --limit, --refill, --rate-limit, --host and --meta take \`none\` to clear the setting.

${CONNECTION}`,
  'keys delete': `Usage: keyward keys delete ID

${CONNECTION}`,
  'keys rotate': `Usage: keyward keys rotate ID [--grace SECONDS]

  --grace SECONDS   How long the old secret keeps working (default 0)

The new secret is printed once: store it now.

${CONNECTION}`,
  'keys verify': `Usage: keyward keys verify TOKEN [options]

  --scopes a,b              Scopes the key must have
  --environment live|test   Environment the key must belong to
  --cost N                  Usage units to charge (default 1)
  --project ID              Project the key must belong to
  --host H                  Host the request is for

Prints the result code; exit 0 when VALID, 1 otherwise.

${CONNECTION}`,
  projects: `Usage: keyward projects <command> [options]

Commands:
  list      List the workspace's projects
  create    Create a project

Run \`keyward projects <command> --help\` for a command's options.

${CONNECTION}`,
  'projects list': `Usage: keyward projects list

${CONNECTION}`,
  'projects create': `Usage: keyward projects create --name N [options]

  --name N       Project name (required)
  --scopes a,b   Scopes the project's keys may have, comma-separated
  --prefix P     Key prefix

${CONNECTION}`,
};

/** A mistake in the command line: exit 2 with the command's help. */
class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

const KEY_FIELD_OPTIONS = {
  name: { type: 'string' },
  scopes: { type: 'string' },
  expires: { type: 'string' },
  limit: { type: 'string' },
  refill: { type: 'string' },
  'rate-limit': { type: 'string' },
  host: { type: 'string' },
  meta: { type: 'string' },
} as const satisfies Options;

const COMMAND_OPTIONS: Record<string, { options: Options; positional?: string }> = {
  'keys create': { options: { ...KEY_FIELD_OPTIONS, project: { type: 'string' }, environment: { type: 'string' }, type: { type: 'string' } } },
  'keys list': {
    options: {
      project: { type: 'string' },
      search: { type: 'string' },
      status: { type: 'string' },
      environment: { type: 'string' },
      page: { type: 'string' },
      'page-size': { type: 'string' },
    },
  },
  'keys show': { options: {}, positional: 'ID' },
  'keys update': { options: { ...KEY_FIELD_OPTIONS, enable: { type: 'boolean' }, disable: { type: 'boolean' } }, positional: 'ID' },
  'keys delete': { options: {}, positional: 'ID' },
  'keys rotate': { options: { grace: { type: 'string' } }, positional: 'ID' },
  'keys verify': {
    options: { scopes: { type: 'string' }, environment: { type: 'string' }, cost: { type: 'string' }, project: { type: 'string' }, host: { type: 'string' } },
    positional: 'TOKEN',
  },
  'projects list': { options: {} },
  'projects create': { options: { name: { type: 'string' }, scopes: { type: 'string' }, prefix: { type: 'string' } } },
};

/** `keyward keys …` / `keyward projects …`. */
export async function runRemote(group: 'keys' | 'projects', argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    const wanted = sub !== undefined;
    (wanted ? console.log : console.error)(HELP[group]);
    return wanted ? 0 : 2;
  }
  const command = `${group} ${sub}`;
  const spec = COMMAND_OPTIONS[command];
  if (spec === undefined) {
    console.error(`keyward ${group}: unknown command '${sub}'\n\n${HELP[group]}`);
    return 2;
  }
  const help = HELP[command]!;

  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { ...CONNECTION_OPTIONS, ...spec.options }, allowPositionals: true, strict: true }));
  } catch (error) {
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return usage(command, error.message, help);
    throw error;
  }
  if (values.help === true) {
    console.log(help);
    return 0;
  }

  const url = str(values.url) ?? process.env.KEYWARD_URL ?? DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return usage(command, `--url is not an http(s) URL: ${url}`, help);
  const token = str(values.token) ?? process.env.KEYWARD_TOKEN;
  if (values.token !== undefined) console.error('keyward: warning: --token is visible in process lists; prefer KEYWARD_TOKEN');

  try {
    const expected = spec.positional === undefined ? 0 : 1;
    if (positionals.length < expected) throw new UsageError(`missing ${spec.positional}`);
    if (positionals.length > expected) throw new UsageError(`unexpected argument '${positionals[expected]}'`);
    if (command !== 'keys verify' && (token === undefined || token === '')) {
      throw new UsageError('no credential: set KEYWARD_TOKEN (or pass --token)');
    }
    const client = new Keyward({ baseUrl: url, token: token === '' ? undefined : token, retries: 1 });
    return await execute(command, client, values, positionals[0] ?? '', values.json === true);
  } catch (error) {
    if (error instanceof UsageError) return usage(command, error.message, help);
    if (error instanceof KeywardError) {
      if (unreachable(error)) {
        console.error(`keyward: cannot reach Keyward at ${url} (${error.message})`);
        return 3;
      }
      const field = error.field !== undefined ? ` (${error.field})` : '';
      console.error(`keyward: ${error.message}${field} [${error.status} ${error.type}]`);
      return 1;
    }
    if (error instanceof TypeError && error.message.startsWith('Keyward')) return usage(command, error.message, help);
    throw error;
  }
}

/**
 * No answer, or a proxy in front of Keyward saying it has none (502/503/504 without Keyward's
 * envelope). Keyward's own 503 (shutting down) carries the envelope and counts too: try again later.
 */
function unreachable(error: KeywardError): boolean {
  if (error.type === 'networkError' || error.type === 'timeoutError') return true;
  return error.status === 502 || error.status === 503 || error.status === 504;
}

function usage(command: string, message: string, help: string): number {
  console.error(`keyward ${command}: ${message}\n\n${help}`);
  return 2;
}

async function execute(command: string, client: Keyward, values: Values, arg: string, json: boolean): Promise<number> {
  switch (command) {
    case 'keys create': {
      const project = required(values, 'project');
      const body: CreateKeyRequest = { ...keyFields(values, false) };
      const environment = oneOf(values, 'environment', ['live', 'test'] as const);
      if (environment !== undefined) body.environment = environment;
      const type = oneOf(values, 'type', ['token', 'identity'] as const);
      if (type !== undefined) body.type = type;
      const key = await client.keys.create(project, body);
      printSecret(key, json, 'Created key');
      return 0;
    }
    case 'keys list': {
      const project = required(values, 'project');
      const reply = await client.keys.list(project, {
        search: str(values.search),
        status: oneOf(values, 'status', ['active', 'disabled', 'expired'] as const),
        environment: oneOf(values, 'environment', ['live', 'test'] as const),
        page: integer(values, 'page', 1),
        pageSize: integer(values, 'page-size', 1),
      });
      if (json) printJson(reply);
      else {
        printKeys(reply.apiKeys);
        console.log(`\nPage ${reply.page} · ${reply.apiKeys.length} of ${reply.total} key${reply.total === 1 ? '' : 's'}`);
      }
      return 0;
    }
    case 'keys show': {
      const key = await client.keys.get(arg);
      if (json) printJson(key);
      else printKeyDetails(key);
      return 0;
    }
    case 'keys update': {
      const body: UpdateKeyRequest = keyFields(values, true);
      if (values.enable === true && values.disable === true) throw new UsageError('--enable and --disable exclude each other');
      if (values.enable === true) body.enabled = true;
      if (values.disable === true) body.enabled = false;
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change');
      const key = await client.keys.update(arg, body);
      if (json) printJson(key);
      else printKeyDetails(key);
      return 0;
    }
    case 'keys delete': {
      await client.keys.delete(arg);
      if (json) printJson({ deleted: true, id: arg });
      else console.log(`Deleted key ${arg}.`);
      return 0;
    }
    case 'keys rotate': {
      const grace = integer(values, 'grace', 0);
      const key = await client.keys.rotate(arg, grace === undefined ? {} : { gracePeriodSeconds: grace });
      printSecret(key, json, grace ? `Rotated key (the old secret keeps working for ${grace} s)` : 'Rotated key (the old secret no longer works)');
      return 0;
    }
    case 'keys verify': {
      const scopes = list(values.scopes);
      const result = await client.verify({
        key: arg,
        ...(scopes !== undefined && { scopes }),
        ...optional('environment', oneOf(values, 'environment', ['live', 'test'] as const)),
        ...optional('cost', integer(values, 'cost', 0)),
        ...optional('projectId', str(values.project)),
        ...optional('host', str(values.host)),
      });
      if (json) printJson(result);
      else {
        const rows: [string, string][] = [['code', result.code]];
        if (result.key !== undefined) rows.push(['key', `${result.key.name} (${result.key.id})`], ['project', result.key.projectId], ['scopes', result.key.scopes.join(',') || '-']);
        if (result.missingScopes !== undefined && result.missingScopes.length > 0) rows.push(['missing scopes', result.missingScopes.join(',')]);
        if (result.usage !== undefined) rows.push(['usage', `${result.usage.used}/${result.usage.limit} (${result.usage.remaining} left)`]);
        if (result.rateLimit !== undefined) rows.push(['rate limit', `${result.rateLimit.remaining}/${result.rateLimit.limit} until ${result.rateLimit.resetAt}`]);
        printPairs(rows);
      }
      return result.valid ? 0 : 1;
    }
    case 'projects list': {
      const reply = await client.projects.list();
      if (json) printJson(reply);
      else printProjects(reply.projects);
      return 0;
    }
    case 'projects create': {
      const name = required(values, 'name');
      const scopes = list(values.scopes);
      const project = await client.projects.create({ name, ...(scopes !== undefined && { scopes }), ...optional('prefix', str(values.prefix)) });
      if (json) printJson(project);
      else {
        console.log(`Created project ${project.name} (${project.id}).\n`);
        printProjects([project]);
      }
      return 0;
    }
    default:
      throw new Error(`unhandled command ${command}`);
  }
}

// --- option values ---

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optional<K extends string, V>(name: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, V>);
}

function required(values: Values, name: string): string {
  const value = str(values[name]);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function list(value: string | boolean | undefined): string[] | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function oneOf<T extends string>(values: Values, name: string, allowed: readonly T[]): T | undefined {
  const value = str(values[name]);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, not '${value}'`);
  return value as T;
}

function integer(values: Values, name: string, min: number): number | undefined {
  const value = str(values[name]);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, not '${value}'`);
  }
  return Number(value);
}

/** The fields create and update share; `clearable` (update) accepts `none` to clear a setting. */
function keyFields(values: Values, clearable: boolean): UpdateKeyRequest {
  const body: UpdateKeyRequest = {};
  const cleared = (name: string): boolean => {
    if (str(values[name]) !== 'none') return false;
    if (!clearable) throw new UsageError(`--${name} none is only for update`);
    return true;
  };
  const name = str(values.name);
  if (name !== undefined) body.name = name;
  const scopes = list(values.scopes);
  if (scopes !== undefined) body.scopes = scopes;
  const expires = str(values.expires);
  if (expires !== undefined) {
    if (cleared('expires')) body.expiresAt = null;
    else {
      if (!/^\d{4}-\d{2}-\d{2}/.test(expires) || Number.isNaN(Date.parse(expires))) throw new UsageError(`--expires must be an ISO 8601 date-time, not '${expires}'`);
      body.expiresAt = new Date(expires).toISOString();
    }
  }
  if (values.limit !== undefined) body.limitedAmount = cleared('limit') ? null : integer(values, 'limit', 1)!;
  if (values.refill !== undefined) {
    body.refill = cleared('refill') ? null : { interval: oneOf(values, 'refill', ['daily', 'monthly'] as const)! };
  }
  const rate = str(values['rate-limit']);
  if (rate !== undefined) {
    if (cleared('rate-limit')) body.rateLimit = null;
    else {
      const match = /^(\d+)\/(\d+)$/.exec(rate);
      if (match === null || Number(match[1]) < 1 || Number(match[2]) < 1) throw new UsageError(`--rate-limit must be N/MS, e.g. 100/60000, not '${rate}'`);
      body.rateLimit = { limit: Number(match[1]), windowMs: Number(match[2]) };
    }
  }
  const host = str(values.host);
  if (host !== undefined) body.host = cleared('host') ? null : host;
  const meta = str(values.meta);
  if (meta !== undefined) {
    if (cleared('meta')) body.meta = null;
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(meta);
      } catch {
        throw new UsageError(`--meta is not JSON: ${meta}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--meta must be a JSON object');
      body.meta = parsed as Record<string, unknown>;
    }
  }
  return body;
}

// --- output ---

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Aligned plain-text columns. */
function printTable(headers: string[], rows: string[][]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  console.log(line(headers.map((header) => header.toUpperCase())));
  for (const row of rows) console.log(line(row));
}

function printPairs(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${`${label}:`.padEnd(width + 2)}${value}`);
}

function date(value: string | null): string {
  return value === null ? '-' : value.slice(0, 10);
}

function printKeys(keys: ApiKey[]): void {
  printTable(
    ['name', 'id', 'start', 'status', 'scopes', 'env', 'created'],
    keys.map((key) => [key.name, key.id, `${key.start}…`, key.status, key.scopes.join(',') || '-', key.environment, date(key.createdAt)]),
  );
}

function printKeyDetails(key: ApiKey): void {
  printPairs([
    ['name', key.name],
    ['id', key.id],
    ['start', `${key.start}…`],
    ['project', key.projectId],
    ['account', key.accountId],
    ['status', key.status + (key.disabledReason !== null ? ` (${key.disabledReason})` : '')],
    ['environment', key.environment],
    ['type', key.type + (key.username !== null ? ` (username ${key.username})` : '')],
    ['scopes', key.scopes.join(',') || '-'],
    ['expires', key.expiresAt ?? 'never'],
    ['host', key.host ?? 'any'],
    ['usage', key.limitedAmount === null ? `${key.usedAmount} (unlimited)` : `${key.usedAmount}/${key.limitedAmount}`],
    ['refill', key.refill?.interval ?? '-'],
    ['rate limit', key.rateLimit === null ? '-' : `${key.rateLimit.limit}/${key.rateLimit.windowMs} ms`],
    ['meta', key.meta === null ? '-' : JSON.stringify(key.meta)],
    ['created', key.createdAt],
    ['last used', key.lastUsedAt ?? 'never'],
  ]);
}

function printSecret(key: ApiKeyWithSecret, json: boolean, what: string): void {
  if (json) {
    printJson(key);
    return;
  }
  console.log(`${what} ${key.name} (${key.id}).\n`);
  if (key.key !== undefined) console.log(`Secret — shown once, store it now:\n\n    ${key.key}\n`);
  if (key.password !== undefined) console.log(`Username ${key.username ?? ''}, password — shown once, store it now:\n\n    ${key.password}\n`);
  printKeys([key]);
}

function printProjects(projects: Project[]): void {
  printTable(
    ['name', 'id', 'prefix', 'scopes', 'created'],
    projects.map((project) => [project.name, project.id, project.prefix, project.scopes.join(',') || '-', date(project.createdAt)]),
  );
}
