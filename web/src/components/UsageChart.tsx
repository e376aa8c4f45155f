// Verifications of one key over time, stacked by outcome, drawn as plain SVG. Hours or days
// without traffic are absent from the API's answer; the chart fills them with zero bars.
import { useCallback, useId, useMemo, useState } from 'react';
import * as api from '../api/endpoints';
import { VERIFY_CODES, type Granularity, type UsageBucket } from '../api/types';
import { formatNumber } from '../format';
import { useLoader } from '../hooks';
import { ErrorState } from './States';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WINDOW: Record<Granularity, { step: number; buckets: number; label: string }> = {
  hour: { step: HOUR, buckets: 24, label: 'last 24 hours' },
  day: { step: DAY, buckets: 30, label: 'last 30 days' },
};

export const OUTCOME_LABELS: Record<string, string> = {
  VALID: 'Valid',
  MALFORMED: 'Malformed',
  NOT_FOUND: 'Not found',
  DISABLED: 'Disabled',
  EXPIRED: 'Expired',
  FORBIDDEN_HOST: 'Forbidden host',
  INSUFFICIENT_SCOPE: 'Insufficient scope',
  WRONG_ENVIRONMENT: 'Wrong environment',
  RATE_LIMITED: 'Rate limited',
  USAGE_EXCEEDED: 'Usage exceeded',
};

export const outcomeLabel = (outcome: string) => OUTCOME_LABELS[outcome] ?? outcome;

/** The buckets of the window ending with the current (UTC) hour or day, oldest first. */
function windowOf(granularity: Granularity, now: number): { from: number; to: number; starts: number[] } {
  const { step, buckets } = WINDOW[granularity];
  const to = now - (now % step) + step;
  const from = to - buckets * step;
  const starts = Array.from({ length: buckets }, (_, index) => from + index * step);
  return { from, to, starts };
}

/** A round axis maximum at or above `value`: 1, 2, 5, 10, 20, 50, … */
function niceMax(value: number): number {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    const candidate = factor * power;
    if (candidate >= value && Number.isInteger(candidate / 4)) return candidate;
  }
  return 10 * power;
}

const pad = (value: number) => String(value).padStart(2, '0');

