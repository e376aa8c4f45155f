// Fixed-window rate limiting in process memory: exact for one node (the embedded deployment).
// Windows are aligned to multiples of windowMs, so `resetAt` is the same for every caller.
import type { RateLimitResult } from './counters.js';

interface Window {
  start: number;
  windowMs: number;
  count: number;
}

export class MemoryRateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepIntervalMs = 60_000, clock: () => number = Date.now) {
    // Drop finished windows so memory follows the keys in use, not every key ever limited.
    this.sweeper = setInterval(() => this.sweep(clock()), sweepIntervalMs);
    this.sweeper.unref();
  }

  hit(keyId: string, limit: number, windowMs: number, now: number): RateLimitResult {
    const start = now - (now % windowMs);
    let window = this.windows.get(keyId);
    if (window === undefined || window.start !== start || window.windowMs !== windowMs) {
      window = { start, windowMs, count: 0 };
      this.windows.set(keyId, window);
    }
    const resetAt = start + windowMs;
    if (window.count >= limit) return { allowed: false, limit, remaining: 0, resetAt };
    window.count++;
    return { allowed: true, limit, remaining: limit - window.count, resetAt };
  }

  reset(keyId: string): void {
    this.windows.delete(keyId);
  }

  sweep(now: number): void {
    for (const [keyId, window] of this.windows) {
      if (window.start + window.windowMs <= now) this.windows.delete(keyId);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.windows.clear();
  }
}
