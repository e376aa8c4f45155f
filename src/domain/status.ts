// A key's displayed status. Disabled wins over expired, matching verify's order of checks
// (DISABLED is reported before EXPIRED).
export const KEY_STATUSES = ['active', 'disabled', 'expired'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export function keyStatus(enabled: boolean, expiresAt: number | null, now: number): KeyStatus {
  if (!enabled) return 'disabled';
  if (expiresAt !== null && expiresAt <= now) return 'expired';
  return 'active';
}
