import { describe, expect, it } from 'vitest';
import { paired, type Loader, type Measurement, type Span } from './load.js';

/** A loader that records each call's label and span in `log` and answers `rate(n)` req/s, n being the nth call overall. */
function recorder(log: { label: string; span: Span }[], rate: (n: number) => number) {
  return (label: string): Loader =>
    (span) => {
      log.push({ label, span });
      const requestsPerSecond = rate(log.length - 1);
      return Promise.resolve<Measurement>({ requestsPerSecond, p50Ms: 1, p99Ms: 2, non2xx: 0, errors: 0, requests: 100 });
    };
}

describe('paired', () => {
  it('puts every target load between two baseline loads, the baselines taking turns and the cycles going back and forth', async () => {
    const log: { label: string; span: Span }[] = [];
    const load = recorder(log, () => 1000);
    const span = { seconds: 0.25 };
    const targets = [{ load: load('x'), perCycle: 2 }, { load: load('y'), perCycle: 1 }, { load: load('z'), perCycle: 1 }];
    await paired([load('B0'), load('B1')], targets, span, 2, 1);
    const labels = log.map((entry) => entry.label);
    // Warm-up: every server once for a second.
    expect(labels.slice(0, 5)).toEqual(['B0', 'B1', 'x', 'y', 'z']);
    expect(log.slice(0, 5).every((entry) => 'seconds' in entry.span && entry.span.seconds === 1)).toBe(true);
    // A cycle is x y z x (a pass over all, then over those wanting a second load); the next one
    // goes backwards: x z y x.
    expect(labels.slice(5)).toEqual(['B0', 'x', 'B1', 'y', 'B0', 'z', 'B1', 'x', 'B0', 'x', 'B1', 'z', 'B0', 'y', 'B1', 'x', 'B0']);
    expect(log.slice(5).every((entry) => entry.span === span)).toBe(true);
  });

  it("sets each target's loads against the baseline loads beside them, not the baseline's mean", async () => {
    const log: { label: string; span: Span }[] = [];
    // The machine slows down steadily: every load runs 100 req/s slower than the one before.
    const load = recorder(log, (n) => 10_000 - 100 * n);
    const result = await paired([load('B')], [{ load: load('early'), perCycle: 1 }, { load: load('late'), perCycle: 1 }], { requests: 100 }, 1, 0);
    // B(0) early(1) B(2) late(3) B(4)
    expect(result.measured.map((m) => m.requestsPerSecond)).toEqual([9_900, 9_700]);
    expect(result.beside.map((m) => m.requestsPerSecond)).toEqual([9_900, 9_700]);
    expect(result.baseline.requestsPerSecond).toBe(9_800);
    expect(result.perBaseline.map((m) => m.requestsPerSecond)).toEqual([9_800]);
    expect(result.measured[0]!.requests).toBe(100);
    expect(result.beside[0]!.requests).toBe(200);
  });

  it('measures the baseline alone when there is no target (one store in the quick run)', async () => {
    const log: { label: string; span: Span }[] = [];
    const load = recorder(log, () => 500);
    const result = await paired([load('B0'), load('B1')], [], { requests: 100 }, 1, 0);
    expect(log.map((entry) => entry.label)).toEqual(['B0']);
    expect(result.measured).toEqual([]);
    expect(result.baseline.requestsPerSecond).toBe(500);
  });
});
