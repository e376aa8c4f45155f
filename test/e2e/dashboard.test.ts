// The dashboard end to end: Debian's Chromium (driven by playwright-core) against a real server on
// a loopback port, serving the built dist/web. Every flow checks its outcome on the page and, where
// the flow changes something, through the API as well. Each test has a fresh browser context and
// makes what it needs (its own project, keys, members) through the API, so none depends on another.
// Screenshots of the main pages go to test-results/ at 1280×800 and 375×812.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../src/http/dashboard.js';
import { startApp, TestClock, type TestApp } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(ROOT, 'test-results');
const SIZES = [
  { width: 1280, height: 800 },
  { width: 375, height: 812 },
];
const OWNER_PASSWORD = 'owner-password-e2e';
/** Waits on page conditions: long enough for a slow CI machine, short enough to fail fast. */
const EVENTUALLY = { timeout: 10_000, interval: 100 };

/** The server on the wall clock: the browser works out chart windows and expiries from its own. */
class WallClock extends TestClock {
  override readonly read = () => Date.now();
}

/** A loopback webhook receiver that answers 200 and keeps every body. */
class Receiver {
  readonly bodies: { data: { keyId: string; events: { type: string; data: Record<string, unknown> }[] } }[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/keyward`;
  }

  async stop(): Promise<void> {
    if (this.server === null) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

let t: TestApp;
let baseUrl: string;
let ownerEmail: string;
let ownerName: string;
let browser: Browser;
const receiver = new Receiver();

let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  // `npm ci` builds the dashboard (prepare); a bare checkout may not have yet.
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    // NODE_ENV is "test" under vitest, which would make Vite bundle React's development build.
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
  }
  t = await startApp({ env: { KEYWARD_WEBHOOK_ALLOW_PRIVATE: 'true' }, clock: new WallClock(Date.now()) });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  ({ email: ownerEmail, name: ownerName } = (await api('GET', `/v1/accounts/${t.ownerId}`)).account);
  await api('PATCH', `/v1/accounts/${t.ownerId}`, { password: OWNER_PASSWORD });
  await receiver.start();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await receiver.stop();
  await t?.close();
});

beforeEach(async () => {
  context = await browser.newContext({ baseURL: baseUrl, viewport: SIZES[0]! });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
});

// ---------- helpers ----------

/** An admin API call as the owner (through the app, no socket); fails the test on an unexpected status. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, expected?: number): Promise<any> {
  const response = await t.call(method, url, body === undefined ? {} : { body });
  const wanted = expected ?? (method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200);
  if (response.status !== wanted) throw new Error(`${method} ${url}: ${response.status} ${response.text}`);
  return response.body;
}

/** POST /v1/keys/verify over real HTTP, as a service would. */
async function verifyOverHttp(body: Record<string, unknown>): Promise<{ valid: boolean; code: string; key?: { id: string; name: string; scopes: string[] } }> {
  const response = await fetch(`${baseUrl}/v1/keys/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

let projectCounter = 0;

/** A project of this test's own, so key counts and lists are only what the test made. */
async function newProject(fields: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  return (await api('POST', '/v1/projects', { name: `E2E project ${++projectCounter}`, ...fields })).project;
}

async function newKey(projectId: string, fields: Record<string, unknown>): Promise<{ id: string; name: string; key: string }> {
  return (await api('POST', `/v1/projects/${projectId}/keys`, fields)).apiKey;
}

/** Signs this context in through the login route (the cookie lands in the context), then opens `path`. */
async function signIn(path: string, email = ownerEmail, password = OWNER_PASSWORD): Promise<void> {
  const response = await context.request.post('/v1/auth/login', { data: { email, password } });
  expect(response.status()).toBe(200);
  await page.goto(path);
  await page.getByTestId('current-account').waitFor();
}

/** Full-page screenshots of what is on screen now, at desktop and phone width. */
async function screenshot(name: string): Promise<void> {
  // From the top: a page scrolled by an earlier click would draw the sticky header mid-image.
  await page.evaluate('window.scrollTo(0, 0)'); // a string: this file compiles without the DOM types
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(SCREENSHOTS, `dashboard-${name}-${size.width}x${size.height}.png`), fullPage: true, animations: 'disabled' });
  }
  await page.setViewportSize(SIZES[0]!);
}

