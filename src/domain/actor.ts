// Who is calling the admin API: an account of one workspace, with its role's permission points,
// through a key (credentialKeyId), the operator's root key, or a dashboard session.
import { forbidden } from '../errors.js';
import type { Permission, Role } from './permissions.js';

export type CredentialType = 'key' | 'root' | 'session';

export interface Actor {
  workspaceId: string;
  accountId: string;
  role: Role;
  permissions: ReadonlySet<Permission>;
  /** How the caller authenticated: an admin key, the operator's root key, or a dashboard session. */
  credentialType: CredentialType;
  /** The key that authenticated this call; null for the root key and sessions. */
  credentialKeyId: string | null;
  /** Where the call came from (for the audit log); null outside HTTP. */
  ip: string | null;
}

export function can(actor: Actor, permission: Permission): boolean {
  return actor.permissions.has(permission);
}

/** Throws 403 unless the actor holds at least one of the permissions. */
export function requireAny(actor: Actor, ...permissions: Permission[]): void {
  if (!permissions.some((permission) => actor.permissions.has(permission))) {
    throw forbidden(`This action needs the ${permissions.join(' or ')} permission`);
  }
}