// Hours are shown in local time; days are UTC days (that is how the server counts them).
function bucketLabel(time: number, granularity: Granularity): string {
  const date = new Date(time);
  return granularity === 'hour' ? `${pad(date.getHours())}:00` : `${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function bucketTitle(time: number, granularity: Granularity): string {
  const date = new Date(time);
  if (granularity === 'day') return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} (UTC)`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:00`;
}

interface Series {
  time: number;
  total: number;
  outcomes: Record<string, number>;
}

function fill(starts: number[], usage: UsageBucket[]): Series[] {
  const byTime = new Map<number, UsageBucket>();
  for (const bucket of usage) byTime.set(Date.parse(bucket.time), bucket);
  return starts.map((time) => {
    const bucket = byTime.get(time);
    return { time, total: bucket?.total ?? 0, outcomes: bucket?.outcomes ?? {} };
  });
}

/** The rendered width of an element, so the chart is drawn at its real size (text stays legible on phones). */
function useWidth(fallback: number) {
  const [width, setWidth] = useState(fallback);
  // A callback ref (with React 19's cleanup return), so a frame mounted later is measured too.
  const ref = useCallback((element: HTMLElement | null) => {
    if (element === null || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      const measured = entries[0]?.contentRect.width;
      if (measured !== undefined && measured > 0) setWidth(Math.round(measured));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

export function UsageChart({ keyId }: { keyId: string }) {
  const [frameRef, frameWidth] = useWidth(720);
  const [granularity, setGranularity] = useState<Granularity>('hour');
  const [now, setNow] = useState(() => Date.now());
  const range = useMemo(() => windowOf(granularity, now), [granularity, now]);
  const usage = useLoader(
    () => api.keys.usage(keyId, granularity, new Date(range.from).toISOString(), new Date(range.to).toISOString()),
    [keyId, granularity, range.from, range.to],
  );
  const titleId = useId();
  const descId = useId();

  const series = useMemo(() => fill(range.starts, usage.data ?? []), [range.starts, usage.data]);
  const present: string[] = VERIFY_CODES.filter((code) => series.some((bucket) => (bucket.outcomes[code] ?? 0) > 0));
  // Outcomes the server knows and this build does not still get drawn, after the known ones.
  for (const bucket of series) for (const code of Object.keys(bucket.outcomes)) if (!present.includes(code) && (bucket.outcomes[code] ?? 0) > 0) present.push(code);
  const total = series.reduce((sum, bucket) => sum + bucket.total, 0);
  const totalsByOutcome = present.map((code) => [code, series.reduce((sum, bucket) => sum + (bucket.outcomes[code] ?? 0), 0)] as const);

  const width = Math.max(280, frameWidth);
  const height = width < 500 ? 200 : 240;
  const margin = { top: 12, right: 12, bottom: 30, left: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maxTotal = Math.max(0, ...series.map((bucket) => bucket.total));
  const yMax = niceMax(maxTotal);
  const slot = plotWidth / series.length;
  const barWidth = Math.max(2, slot * 0.7);
  // As many x labels as fit, about one per 56 px, on a step that divides the window evenly.
  const fitting = Math.max(1, Math.floor(plotWidth / 56));
  const labelEvery = [1, 2, 3, 4, 6, 8, 12, 5, 10, 15].find((step) => series.length / step <= fitting) ?? Math.ceil(series.length / fitting);
  const ticks = [0, 1, 2, 3, 4].map((index) => (yMax * index) / 4);
  const y = (value: number) => margin.top + plotHeight - (value / yMax) * plotHeight;

  const title = `Verifications per ${granularity}, ${WINDOW[granularity].label}`;
  const description =
    total === 0
      ? 'No verifications in this period.'
      : `${formatNumber(total)} verifications: ${totalsByOutcome.map(([code, count]) => `${formatNumber(count)} ${outcomeLabel(code).toLowerCase()}`).join(', ')}.`;

  return (
    <div className="chart" data-testid="usage-chart">
      <div className="chart-toolbar">
        <p className="chart-summary" data-testid="usage-total">
          <strong>{formatNumber(total)}</strong> verifications, {WINDOW[granularity].label}
        </p>
        <div className="segmented segmented-buttons" role="group" aria-label="Chart granularity">
          {(['hour', 'day'] as const).map((value) => (
            <button
              key={value}
              type="button"
              className="segmented-button"
              aria-pressed={granularity === value}
              onClick={() => {
                setGranularity(value);
                setNow(Date.now());
              }}
              data-testid={`usage-${value}`}
            >
              Per {value}
            </button>
          ))}
          <button type="button" className="segmented-button" onClick={() => setNow(Date.now())} aria-label="Refresh chart" data-testid="usage-refresh">
            ↻
          </button>
        </div>
      </div>
      {usage.error !== null ? (
        <ErrorState message={usage.error} onRetry={usage.reload} />
      ) : (
        <div className="chart-frame" aria-busy={usage.loading} ref={frameRef}>
          <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${titleId} ${descId}`} className="chart-svg" data-testid="usage-chart-svg">
            <title id={titleId}>{title}</title>
            <desc id={descId}>{description}</desc>
            <g className="chart-grid">
              {ticks.map((tick) => (
                <g key={tick}>
                  <line x1={margin.left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} />
                  <text x={margin.left - 8} y={y(tick)} dy="0.32em" textAnchor="end" className="chart-axis-label">
                    {formatNumber(tick)}
                  </text>
                </g>
              ))}
            </g>
            <g className="chart-bars">
              {series.map((bucket, index) => {
                const x = margin.left + index * slot + (slot - barWidth) / 2;
                let base = 0;
                const parts = present
                  .map((code) => {
                    const count = bucket.outcomes[code] ?? 0;
                    if (count === 0) return null;
                    const top = base + count;
                    const rect = <rect key={code} x={x} width={barWidth} y={y(top)} height={Math.max(0, y(base) - y(top))} className={`chart-fill-${code}`} />;
                    base = top;
                    return rect;
                  })
                  .filter((part) => part !== null);
                return (
                  <g key={bucket.time} data-testid="usage-bar" data-total={bucket.total}>
                    <title>
                      {`${bucketTitle(bucket.time, granularity)}: ${formatNumber(bucket.total)} total${present
                        .filter((code) => (bucket.outcomes[code] ?? 0) > 0)
                        .map((code) => `, ${outcomeLabel(code)} ${formatNumber(bucket.outcomes[code] ?? 0)}`)
                        .join('')}`}
                    </title>
                    {/* A transparent full-height target, so thin bars still show their tooltip. */}
                    <rect x={margin.left + index * slot} width={slot} y={margin.top} height={plotHeight} className="chart-hit" />
                    {parts}
                  </g>
                );
              })}
            </g>
            <g className="chart-x-axis">
              <line x1={margin.left} x2={width - margin.right} y1={margin.top + plotHeight} y2={margin.top + plotHeight} className="chart-axis-line" />
              {series.map((bucket, index) =>
                (series.length - 1 - index) % labelEvery === 0 ? (
                  <text key={bucket.time} x={margin.left + index * slot + slot / 2} y={height - 10} textAnchor="middle" className="chart-axis-label">
                    {bucketLabel(bucket.time, granularity)}
                  </text>
                ) : null,
              )}
            </g>
            {total === 0 && !usage.loading && (
              <text x={margin.left + plotWidth / 2} y={margin.top + plotHeight / 2} textAnchor="middle" className="chart-empty">
                No verifications in this period
              </text>
            )}
          </svg>
        </div>
      )}
      <ul className="chart-legend" aria-label="Outcomes" data-testid="usage-legend">
        {(present.length > 0 ? totalsByOutcome : [['VALID', 0] as const]).map(([code, count]) => (
          <li key={code}>
            <svg aria-hidden="true" width="12" height="12" viewBox="0 0 12 12">
              <rect width="12" height="12" rx="3" className={`chart-fill-${code}`} />
            </svg>
            {outcomeLabel(code)} <span className="muted">{formatNumber(count)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
