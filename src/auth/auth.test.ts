// Dashboard sessions through HTTP: log-in, the cookie, CSRF on changes, throttled failures,
// log-out, and a session that follows its account (role, password, removal, expiry).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, TestClock, type ApiResponse, type TestApp } from '../../test/helpers.js';
import { FREE_FAILURES, lockAfter, readCookie } from './service.js';

let t!: TestApp;
let clock: TestClock;
const PASSWORD = 'correct horse battery';

beforeEach(async () => {
  clock = new TestClock();
  t = await startApp({ clock });
});
afterEach(async () => {
  await t.close();
});

async function member(role: string, email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`): Promise<{ id: string; email: string }> {
  const created = await t.call('POST', '/v1/accounts', { body: { email, name: `A ${role}`, role, password: PASSWORD } });
  expect(created.status, created.text).toBe(201);
  return { id: created.body.account.id, email };
}

function login(email: string, password: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return t.call('POST', '/v1/auth/login', { token: null, body: { email, password }, headers });
}

interface Session {
  cookie: string;
  csrf: string;
}

async function loggedIn(email: string): Promise<Session> {
  const response = await login(email, PASSWORD);
  expect(response.status, response.text).toBe(200);
  const setCookie = String(response.headers['set-cookie']);
  return { cookie: `kw_session=${readCookie(setCookie.split(';')[0], 'kw_session')!}`, csrf: response.body.session.csrfToken };
}

/** A call made with the session cookie (and the CSRF header unless `csrf` is null). */
function withSession(session: Session, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, csrf: string | null = session.csrf): Promise<ApiResponse> {
  return t.call(method, url, { token: null, headers: { cookie: session.cookie, ...(csrf !== null && { 'x-csrf-token': csrf }) }, ...(body !== undefined && { body }) });
}

describe('log-in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and describes the session', async () => {
    const admin = await member('admin');
    const response = await login(admin.email.toUpperCase(), PASSWORD);
    expect(response.status).toBe(200);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/^kw_session=[0-9A-Za-z]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.session).toMatchObject({
      account: { id: admin.id, email: admin.email, role: 'admin' },
      workspace: { id: t.workspaceId },
      expiresAt: new Date(clock.now + 12 * 3_600_000).toISOString(),
    });
    expect(response.body.session.permissions).toContain('members:manage');
    expect(response.body.session.csrfToken).toMatch(/^[0-9A-Za-z]{32}$/);
  });

  it('the session cookie is a credential for the admin API, as the account', async () => {
    const admin = await member('admin');
    const session = await loggedIn(admin.email);
    const workspace = await withSession(session, 'GET', '/v1/workspace', undefined, null);
    expect(workspace.status).toBe(200);
    expect(workspace.body.account.id).toBe(admin.id);
    expect(workspace.body.credential).toEqual({ type: 'session', keyId: null });
    const current = await withSession(session, 'GET', '/v1/auth/session', undefined, null);
    expect(current.status).toBe(200);
    expect(current.body.session.account.id).toBe(admin.id);
  });

  it('refuses a wrong password and an unknown address with the same answer', async () => {
    const admin = await member('admin');
    const wrong = await login(admin.email, 'not the password');
    const unknown = await login('nobody@example.com', PASSWORD);
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ status: 'error', type: 'invalidCredentialsError', error: { message: 'Wrong e-mail address or password' } });
      expect(response.headers['set-cookie']).toBeUndefined();
    }
  });

  it('an account without a password cannot log in', async () => {
    const created = await t.call('POST', '/v1/accounts', { body: { email: 'nopass@example.com', name: 'No password', role: 'admin' } });
    expect(created.status).toBe(201);
    expect((await login('nopass@example.com', '')).status).toBe(400);
    expect((await login('nopass@example.com', 'anything at all')).status).toBe(401);
  });

  it('refuses bad bodies with a validation error naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ email: 'a@example.com' }, 'password'],
      [{ password: 'x' }, 'email'],
      [{ email: 'not-an-address', password: 'x' }, 'email'],
      [{ email: 'a@example.com', password: 'x', remember: true }, 'remember'],
    ];
    for (const [body, field] of cases) {
      const response = await t.call('POST', '/v1/auth/login', { token: null, body });
      expect(response.status, response.text).toBe(400);
      expect(response.body.type).toBe('validationError');
      expect(response.body.error.field).toBe(field);
    }
  });
});

describe('repeated failures are slowed down', () => {
  it('waits 1 s, 2 s, 4 s … after five failures for an address, even for the right password, and forgets them on success', async () => {
    const admin = await member('admin');
    for (let i = 0; i < FREE_FAILURES.email; i++) expect((await login(admin.email, 'wrong password')).status).toBe(401);
    const locked = await login(admin.email, PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body.type).toBe('tooManyLoginAttemptsError');
    expect(locked.headers['retry-after']).toBe('1');
    clock.advance(1_000);
    expect((await login(admin.email, 'wrong password')).status).toBe(401);
    const longer = await login(admin.email, PASSWORD);
    expect(longer.status).toBe(429);
    expect(longer.headers['retry-after']).toBe('2');
    clock.advance(2_000);
    expect((await login(admin.email, PASSWORD)).status).toBe(200);
    // Success forgot the address's failures: five free ones again.
    for (let i = 0; i < FREE_FAILURES.email - 1; i++) expect((await login(admin.email, 'wrong password')).status).toBe(401);
    expect((await login(admin.email, PASSWORD)).status).toBe(200);
  });

  it('another address is not locked by one address’s failures', async () => {
    const a = await member('admin');
    const b = await member('developer');
    for (let i = 0; i < FREE_FAILURES.email; i++) await login(a.email, 'wrong password');
    expect((await login(a.email, PASSWORD)).status).toBe(429);
    expect((await login(b.email, PASSWORD)).status).toBe(200);
  });

  it('a client guessing many addresses is slowed down too', async () => {
    for (let i = 0; i < FREE_FAILURES.ip; i++) expect((await login(`guess-${i}@example.com`, 'wrong password')).status).toBe(401);
    expect((await login('guess-final@example.com', 'wrong password')).status).toBe(429);
  });

  it('the wait doubles and stops at 15 minutes', () => {
    expect([4, 5, 6, 7, 8].map((n) => lockAfter(n, 5))).toEqual([0, 1000, 2000, 4000, 8000]);
    expect(lockAfter(40, 5)).toBe(15 * 60_000);
    expect(lockAfter(10_000, 5)).toBe(15 * 60_000);
  });
});

describe('CSRF: changes made with a session must carry its token', () => {
  it('refuses a change without the header or with a wrong one, and changes nothing', async () => {
    const admin = await member('admin');
    const session = await loggedIn(admin.email);
    for (const csrf of [null, 'x'.repeat(32), session.csrf.slice(1)]) {
      const refused = await withSession(session, 'POST', '/v1/projects', { name: 'Sneaky' }, csrf);
      expect(refused.status).toBe(403);
      expect(refused.body.type).toBe('csrfError');
    }
    const projects = await withSession(session, 'GET', '/v1/projects', undefined, null);
    expect(projects.body.projects.map((p: { name: string }) => p.name)).not.toContain('Sneaky');
    const made = await withSession(session, 'POST', '/v1/projects', { name: 'Made' });
    expect(made.status).toBe(201);
  });

  it('a credential header wins over the cookie (API clients need no CSRF token)', async () => {
    const viewer = await member('viewer');
    const session = await loggedIn(viewer.email);
    const response = await t.call('POST', '/v1/projects', { headers: { cookie: session.cookie }, body: { name: 'By key' } });
    expect(response.status).toBe(201);
  });

  it('audits changes made through a session as such', async () => {
    const admin = await member('admin');
    const session = await loggedIn(admin.email);
    const made = await withSession(session, 'POST', '/v1/projects', { name: 'Audited' });
    const audit = await t.call('GET', '/v1/audit-log', { query: { targetId: made.body.project.id } });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.entries[0].actor).toMatchObject({ accountId: admin.id, credential: 'session', keyId: null });
  });
});

describe('a session follows its account', () => {
  it('uses the role the account has now', async () => {
    const account = await member('admin');
    const session = await loggedIn(account.email);
    expect((await withSession(session, 'GET', '/v1/accounts', undefined, null)).status).toBe(200);
    expect((await t.call('PATCH', `/v1/accounts/${account.id}`, { body: { role: 'viewer' } })).status).toBe(200);
    const demoted = await withSession(session, 'POST', '/v1/accounts', { email: 'x@example.com', name: 'X', role: 'viewer' });
    expect(demoted.status).toBe(403);
  });

  it('ends when the account is removed, when its password changes, and when it expires', async () => {
    const removed = await member('developer');
    const removedSession = await loggedIn(removed.email);
    expect((await t.call('DELETE', `/v1/accounts/${removed.id}`)).status).toBe(204);
    expect((await withSession(removedSession, 'GET', '/v1/workspace', undefined, null)).status).toBe(401);

    const changed = await member('developer');
    const changedSession = await loggedIn(changed.email);
    const patch = await withSession(changedSession, 'PATCH', `/v1/accounts/${changed.id}`, { password: 'a brand new password', currentPassword: PASSWORD });
    expect(patch.status).toBe(200);
    expect((await withSession(changedSession, 'GET', '/v1/workspace', undefined, null)).status).toBe(401);
    expect((await login(changed.email, PASSWORD)).status).toBe(401);
    expect((await login(changed.email, 'a brand new password')).status).toBe(200);

    const expiring = await member('viewer');
    const expiringSession = await loggedIn(expiring.email);
    clock.advance(12 * 3_600_000 - 1);
    expect((await withSession(expiringSession, 'GET', '/v1/workspace', undefined, null)).status).toBe(200);
    clock.advance(1);
    const expired = await withSession(expiringSession, 'GET', '/v1/workspace', undefined, null);
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/session has ended/);
  });
});

describe('changing your own password through a session', () => {
  it('needs the current password; wrong guesses count like failed log-ins; keys and admins may reset it', async () => {
    const account = await member('developer');
    const session = await loggedIn(account.email);
    const url = `/v1/accounts/${account.id}`;
    const missing = await withSession(session, 'PATCH', url, { password: 'a brand new password' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ message: 'Give your current password to set a new one', field: 'currentPassword' });
    const alone = await withSession(session, 'PATCH', url, { name: 'Renamed', currentPassword: PASSWORD });
    expect(alone.status).toBe(400);
    expect(alone.body.error.field).toBe('currentPassword');
    for (let i = 0; i < FREE_FAILURES.email; i++) {
      const wrong = await withSession(session, 'PATCH', url, { password: 'a brand new password', currentPassword: 'not it at all' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toEqual({ message: 'The current password is wrong', field: 'currentPassword' });
    }
    const locked = await withSession(session, 'PATCH', url, { password: 'a brand new password', currentPassword: PASSWORD });
    expect(locked.status).toBe(429);
    expect((await login(account.email, PASSWORD)).status).toBe(429); // the same wait as log-in
    clock.advance(1_000);
    // Nothing changed meanwhile: the old password still logs in.
    expect((await login(account.email, PASSWORD)).status).toBe(200);
    // An owner (here through an API key) may reset it without knowing it.
    expect((await t.call('PATCH', url, { body: { password: 'reset by the owner' } })).status).toBe(200);
    expect((await login(account.email, 'reset by the owner')).status).toBe(200);
  });
});

describe('log-out', () => {
  it('needs the CSRF token, ends the session and clears the cookie', async () => {
    const admin = await member('admin');
    const session = await loggedIn(admin.email);
    expect((await withSession(session, 'POST', '/v1/auth/logout', undefined, null)).status).toBe(403);
    expect((await withSession(session, 'GET', '/v1/workspace', undefined, null)).status).toBe(200);
    const out = await withSession(session, 'POST', '/v1/auth/logout');
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^kw_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    expect((await withSession(session, 'GET', '/v1/workspace', undefined, null)).status).toBe(401);
    const current = await withSession(session, 'GET', '/v1/auth/session', undefined, null);
    expect(current.status).toBe(401);
    expect(current.body.type).toBe('unauthorizedApiKeyError');
  });

  it('without a session it just clears the cookie', async () => {
    const out = await t.call('POST', '/v1/auth/logout', { token: null });
    expect(out.status).toBe(204);
    expect((await t.call('GET', '/v1/auth/session', { token: null })).status).toBe(401);
  });
});

describe('the dashboard page', () => {
  it('is served at / and for client-side routes, with a strict CSP; the API keeps its 404s', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    for (const url of ['/', '/keys/key_01HZZZZZZZZZZZZZZZZZZZZZZZ', '/members']) {
      const page = await t.call('GET', url, { token: null, headers: browser });
      expect(page.status, url).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'/);
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.text).toMatch(/<!doctype html>/i);
    }
    for (const url of ['/v1/nope', '/v2/keys', '/docs/nope']) {
      const api = await t.call('GET', url, { headers: browser });
      expect(api.status, url).toBe(404);
      expect(api.body.type).toBe('notFoundError');
    }
    // Without asking for a page (API clients), an unknown path is the JSON 404.
    const json = await t.call('GET', '/members', { token: null });
    expect(json.status).toBe(404);
    expect(json.body.type).toBe('notFoundError');
    expect((await t.call('GET', '/missing-file.js', { token: null, headers: browser })).status).toBe(404);
    expect((await t.call('POST', '/members', { token: null, body: {} })).status).toBe(404);
  });
});
