// Permission points, the built-in roles, and scope math. A key's power is its scopes intersected
// with what its project defines and what its account's role may do today ("permissions follow the
// account"): demoting an account changes what its keys can do at once.
export const PERMISSIONS = [
  'keys:manage',
  'keys:manage_all',
  'keys:read',
  'logs:read',
  'push:manage',
  'members:manage',
  'projects:manage',
  'audit:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The built-in scope every project has: it lets a key call the admin API. */
export const ADMIN_SCOPE = 'admin';
export const SCOPE_PATTERN = '^[a-z][a-z0-9_:.-]{0,63}$';
export const MAX_SCOPES = 50;
export const DEFAULT_PROJECT_SCOPES = ['project', 'inference', 'data_extraction'];

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS,
  developer: ['keys:manage', 'keys:read', 'logs:read', 'push:manage'],
  viewer: ['keys:read', 'logs:read'],
};

/** Roles whose keys may use the project's own (data-plane) scopes. A viewer is read-only: its
 * keys keep only the `admin` scope, bounded by the viewer's read permissions. */
const ROLE_USES_PROJECT_SCOPES: Record<Role, boolean> = {
  owner: true,
  admin: true,
  developer: true,
  viewer: false,
};

export function permissionsOf(role: Role): ReadonlySet<Permission> {
  return new Set(ROLE_PERMISSIONS[role]);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The scopes a key can exercise now: its own ∩ (project's ∪ admin) ∩ what its account's role allows. */
export function effectiveScopes(keyScopes: readonly string[], projectScopes: readonly string[], role: Role): Set<string> {
  const projectSet = new Set(projectScopes);
  const usesProjectScopes = ROLE_USES_PROJECT_SCOPES[role];
  const result = new Set<string>();
  for (const scope of keyScopes) {
    if (scope === ADMIN_SCOPE) result.add(scope);
    else if (usesProjectScopes && projectSet.has(scope)) result.add(scope);
  }
  return result;
}

/** Scopes in `requested` that `granted` lacks, in request order (empty = all granted). */
export function missingScopes(requested: readonly string[], granted: ReadonlySet<string>): string[] {
  return requested.filter((scope) => !granted.has(scope));
}

/** Scopes a key of this project may be given: the project's own plus `admin`. */
export function assignableScopes(projectScopes: readonly string[]): Set<string> {
  return new Set([...projectScopes, ADMIN_SCOPE]);
}

/** Removes duplicates, keeps first-seen order. */
export function uniqueScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}
