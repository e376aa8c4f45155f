// Usage quotas (AceData limited_amount / used_amount) with an optional refill: a `daily` or
// `monthly` quota starts again from zero at the beginning of each UTC day or month.
export const REFILL_INTERVALS = ['daily', 'monthly'] as const;
export type RefillInterval = (typeof REFILL_INTERVALS)[number];

/** Start (epoch ms, UTC) of the refill period containing `now`. */
export function refillPeriodStart(interval: RefillInterval, now: number): number {
  const d = new Date(now);
  return interval === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the period after the one containing `now`: when the quota next refills. */
export function nextRefillAt(interval: RefillInterval, now: number): number {
  const d = new Date(now);
  return interval === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
