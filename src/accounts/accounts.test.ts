import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addMember, createKey, startApp, verify, type TestApp } from '../../test/helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await startApp();
});
afterEach(async () => {
  await t.close();
});

describe('accounts', () => {
  it('creates members with a role; the password is write-only and stored hashed', async () => {
    const created = await t.call('POST', '/v1/accounts', {
      body: { email: 'Dev@Example.com', name: 'Dev', role: 'developer', password: 'correct horse battery' },
    });
    expect(created.status).toBe(201);
    expect(created.body.account).toMatchObject({ email: 'dev@example.com', name: 'Dev', role: 'developer' });
    expect(created.text).not.toContain('password');
    const row = await t.built.services.storage.db
      .selectFrom('accounts')
      .select('password_hash')
      .where('id', '=', created.body.account.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain('correct horse');
    const list = await t.call('GET', '/v1/accounts');
    expect(list.body.accounts.map((a: { role: string }) => a.role)).toEqual(['owner', 'developer']);
  });

  it('refuses a duplicate e-mail', async () => {
    await t.call('POST', '/v1/accounts', { body: { email: 'x@example.com', name: 'X', role: 'viewer' } });
    const again = await t.call('POST', '/v1/accounts', { body: { email: 'X@example.com', name: 'X2', role: 'viewer' } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ status: 'error', type: 'conflictError', error: { message: 'An account with the e-mail x@example.com already exists', field: 'email' } });
  });

  it('the workspace keeps at least one owner', async () => {
    const demote = await t.call('PATCH', `/v1/accounts/${t.ownerId}`, { body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect((await t.call('DELETE', `/v1/accounts/${t.ownerId}`)).status).toBe(409);
    const second = await t.call('POST', '/v1/accounts', { body: { email: 'o2@example.com', name: 'O2', role: 'owner' } });
    expect(second.status).toBe(201);
    expect((await t.call('PATCH', `/v1/accounts/${second.body.account.id}`, { body: { role: 'admin' } })).status).toBe(200);
  });

  it('only an owner makes, changes or removes owners', async () => {
    const admin = await addMember(t, 'admin');
    expect((await t.call('POST', '/v1/accounts', { body: { email: 'o@example.com', name: 'O', role: 'owner' }, token: admin.token })).status).toBe(403);
    expect((await t.call('PATCH', `/v1/accounts/${t.ownerId}`, { body: { name: 'Renamed' }, token: admin.token })).status).toBe(403);
    expect((await t.call('DELETE', `/v1/accounts/${t.ownerId}`, { token: admin.token })).status).toBe(403);
    expect((await t.call('PATCH', `/v1/accounts/${admin.accountId}`, { body: { role: 'owner' }, token: admin.token })).status).toBe(403);
    const dev = await addMember(t, 'developer');
    expect((await t.call('PATCH', `/v1/accounts/${dev.accountId}`, { body: { role: 'admin' }, token: admin.token })).status).toBe(200);
  });

  it('anyone may rename themselves; changing their own role needs members:manage', async () => {
    const dev = await addMember(t, 'developer');
    const renamed = await t.call('PATCH', `/v1/accounts/${dev.accountId}`, { body: { name: 'New name' }, token: dev.token });
    expect(renamed.status).toBe(200);
    expect(renamed.body.account.name).toBe('New name');
    expect((await t.call('PATCH', `/v1/accounts/${dev.accountId}`, { body: { role: 'admin' }, token: dev.token })).status).toBe(403);
    expect((await t.call('GET', `/v1/accounts/${dev.accountId}`, { token: dev.token })).status).toBe(200);
    expect((await t.call('GET', `/v1/accounts/${t.ownerId}`, { token: dev.token })).status).toBe(403);
  });

  it('removing a member removes its keys', async () => {
    const dev = await addMember(t, 'developer');
    const key = await createKey(t, { accountId: dev.accountId, scopes: ['inference'] });
    expect((await t.call('DELETE', `/v1/accounts/${dev.accountId}`)).status).toBe(204);
    expect((await verify(t, { key: key.key })).code).toBe('NOT_FOUND');
    expect((await t.call('GET', `/v1/keys/${key.id}`)).status).toBe(404);
    expect((await t.call('GET', '/v1/workspace', { token: dev.token })).status).toBe(401);
  });

  it('GET /v1/workspace describes the caller', async () => {
    const dev = await addMember(t, 'developer');
    const response = await t.call('GET', '/v1/workspace', { token: dev.token });
    expect(response.body).toMatchObject({
      workspace: { id: t.workspaceId, name: 'Test workspace' },
      account: { id: dev.accountId, role: 'developer' },
      permissions: ['keys:manage', 'keys:read', 'logs:read', 'push:manage'],
      credential: { type: 'key', keyId: dev.keyId },
    });
  });
});
