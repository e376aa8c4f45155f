// How values are written on screen: times as year-month-day hour:minute:second in the viewer's
// time zone (the ISO value stays in a tooltip), masked keys, counts and durations.

const pad = (value: number) => String(value).padStart(2, '0');

/** `2024-08-01 10:00:00` in local time; '' for a missing value. */
export function formatDateTime(iso: string | null | undefined): string {
  if (iso == null) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** The value of an `<input type="datetime-local">` for an ISO time (local time, minutes). */
export function toDateTimeLocal(iso: string | null): string {
  if (iso === null) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO 8601 UTC for a `datetime-local` value, or null when it is not a date. */
export function fromDateTimeLocal(value: string): string | null {
  if (value === '') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** What the list shows of a key: its first characters and an ellipsis (`kw_live_3fA9…`). */
export function maskedKey(start: string): string {
  return `${start}…`;
}

const numberFormat = new Intl.NumberFormat('en');
export const formatNumber = (value: number) => numberFormat.format(value);

/** 60000 → "1 min", 3600000 → "1 h", 1500 → "1.5 s". */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) {
    if (ms >= size && ms % size === 0) {
      const count = ms / size;
      return `${count} ${unit}${unit === 'day' && count !== 1 ? 's' : ''}`;
    }
  }
  return `${numberFormat.format(ms / 1000)} s`;
}

/** Seconds as words for the rotate dialog: 0 → "immediately", 3600 → "1 h". */
export function formatSeconds(seconds: number): string {
  return seconds === 0 ? 'immediately' : formatDuration(seconds * 1000);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}
