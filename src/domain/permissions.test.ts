import { describe, expect, it } from 'vitest';
import { effectiveScopes, missingScopes, permissionsOf } from './permissions.js';

describe('roles', () => {
  it('maps the built-in roles to permission points', () => {
    expect([...permissionsOf('developer')].sort()).toEqual(['keys:manage', 'keys:read', 'logs:read', 'push:manage']);
    expect([...permissionsOf('viewer')].sort()).toEqual(['keys:read', 'logs:read']);
    expect(permissionsOf('admin').has('keys:manage_all')).toBe(true);
    expect(permissionsOf('owner').has('members:manage')).toBe(true);
    expect(permissionsOf('developer').has('keys:manage_all')).toBe(false);
  });
});

describe('effectiveScopes', () => {
  const project = ['project', 'inference'];
  it.each([
    [['project', 'inference', 'admin'], 'developer', ['project', 'inference', 'admin']],
    [['project', 'gone'], 'owner', ['project']], // scope removed from the project
    [['project', 'admin'], 'viewer', ['admin']], // viewers' keys are read-only
    [[], 'owner', []],
  ] as const)('%j as %s → %j', (keyScopes, role, expected) => {
    expect([...effectiveScopes(keyScopes, project, role)]).toEqual(expected);
  });

  it('lists what is missing', () => {
    expect(missingScopes(['a', 'b', 'c'], new Set(['b']))).toEqual(['a', 'c']);
  });
});
