// Prometheus metrics: verifications by outcome and their latency, the key cache, both
// write-behind buffers (depth and drops), push queue depth and delivery failures, and HTTP
// requests by route and status. Gauges read their sources at scrape time.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricSources {
  cache: { hits: number; misses: number; size: number };
  usage: { depth: number; dropped: number };
  logs: { depth: number; dropped: number; written: number };
  push: { deliveredEvents: number; failedDeliveries: number; queueDepth(): Promise<number> };
}

/** A counter that mirrors a monotonically growing number owned elsewhere. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

const DURATION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05];

export class Metrics {
  readonly registry = new Registry();
  // The per-request side is plain arithmetic; prom-client objects are filled at scrape time.
  private readonly verifiedByCode = new Map<string, number>();
  private readonly durationCounts = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  private durationSum = 0;
  private readonly requestCounts = new Map<string, { method: string; route: string; status: string; count: number }>();

  constructor(sources: MetricSources) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'keyward_' });
    const verifiedByCode = this.verifiedByCode;
    const seenCodes = new Map<string, number>();
    new Counter({
      name: 'keyward_verifications_total',
      help: 'Verifications by outcome code',
      labelNames: ['code'],
      registers: [registry],
      collect() {
        for (const [code, count] of verifiedByCode) {
          this.inc({ code }, count - (seenCodes.get(code) ?? 0));
          seenCodes.set(code, count);
        }
      },
    });
    const requestCounts = this.requestCounts;
    const seenRequests = new Map<string, number>();
    new Counter({
      name: 'keyward_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
      collect() {
        for (const [key, { method, route, status, count }] of requestCounts) {
          this.inc({ method, route, status }, count - (seenRequests.get(key) ?? 0));
          seenRequests.set(key, count);
        }
      },
    });
    mirroredCounter(registry, 'keyward_key_cache_hits_total', 'Key cache hits', () => sources.cache.hits);
    mirroredCounter(registry, 'keyward_key_cache_misses_total', 'Key cache misses', () => sources.cache.misses);
    new Gauge({ name: 'keyward_key_cache_entries', help: 'Keys in the verify cache', registers: [registry], collect() { this.set(sources.cache.size); } });
    new Gauge({ name: 'keyward_usage_writer_depth', help: 'Keys waiting for their lastUsedAt/usage write', registers: [registry], collect() { this.set(sources.usage.depth); } });
    mirroredCounter(registry, 'keyward_usage_writer_dropped_total', 'Usage updates dropped because the buffer was full', () => sources.usage.dropped);
    new Gauge({ name: 'keyward_usage_log_buffer_depth', help: 'Usage-log entries waiting to be written', registers: [registry], collect() { this.set(sources.logs.depth); } });
    mirroredCounter(registry, 'keyward_usage_log_dropped_total', 'Usage-log entries dropped because the buffer was full', () => sources.logs.dropped);
    mirroredCounter(registry, 'keyward_usage_log_written_total', 'Usage-log entries written', () => sources.logs.written);
    new Gauge({
      name: 'keyward_push_queue_depth',
      help: 'Events not yet delivered to running push streams',
      registers: [registry],
      async collect() {
        this.set(await sources.push.queueDepth());
      },
    });
    mirroredCounter(registry, 'keyward_push_delivered_events_total', 'Events delivered to webhooks', () => sources.push.deliveredEvents);
    mirroredCounter(registry, 'keyward_push_delivery_failures_total', 'Webhook requests that failed (retried or given up)', () => sources.push.failedDeliveries);
  }

  /** The exposition text: the registry's metrics plus the verify-duration histogram. */
  async render(): Promise<string> {
    const name = 'keyward_verify_duration_seconds';
    const lines = [`# HELP ${name} Time to decide a verification (in process, without HTTP)`, `# TYPE ${name} histogram`];
    let cumulative = 0;
    DURATION_BUCKETS.forEach((bound, i) => {
      cumulative += this.durationCounts[i]!;
      lines.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += this.durationCounts[DURATION_BUCKETS.length]!;
    lines.push(`${name}_bucket{le="+Inf"} ${cumulative}`, `${name}_sum ${this.durationSum}`, `${name}_count ${cumulative}`);
    return `${await this.registry.metrics()}\n${lines.join('\n')}\n`;
  }

  verified(code: string, seconds: number): void {
    this.verifiedByCode.set(code, (this.verifiedByCode.get(code) ?? 0) + 1);
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket++;
    this.durationCounts[bucket]!++;
    this.durationSum += seconds;
  }

  request(method: string, route: string, status: number): void {
    this.requestEntry(method, route, status).count++;
  }

  /** request() for one method and route, without building a key per call (the verify fast path). */
  requestCounter(method: string, route: string): (status: number) => void {
    const byStatus = new Map<number, { count: number }>();
    return (status) => {
      let entry = byStatus.get(status);
      if (entry === undefined) byStatus.set(status, (entry = this.requestEntry(method, route, status)));
      entry.count++;
    };
  }

  private requestEntry(method: string, route: string, status: number): { count: number } {
    const key = `${method} ${route} ${status}`;
    let entry = this.requestCounts.get(key);
    if (entry === undefined) this.requestCounts.set(key, (entry = { method, route, status: String(status), count: 0 }));
    return entry;
  }
}
