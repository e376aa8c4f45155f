// `keyward serve | init | migrate`: the operator's commands; `keyward keys | projects`: admin
// commands against a running server (remote.ts). Exit codes: 0 ok, 1 failure, 2 usage or
// configuration error, 3 server unreachable (remote commands).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { buildApp, storageOptions } from '../app.js';
import { migrate as migrateStorage, openStorage } from '../storage/storage.js';
import { checkMasterKey, loadMasterKey } from '../secrets/master-key.js';
import { createWorkspace, ensureFirstWorkspace, type NewWorkspace } from '../workspaces/service.js';
import { randomBase62 } from '../domain/token.js';
import { REMOTE_HELP_LINES, runRemote } from './remote.js';
import { warmUpNextTick } from '../http/tick-warm-up.js';

const HELP = `Usage: keyward <command> [options]

Commands:
  serve      Start the server (migrates, and on first start creates the owner and prints an admin key)
  init       Create the data directory, schema and first workspace without serving
             --workspace NAME --email EMAIL   create another workspace with its own owner
  migrate    Apply pending database migrations and exit
${REMOTE_HELP_LINES}
             against --url (KEYWARD_URL, default http://127.0.0.1:8080) with KEYWARD_TOKEN;
             --json for scripts; exit 0 ok, 1 refused or invalid key, 2 usage, 3 unreachable
  help       Show this help

Run \`keyward <command> --help\` for a command's options.

Configuration is by environment variable: KEYWARD_PORT (8080), KEYWARD_HOST (127.0.0.1),
KEYWARD_DATA_DIR (./data), KEYWARD_ROOT_KEY, KEYWARD_MASTER_KEY, KEYWARD_OWNER_EMAIL,
KEYWARD_OWNER_PASSWORD, KEYWARD_LOG_LEVEL (info), DATABASE_URL, REDIS_URL. See README.md.`;

const CONFIG_NOTE = 'Configured by environment variables (KEYWARD_DATA_DIR, DATABASE_URL, …): see `keyward help`.';
const LOCAL_HELP = {
  serve: `Usage: keyward serve\n\nStart the server: migrates, and on first start creates the owner and prints an admin key.\n\n${CONFIG_NOTE}`,
  init: `Usage: keyward init [--workspace NAME --email EMAIL]\n\nCreate the data directory, schema and first workspace without serving.\n  --workspace NAME --email EMAIL   create another workspace with its own owner (prints its admin key)\n\n${CONFIG_NOTE}`,
  migrate: `Usage: keyward migrate\n\nApply pending database migrations and exit.\n\n${CONFIG_NOTE}`,
};

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const local = command === 'serve' || command === 'init' || command === 'migrate';
  if (local && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(LOCAL_HELP[command]);
    return 0;
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(loadConfig());
      case 'init':
        return await init(loadConfig(), rest);
      case 'migrate':
        return await migrate(loadConfig());
      case 'keys':
      case 'projects':
        return await runRemote(command, rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return command === undefined ? 2 : 0;
      default:
        console.error(`keyward: unknown command '${command}'\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`keyward: configuration error: ${error.message}`);
      return 2;
    }
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`keyward: ${error.message}\n\n${HELP}`);
      return 2;
    }
    console.error(`keyward: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** The owner's first dashboard password: KEYWARD_OWNER_PASSWORD, or generated (and printed once). */
function ownerPassword(config: Config): { password: string; generated: boolean } {
  return config.ownerPassword !== undefined ? { password: config.ownerPassword, generated: false } : { password: randomBase62(20), generated: true };
}

function printNewWorkspace(created: NewWorkspace, email: string, config: Config, password: { password: string; generated: boolean }): void {
  const base = `http://${displayHost(config.host)}:${config.port}`;
  console.log(`\nCreated workspace ${created.workspaceId} with owner ${email} and project "Default project" (${created.projectId}).`);
  console.log(`\nDashboard: ${base}/  — log in as ${email}`);
  if (password.generated) console.log(`    with the password ${password.password}   (shown once; change it under Members)`);
  else console.log('    with the password in KEYWARD_OWNER_PASSWORD');
  if (created.adminKey === null) {
    console.log('\nKEYWARD_ROOT_KEY is set: use it as the owner’s admin credential (Authorization: Bearer <root key>).');
    return;
  }
  console.log('\nOwner admin key — shown once, store it now:\n');
  console.log(`    ${created.adminKey.token}\n`);
  console.log('Try it:');
  console.log(`    curl -H "Authorization: Bearer ${created.adminKey.token}" ${base}/v1/workspace\n`);
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function serve(config: Config): Promise<number> {
  await warmUpNextTick();
  const { app, services } = await buildApp(config);
  const password = ownerPassword(config);
  const created = await ensureFirstWorkspace(services.storage.db, {
    name: 'Default workspace',
    ownerEmail: config.ownerEmail,
    ownerPassword: password.password,
    withAdminKey: config.rootKey === undefined,
    now: Date.now(),
    masterKey: loadMasterKey(config.masterKey, config.dataDir),
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const base = `http://${displayHost(config.host)}:${port}`;
  console.log(`\nKeyward is listening on ${base}`);
  console.log(`    API:   ${base}/v1   (verify: POST ${base}/v1/keys/verify)`);
  console.log(`    Docs:  ${base}/docs   (OpenAPI: ${base}/openapi.json)`);
  console.log(`    Data:  ${config.dataDir}`);
  if (created !== null) printNewWorkspace(created, config.ownerEmail, { ...config, port }, password);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info(`received ${signal}, shutting down`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('keyward: error during shutdown', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return new Promise<number>(() => undefined); // runs until a signal
}

async function init(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { workspace: { type: 'string' }, email: { type: 'string' } }, strict: true });
  if ((values.workspace === undefined) !== (values.email === undefined)) {
    console.error('keyward init: --workspace and --email go together');
    return 2;
  }
  const storage = openStorage(storageOptions(config));
  try {
    await migrateStorage(storage);
    const masterKey = loadMasterKey(config.masterKey, config.dataDir);
    await checkMasterKey(storage.db, masterKey);
    if (values.workspace !== undefined && values.email !== undefined) {
      if (!/^[^\s@]+@[^\s@]+$/.test(values.email)) {
        console.error('keyward init: --email must be an e-mail address');
        return 2;
      }
      const password = { password: randomBase62(20), generated: true };
      const created = await createWorkspace(storage.db, { name: values.workspace, ownerEmail: values.email, ownerPassword: password.password, withAdminKey: true, now: Date.now(), masterKey });
      printNewWorkspace(created, values.email, config, password);
      return 0;
    }
    const password = ownerPassword(config);
    const created = await ensureFirstWorkspace(storage.db, {
      name: 'Default workspace',
      ownerEmail: config.ownerEmail,
      ownerPassword: password.password,
      withAdminKey: config.rootKey === undefined,
      now: Date.now(),
      masterKey,
    });
    if (created === null) console.log(`Already initialised: ${config.dataDir}`);
    else printNewWorkspace(created, config.ownerEmail, config, password);
    return 0;
  } finally {
    await storage.close();
  }
}

async function migrate(config: Config): Promise<number> {
  const storage = openStorage(storageOptions(config));
  try {
    const applied = await migrateStorage(storage);
    console.log(applied.length === 0 ? 'Database is up to date.' : `Applied: ${applied.join(', ')}`);
    return 0;
  } finally {
    await storage.close();
  }
}