const keyRow = (keyId: string) => page.locator(`[data-testid="key-row"][data-key-id="${keyId}"]`);

// ---------- flows ----------

describe('dashboard in Chromium', () => {
  it('signs in; a wrong password shows the error and keeps the form', async () => {
    await page.goto('/');
    await page.getByTestId('login-email').waitFor();
    await screenshot('login');

    await page.getByTestId('login-email').fill(ownerEmail);
    await page.getByTestId('login-password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-error').textContent(), EVENTUALLY).toContain('Wrong e-mail address or password');
    expect(await page.getByTestId('login-password').inputValue()).toBe('');
    expect(await page.getByTestId('current-account').count()).toBe(0);

    await page.getByTestId('login-password').fill(OWNER_PASSWORD);
    await page.getByTestId('login-submit').click();
    // `/` opens the keys of a project: the signed-in shell, with the owner's name.
    await page.waitForURL(/\/projects\/[^/]+\/keys$/);
    expect(await page.getByTestId('current-account').textContent()).toContain(ownerName);
    await page.getByTestId('keys-table').waitFor(); // the default project holds the owner's admin key
  });

  it('creates a key in the New Key dialog, and the secret on the page verifies through the API', async () => {
    const project = await newProject();
    await signIn(`/projects/${project.id}/keys`);
    await page.getByTestId('keys-empty').waitFor();

    await page.getByTestId('new-key-button').click();
    const dialog = page.getByTestId('new-key-dialog');
    await dialog.getByTestId('key-name-input').fill('checkout-service');
    await dialog.getByTestId('scope-inference').check();
    await dialog.getByTestId('generate-key').click();

    const created = page.getByTestId('key-created-dialog');
    await created.waitFor();
    expect(await created.getByTestId('created-key-name').textContent()).toBe('checkout-service');
    const secret = (await created.getByTestId('new-secret').textContent())!.trim();
    expect(secret).toMatch(/^kw_live_\S+$/);
    await screenshot('new-key-secret');

    const verdict = await verifyOverHttp({ key: secret, scopes: ['inference'] });
    expect(verdict).toMatchObject({ valid: true, code: 'VALID', key: { name: 'checkout-service', scopes: ['inference'] } });

    await created.getByTestId('close-secret').click();
    await expect.poll(() => page.getByTestId('key-row').count(), EVENTUALLY).toBe(1);
    expect(await page.getByTestId('key-name').textContent()).toBe('checkout-service');
    // The list never shows the secret again.
    expect(await page.content()).not.toContain(secret);
  });

  it('finds a key by its name with a one-character typo', async () => {
    const project = await newProject();
    const orders = await newKey(project.id, { name: 'orders-backend' });
    await newKey(project.id, { name: 'analytics-export' });
    await newKey(project.id, { name: 'billing-worker' });
    await signIn(`/projects/${project.id}/keys`);
    await expect.poll(() => page.getByTestId('key-row').count(), EVENTUALLY).toBe(3);

    await page.getByTestId('key-search').fill('ordars'); // "orders" with one letter wrong
    await expect.poll(() => page.getByTestId('key-row').count(), EVENTUALLY).toBe(1);
    await keyRow(orders.id).waitFor();
    expect(await keyRow(orders.id).getByTestId('key-name').textContent()).toBe('orders-backend');
  });

  it('changes a key’s scopes in Modify configuration', async () => {
    const project = await newProject();
    const key = await newKey(project.id, { name: 'scoped-key', scopes: ['inference'] });
    await signIn(`/projects/${project.id}/keys`);

    await page.getByRole('button', { name: 'Modify configuration of scoped-key' }).click();
    const dialog = page.getByTestId('edit-key-dialog');
    expect(await dialog.getByTestId('scope-inference').isChecked()).toBe(true);
    await dialog.getByTestId('scope-inference').uncheck();
    await dialog.getByTestId('scope-data_extraction').check();
    await dialog.getByTestId('save-key').click();

    await expect.poll(() => page.getByTestId('notice').textContent(), EVENTUALLY).toBe('Saved “scoped-key”.');
    expect((await api('GET', `/v1/keys/${key.id}`)).apiKey.scopes).toEqual(['data_extraction']);
    await expect.poll(() => keyRow(key.id).getByTestId('key-scopes').textContent(), EVENTUALLY).toBe('data_extraction');
    expect(await verifyOverHttp({ key: key.key, scopes: ['inference'] })).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPE' });
  });

  it('disables a key: the badge says Disabled and verify answers DISABLED', async () => {
    const project = await newProject();
    const key = await newKey(project.id, { name: 'to-disable' });
    expect(await verifyOverHttp({ key: key.key })).toMatchObject({ valid: true });
    await signIn(`/projects/${project.id}/keys`);
    expect(await keyRow(key.id).getByTestId('status-badge').textContent()).toBe('Enabled');

    await page.getByRole('button', { name: 'Modify configuration of to-disable' }).click();
    const dialog = page.getByTestId('edit-key-dialog');
    const enabled = dialog.getByTestId('key-enabled');
    // A person clicks the switch's track, which lies over the (transparent) checkbox.
    await dialog.locator('label.switch', { has: page.getByTestId('key-enabled') }).click();
    expect(await enabled.isChecked()).toBe(false);
    await dialog.getByTestId('save-key').click();

    await expect.poll(() => keyRow(key.id).getAttribute('data-status'), EVENTUALLY).toBe('disabled');
    expect(await keyRow(key.id).getByTestId('status-badge').textContent()).toBe('Disabled');
    expect(await verifyOverHttp({ key: key.key })).toMatchObject({ valid: false, code: 'DISABLED' });
  });

  it('at the key limit "+ New Key" is disabled and says why', async () => {
    const project = await newProject({ maxKeysPerAccount: 10 });
    for (let i = 1; i <= 9; i++) await newKey(project.id, { name: `limit-key-${i}` });
    await signIn(`/projects/${project.id}/keys`);
    await expect.poll(() => page.getByTestId('key-count').textContent(), EVENTUALLY).toBe('You have 9 of 10 keys');
    expect(await page.getByTestId('new-key-button').isEnabled()).toBe(true);
    expect(await page.getByTestId('key-limit-message').count()).toBe(0);

    await newKey(project.id, { name: 'limit-key-10' });
    await page.reload();
    await expect.poll(() => page.getByTestId('key-count').textContent(), EVENTUALLY).toBe('You have 10 of 10 keys');
    const button = page.getByTestId('new-key-button');
    expect(await button.isDisabled()).toBe(true);
    const message = page.getByTestId('key-limit-message');
    expect(await message.textContent()).toContain('You have reached the limit of 10 keys per account in this project');
    expect(await button.getAttribute('aria-describedby')).toBe(await message.getAttribute('id'));
    await expect.poll(() => page.getByTestId('key-row').count(), EVENTUALLY).toBe(10);
    // The server agrees: an 11th key is refused.
    expect((await t.call('POST', `/v1/projects/${project.id}/keys`, { body: { name: 'one-too-many' } })).status).toBeGreaterThanOrEqual(400);
    await screenshot('keys-page');
  });

  it('deletes a key only after both confirmations', async () => {
    const project = await newProject();
    const keep = await newKey(project.id, { name: 'keep-me' });
    const doomed = await newKey(project.id, { name: 'delete-me' });
    await signIn(`/projects/${project.id}/keys`);
    await expect.poll(() => page.getByTestId('key-row').count(), EVENTUALLY).toBe(2);

    await page.getByRole('button', { name: 'Delete delete-me' }).click();
    const dialog = page.getByTestId('delete-key-dialog');
    await dialog.getByTestId('delete-confirm-1').click();
    const confirm = dialog.getByTestId('delete-confirm-2');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByTestId('delete-confirm-name').fill('delete-m');
    expect(await confirm.isDisabled()).toBe(true);
    expect((await api('GET', `/v1/keys/${doomed.id}`)).apiKey.name).toBe('delete-me'); // nothing deleted yet
    await dialog.getByTestId('delete-confirm-name').fill('delete-me');
    await confirm.click();

    await expect.poll(() => page.getByTestId('notice').textContent(), EVENTUALLY).toBe('Deleted “delete-me”.');
    await expect.poll(() => page.getByTestId('key-row').count(), EVENTUALLY).toBe(1);
    await keyRow(keep.id).waitFor();
    expect((await t.call('GET', `/v1/keys/${doomed.id}`)).status).toBe(404);
    expect(await verifyOverHttp({ key: doomed.key })).toMatchObject({ valid: false, code: 'NOT_FOUND' });
  });

  it('shows the usage chart, and runs a historical push to a local receiver up to 100%', async () => {
    const project = await newProject();
    const key = await newKey(project.id, { name: 'pushed-key', scopes: ['inference'] });
    for (let i = 0; i < 3; i++) expect(await verifyOverHttp({ key: key.key, scopes: ['inference'] })).toMatchObject({ valid: true });
    expect(await verifyOverHttp({ key: key.key, scopes: ['data_extraction'] })).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    // Usage logs are written behind: wait until all four are stored, so the chart and the push see them.
    await expect.poll(async () => (await api('GET', `/v1/projects/${project.id}/logs?keyId=${key.id}`)).logs.length, EVENTUALLY).toBe(4);

    await signIn(`/keys/${key.id}`);
    await page.getByTestId('key-page').waitFor();
    await expect.poll(() => page.getByTestId('usage-total').textContent(), EVENTUALLY).toMatch(/^4 verifications/);
    await page.locator('[data-testid="usage-bar"][data-total="4"]').waitFor();
    await expect.poll(() => page.getByTestId('log-row').count(), EVENTUALLY).toBe(4);
    await screenshot('key-page');

    const panel = page.getByTestId('push-panel');
    await panel.getByTestId('webhook-url').fill(receiver.url);
    await panel.getByTestId('save-webhook').click();
    await expect.poll(() => panel.getByTestId('webhook-secret').textContent(), EVENTUALLY).toMatch(/^whsec_/);
    expect(await panel.getByTestId('history-progress').getAttribute('data-state')).toBe('idle');

    await panel.getByTestId('history-push').click();
    const progress = panel.getByTestId('history-progress');
    await expect.poll(() => progress.getAttribute('aria-valuenow'), EVENTUALLY).toBe('100');
    await expect.poll(() => progress.getAttribute('data-state'), EVENTUALLY).toBe('completed');
    const button = panel.getByTestId('history-push');
    expect(await button.isDisabled()).toBe(true);
    expect(await button.textContent()).toBe('Historical push done');
    const status = (await panel.getByTestId('history-status').textContent())!;
    const [, delivered, total] = /^Completed: (\d+) of (\d+) events delivered$/.exec(status) ?? [];
    expect(Number(total)).toBeGreaterThanOrEqual(4);
    expect(delivered).toBe(total);

    // The receiver really got this key's verifications.
    const pushed = receiver.bodies.filter((body) => body.data.keyId === key.id).flatMap((body) => body.data.events);
    expect(pushed.filter((event) => event.type === 'key.verified' && event.data.keyId === key.id)).toHaveLength(4);
    const push = (await api('GET', `/v1/keys/${key.id}/push`)).push;
    expect(push.history).toMatchObject({ state: 'completed', progress: 100 });
    await screenshot('push-done');
  });

  it('edits a member’s name and e-mail; a taken e-mail is shown at the field', async () => {
    const stamp = Date.now().toString(36);
    const taken = (await api('POST', '/v1/accounts', { email: `taken-${stamp}@example.com`, name: 'Taken Address', role: 'viewer' })).account;
    const member = (await api('POST', '/v1/accounts', { email: `dev-${stamp}@example.com`, name: 'Dev One', role: 'developer' })).account;
    await signIn('/members');
    await page.locator(`[data-testid="member-row"][data-account-id="${member.id}"]`).waitFor();
    await screenshot('members');

    await page.getByRole('button', { name: 'Edit Dev One' }).click();
    const dialog = page.getByTestId('edit-member-dialog');
    await dialog.getByTestId('edit-member-email').fill(taken.email);
    await dialog.getByTestId('edit-member-submit').click();
    await expect.poll(() => dialog.getByTestId('error-email').textContent(), EVENTUALLY).toContain('already exists');
    expect((await api('GET', `/v1/accounts/${member.id}`)).account.email).toBe(member.email);

    await dialog.getByTestId('edit-member-name').fill('Dev Uno');
    await dialog.getByTestId('edit-member-email').fill(`uno-${stamp}@example.com`);
    await dialog.getByTestId('edit-member-submit').click();
    await expect.poll(() => page.getByTestId('notice').textContent(), EVENTUALLY).toBe('Saved Dev Uno.');
    const row = page.locator(`[data-testid="member-row"][data-account-id="${member.id}"]`);
    expect(await row.textContent()).toContain(`uno-${stamp}@example.com`);
    expect((await api('GET', `/v1/accounts/${member.id}`)).account).toMatchObject({ name: 'Dev Uno', email: `uno-${stamp}@example.com` });
  });

  it('changes your own password: the session ends and the new password signs in', async () => {
    const email = `admin-${Date.now().toString(36)}@example.com`;
    await api('POST', '/v1/accounts', { email, name: 'Ada Admin', role: 'admin', password: 'first-password-1' });
    await signIn('/members', email, 'first-password-1');

    await page.getByTestId('member-change-password').click();
    const dialog = page.getByTestId('change-password-dialog');
    await dialog.getByTestId('new-password').fill('short');
    await dialog.getByTestId('change-password-submit').click();
    expect(await dialog.getByTestId('error-currentPassword').textContent()).toContain('Enter your current password');
    expect(await dialog.getByTestId('error-password').textContent()).toContain('10 to 200 characters');
    await dialog.getByTestId('current-password').fill('not-the-password');
    await dialog.getByTestId('new-password').fill('second-password-2');
    await dialog.getByTestId('repeat-password').fill('second-password-3');
    await dialog.getByTestId('change-password-submit').click();
    expect(await dialog.getByTestId('error-repeatPassword').textContent()).toContain('do not match');
    await dialog.getByTestId('repeat-password').fill('second-password-2');
    await dialog.getByTestId('change-password-submit').click();
    // The server checks the current password.
    await expect.poll(() => dialog.getByTestId('error-currentPassword').textContent(), EVENTUALLY).toContain('The current password is wrong');
    await dialog.getByTestId('current-password').fill('first-password-1');
    await dialog.getByTestId('change-password-submit').click();

    await expect.poll(() => page.getByTestId('password-changed').textContent(), EVENTUALLY).toBe('Password changed — log in again with the new one.');
    expect(await page.getByTestId('login-email').inputValue()).toBe(email);
    // The old session is over, and the old password no longer signs in.
    expect((await context.request.get('/v1/auth/session')).status()).toBe(401);
    expect((await context.request.post('/v1/auth/login', { data: { email, password: 'first-password-1' } })).status()).toBe(401);

    await page.getByTestId('login-password').fill('second-password-2');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('current-account').textContent(), EVENTUALLY).toContain('Ada Admin');
    await page.getByTestId('members-table').waitFor();
  });

  it('lists changes in the audit log', async () => {
    const project = await newProject();
    const key = await newKey(project.id, { name: 'audited-key' });
    await signIn('/audit');
    await page.getByTestId('audit-table').waitFor();
    await page.locator('[data-testid="audit-row"][data-action="key.created"]').first().waitFor();
    await expect.poll(() => page.getByTestId('audit-table').textContent(), EVENTUALLY).toContain(key.id);
    await screenshot('audit-log');
  });

  it('deletes a project with its keys after two confirmations, then switches to another project', async () => {
    const project = await newProject();
    const keys = [await newKey(project.id, { name: 'doomed-1' }), await newKey(project.id, { name: 'doomed-2' })];
    await signIn(`/projects/${project.id}/settings`);
    expect(await page.getByTestId('project-name').inputValue()).toBe(project.name);
    await screenshot('project-settings');

    await page.getByTestId('delete-project').click();
    const dialog = page.getByTestId('delete-project-dialog');
    await expect.poll(() => dialog.getByTestId('delete-project-key-count').textContent(), EVENTUALLY).toBe('Its 2 API keys will be deleted with it.');
    expect(await dialog.textContent()).toContain(project.name);
    await dialog.getByTestId('delete-project-confirm-1').click();
    const confirm = dialog.getByTestId('delete-project-confirm-2');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByTestId('delete-project-confirm-name').fill(project.name);
    expect(await confirm.textContent()).toBe(`Delete “${project.name}” and 2 keys`);
    await confirm.click();

    await page.waitForURL((url) => /^\/projects\/[^/]+\/keys$/.test(url.pathname) && !url.pathname.includes(project.id));
    expect(await page.getByTestId('project-switcher').inputValue()).not.toBe(project.id);
    expect(await page.locator(`[data-testid="project-switcher"] option[value="${project.id}"]`).count()).toBe(0);
    expect((await t.call('GET', `/v1/projects/${project.id}`)).status).toBe(404);
    for (const key of keys) expect((await t.call('GET', `/v1/keys/${key.id}`)).status).toBe(404);
  });
});
