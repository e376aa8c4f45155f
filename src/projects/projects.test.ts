import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKey, startApp, verify, type TestApp } from '../../test/helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await startApp();
});
afterEach(async () => {
  await t.close();
});

describe('projects', () => {
  it('has a default project with the default scopes', async () => {
    const list = await t.call('GET', '/v1/projects');
    expect(list.status).toBe(200);
    expect(list.body.projects).toHaveLength(1);
    expect(list.body.projects[0]).toMatchObject({
      id: t.projectId,
      name: 'Default project',
      prefix: 'kw',
      scopes: ['project', 'inference', 'data_extraction'],
      maxKeysPerAccount: 10,
      recoverable: false,
    });
  });

  it('creates, reads, updates and lists projects', async () => {
    const created = await t.call('POST', '/v1/projects', { body: { name: 'Vision API', scopes: ['predict', 'admin', 'predict'], prefix: 'vis' } });
    expect(created.status).toBe(201);
    const project = created.body.project;
    expect(project).toMatchObject({ name: 'Vision API', scopes: ['predict'], prefix: 'vis', maxKeysPerAccount: 10, recoverable: false });
    expect((await t.call('GET', `/v1/projects/${project.id}`)).body.project).toEqual(project);
    const updated = await t.call('PATCH', `/v1/projects/${project.id}`, { body: { name: 'Vision', maxKeysPerAccount: 3, recoverable: true } });
    expect(updated.body.project).toMatchObject({ name: 'Vision', maxKeysPerAccount: 3, recoverable: true, prefix: 'vis' });
    expect((await t.call('GET', '/v1/projects')).body.projects.map((p: { name: string }) => p.name)).toEqual(['Default project', 'Vision']);
  });

  it('refuses duplicate project names with 409', async () => {
    const again = await t.call('POST', '/v1/projects', { body: { name: 'Default project' } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('conflictError');
    expect(again.body.error.field).toBe('name');
    const other = (await t.call('POST', '/v1/projects', { body: { name: 'Other' } })).body.project;
    const renamed = await t.call('PATCH', `/v1/projects/${other.id}`, { body: { name: 'Default project' } });
    expect(renamed.status).toBe(409);
    expect(renamed.body.error.field).toBe('name');
  });

  it('keys are scoped to their project: its scopes and prefix', async () => {
    const project = (await t.call('POST', '/v1/projects', { body: { name: 'P', scopes: ['read'], prefix: 'pp' } })).body.project;
    const key = (await t.call('POST', `/v1/projects/${project.id}/keys`, { body: { scopes: ['read'] } })).body.apiKey;
    expect(key.key).toMatch(/^pp_live_/);
    expect((await t.call('POST', `/v1/projects/${project.id}/keys`, { body: { scopes: ['inference'] } })).status).toBe(400);
    expect((await verify(t, { key: key.key, scopes: ['read'] })).code).toBe('VALID');
  });

  it('deleting a project with keys needs force, which revokes them', async () => {
    const project = (await t.call('POST', '/v1/projects', { body: { name: 'Temp' } })).body.project;
    const key = (await t.call('POST', `/v1/projects/${project.id}/keys`, { body: {} })).body.apiKey;
    const refused = await t.call('DELETE', `/v1/projects/${project.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/1 keys/);
    expect((await verify(t, { key: key.key })).code).toBe('VALID');
    expect((await t.call('DELETE', `/v1/projects/${project.id}`, { query: { force: true } })).status).toBe(204);
    expect((await verify(t, { key: key.key })).code).toBe('NOT_FOUND');
    expect((await t.call('GET', `/v1/projects/${project.id}`)).status).toBe(404);
  });

  it('refuses to delete the project holding the caller’s own credential', async () => {
    const refused = await t.call('DELETE', `/v1/projects/${t.projectId}`, { query: { force: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/key you are calling with/);
  });

  it('a smaller key limit applies to new keys only', async () => {
    await createKey(t);
    await createKey(t);
    await t.call('PATCH', `/v1/projects/${t.projectId}`, { body: { maxKeysPerAccount: 2 } });
    const refused = await t.call('POST', `/v1/projects/${t.projectId}/keys`, { body: {} });
    expect(refused.body.type).toBe('keyLimitReachedError');
    expect((await t.call('GET', `/v1/projects/${t.projectId}/keys`)).body.total).toBe(3);
  });
});
