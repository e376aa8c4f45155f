import { describe, expect, it } from 'vitest';
import { nextRefillAt, refillPeriodStart } from './quota.js';

describe('refill periods (UTC)', () => {
  const at = Date.UTC(2024, 1, 29, 23, 59, 59); // leap day
  it('daily', () => {
    expect(refillPeriodStart('daily', at)).toBe(Date.UTC(2024, 1, 29));
    expect(nextRefillAt('daily', at)).toBe(Date.UTC(2024, 2, 1));
  });
  it('monthly, across a year end', () => {
    expect(refillPeriodStart('monthly', at)).toBe(Date.UTC(2024, 1, 1));
    expect(nextRefillAt('monthly', Date.UTC(2024, 11, 31, 12))).toBe(Date.UTC(2025, 0, 1));
  });
});
