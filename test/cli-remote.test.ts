// `keyward keys …` and `keyward projects …`: the real binary in a child process against a real
// server started here. Spawning tsx costs about a second, so independent runs go in parallel.
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const ENTRY = join(ROOT, 'src', 'main.ts');

let t: TestApp;
let url: string;

beforeAll(async () => {
  t = await startApp();
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t.close();
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function keyward(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, KEYWARD_URL: url, KEYWARD_TOKEN: t.ownerKey, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Each test runs batches of spawns one after another: slow on a loaded machine.
const SLOW = 90_000;

describe('keyward keys / projects', () => {
  it('help, usage errors (2) and an unreachable server (3)', async () => {
    const port = await closedPort();
    // A proxy in front of a Keyward that is down: 502 with an HTML page.
    const proxy = createHttpServer((_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502 Bad Gateway</h1>'));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const [badGateway, tokenFlag] = await Promise.all([
      keyward(['keys', 'show', 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV', '--url', proxyUrl]),
      keyward(['projects', 'list', '--token', t.ownerKey], { KEYWARD_TOKEN: '' }),
    ]);
    await new Promise((resolve) => proxy.close(resolve));
    expect(badGateway.code).toBe(3);
    expect(badGateway.err).toContain(`cannot reach Keyward at ${proxyUrl}`);
    expect(badGateway.err).toContain('502');
    expect(tokenFlag.code).toBe(0);
    expect(tokenFlag.err).toContain('--token is visible in process lists; prefer KEYWARD_TOKEN');
    expect(tokenFlag.out).toContain('Default project');

    const [help, subHelp, groupHelp, badFlag, missingId, badValue, noProject, unreachable, noToken] = await Promise.all([
      keyward(['help']),
      keyward(['keys', 'create', '--help']),
      keyward(['projects', '-h']),
      keyward(['keys', 'list', '--project', 'p', '--bogus']),
      keyward(['keys', 'show']),
      keyward(['keys', 'create', '--project', t.projectId, '--environment', 'prod']),
      keyward(['keys', 'list']),
      keyward(['projects', 'list', '--url', `http://127.0.0.1:${port}`]),
      keyward(['projects', 'list'], { KEYWARD_TOKEN: '' }),
    ]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/keys\s+Manage API keys/);
    expect(help.out).toMatch(/projects\s+Manage projects/);
    expect(subHelp).toMatchObject({ code: 0 });
    expect(subHelp.out).toContain('Usage: keyward keys create --project ID');
    expect(subHelp.out).toContain('--rate-limit N/MS');
    expect(groupHelp.code).toBe(0);
    expect(groupHelp.out).toContain('Usage: keyward projects <command>');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toContain("'--bogus'");
    expect(badFlag.err).toContain('Usage: keyward keys list');
    expect(missingId.code).toBe(2);
    expect(missingId.err).toContain('missing ID');
    expect(badValue.code).toBe(2);
    expect(badValue.err).toContain("--environment must be live or test, not 'prod'");
    expect(noProject.code).toBe(2);
    expect(noProject.err).toContain('--project is required');
    expect(unreachable.code).toBe(3);
    expect(unreachable.err).toContain(`cannot reach Keyward at http://127.0.0.1:${port}`);
    expect(noToken.code).toBe(2);
    expect(noToken.err).toContain('KEYWARD_TOKEN');
  }, SLOW);

  it('projects create / list, as tables and as JSON; a taken name is refused (1)', async () => {
    const [created, createdJson] = await Promise.all([
      keyward(['projects', 'create', '--name', 'Billing', '--scopes', 'read,write']),
      keyward(['projects', 'create', '--name', 'Search', '--prefix', 'srch', '--json']),
    ]);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/Created project Billing \(\S+\)/);
    expect(created.out).toMatch(/NAME\s+ID\s+PREFIX\s+SCOPES\s+CREATED/);
    expect(created.out).toMatch(/Billing\s+\S+\s+\S+\s+read,write/);
    expect(createdJson.code).toBe(0);
    const project = JSON.parse(createdJson.out);
    expect(project).toMatchObject({ name: 'Search', prefix: 'srch' });

    const [listed, listedJson, duplicate] = await Promise.all([
      keyward(['projects', 'list']),
      keyward(['projects', 'list', '--json']),
      keyward(['projects', 'create', '--name', 'Billing']),
    ]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/Billing\s/);
    expect(listed.out).toContain(project.id);
    expect(listed.out).toContain('Default project');
    expect(listedJson.code).toBe(0);
    expect(JSON.parse(listedJson.out).projects.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['Billing', 'Search', 'Default project']));
    expect(duplicate.code).toBe(1);
    expect(duplicate.err).toMatch(/A project named 'Billing' already exists.*\[409 conflictError\]/);
    expect(duplicate.out).toBe('');
  }, SLOW);

  it('keys create / list / show / update / verify / rotate / delete, as tables and as JSON', async () => {
    const made = await t.call('POST', '/v1/projects', { body: { name: 'Keys from the CLI', scopes: ['read', 'write'] } });
    const project: string = made.body.project.id;
    const [alpha, beta, identity] = await Promise.all([
      keyward(['keys', 'create', '--project', project, '--name', 'alpha', '--scopes', 'read,write', '--limit', '100', '--refill', 'daily', '--rate-limit', '10/60000', '--meta', '{"team":"a"}']),
      keyward(['keys', 'create', '--project', project, '--name', 'beta', '--environment', 'test', '--json']),
      keyward(['keys', 'create', '--project', project, '--name', 'proxy user', '--type', 'identity']),
    ]);
    expect(identity.code).toBe(0);
    expect(identity.out).toMatch(/Username \S+, password — shown once, store it now:\n\n\s+\S{16,}\n/);
    expect(identity.out).toMatch(/proxy user\s+\S+\s+\S+…\s+active/);
    expect(alpha.err).toBe('');
    expect(alpha.code).toBe(0);
    expect(alpha.out).toContain('shown once');
    const alphaSecret = /^\s+(kw_\S+)$/m.exec(alpha.out)![1]!;
    const alphaId = /Created key alpha \((\S+)\)/.exec(alpha.out)![1]!;
    expect(alpha.out).toMatch(/alpha\s+\S+\s+\S+…\s+active\s+read,write\s+live/);
    expect(beta.code).toBe(0);
    const betaKey = JSON.parse(beta.out);
    expect(betaKey).toMatchObject({ name: 'beta', environment: 'test' });
    expect(betaKey.key).toMatch(/^kw_test_/);

    const [listed, listedJson, shown, shownJson, badRate, missing] = await Promise.all([
      keyward(['keys', 'list', '--project', project]),
      keyward(['keys', 'list', '--project', project, '--environment', 'test', '--page-size', '5', '--json']),
      keyward(['keys', 'show', alphaId]),
      keyward(['keys', 'show', betaKey.id, '--json']),
      keyward(['keys', 'update', alphaId, '--rate-limit', 'lots']),
      // Well-formed and unknown. Not a neighbour of alpha's id: ids minted in one millisecond (the
      // test clock stands still) count up by one, so alpha's id with its last digit changed could
      // be beta's.
      keyward(['keys', 'show', `key_${'0'.repeat(26)}`]),
    ]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/NAME\s+ID\s+START\s+STATUS\s+SCOPES\s+ENV\s+CREATED/);
    expect(listed.out).toMatch(/alpha\s+/);
    expect(listed.out).toMatch(/beta\s+/);
    expect(listedJson.code).toBe(0);
    const page = JSON.parse(listedJson.out);
    expect(page).toMatchObject({ page: 1, pageSize: 5, total: 1 });
    expect(page.apiKeys[0].id).toBe(betaKey.id);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/rate limit:\s+10\/60000 ms/);
    expect(shown.out).toMatch(/meta:\s+\{"team":"a"\}/);
    expect(shown.out).toMatch(/usage:\s+0\/100/);
    expect(JSON.parse(shownJson.out)).toMatchObject({ id: betaKey.id, status: 'active' });
    expect(badRate.code).toBe(2);
    expect(badRate.err).toContain('--rate-limit must be N/MS');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/404 notFoundError/);

    // Verify alpha before it is disabled (not in parallel with the update).
    const validJson = await keyward(['keys', 'verify', alphaSecret, '--scopes', 'read', '--json']);
    const [validBefore, disabled, renamed] = await Promise.all([
      keyward(['keys', 'verify', betaKey.key, '--environment', 'test']),
      keyward(['keys', 'update', alphaId, '--disable', '--limit', 'none', '--refill', 'none']),
      keyward(['keys', 'update', betaKey.id, '--name', 'beta-2', '--scopes', 'read', '--json']),
    ]);
    expect(validBefore.code).toBe(0);
    expect(validBefore.out).toMatch(/code:\s+VALID/);
    expect(validJson.code).toBe(0);
    expect(JSON.parse(validJson.out)).toMatchObject({ valid: true, code: 'VALID' });
    expect(disabled.err).toBe('');
    expect(disabled.code).toBe(0);
    expect(disabled.out).toMatch(/status:\s+disabled/);
    expect(disabled.out).toMatch(/usage:\s+\d+ \(unlimited\)/);
    expect(JSON.parse(renamed.out)).toMatchObject({ name: 'beta-2', scopes: ['read'] });

    const [refused, refusedJson, rotated, rotatedJson] = await Promise.all([
      keyward(['keys', 'verify', alphaSecret]),
      keyward(['keys', 'verify', alphaSecret, '--json']),
      keyward(['keys', 'rotate', alphaId, '--grace', '60']),
      keyward(['keys', 'rotate', betaKey.id, '--json']),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/code:\s+DISABLED/);
    expect(refusedJson.code).toBe(1);
    expect(JSON.parse(refusedJson.out)).toMatchObject({ valid: false, code: 'DISABLED' });
    expect(rotated.code).toBe(0);
    expect(rotated.out).toContain('old secret keeps working for 60 s');
    expect(rotated.out).toContain('shown once');
    const rotatedKey = JSON.parse(rotatedJson.out);
    expect(rotatedKey.key).toMatch(/^kw_test_/);
    expect(rotatedKey.key).not.toBe(betaKey.key);

    // The old secret of a rotation without grace no longer verifies (checked before the key is deleted).
    const oldSecret = await keyward(['keys', 'verify', betaKey.key]);
    const identityId = /Created key proxy user \((\S+)\)/.exec(identity.out)![1]!;
    const [deleted, deletedJson, deletedIdentity] = await Promise.all([
      keyward(['keys', 'delete', alphaId]),
      keyward(['keys', 'delete', betaKey.id, '--json']),
      keyward(['keys', 'delete', identityId]),
    ]);
    expect(deletedIdentity.code).toBe(0);
    expect(oldSecret.err).toBe('');
    expect(oldSecret.code).toBe(1);
    expect(oldSecret.out).toMatch(/^code:\s+(?!VALID)[A-Z_]+$/m);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toContain(`Deleted key ${alphaId}.`);
    expect(JSON.parse(deletedJson.out)).toEqual({ deleted: true, id: betaKey.id });

    const after = await keyward(['keys', 'list', '--project', project, '--json']);
    expect(JSON.parse(after.out).apiKeys).toEqual([]);
  }, SLOW);
});
