// Key name rules (SensorsData): required, at most 200 characters, unique per (project, account);
// when omitted the name is generated as "API Key name yyyyMMddHHmmss" in UTC.
import { validationError } from '../errors.js';

export const MAX_NAME_LENGTH = 200;
/** No control characters anywhere in a name (they break tables, logs and terminals). */
export const NAME_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F]*$';
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

export type NameProblem = 'required' | 'tooLong' | 'controlCharacters';

/** Trims, then returns the name or the reason it is refused. */
export function normalizeName(raw: string): { name: string } | { problem: NameProblem } {
  const name = raw.trim();
  if (name.length === 0) return { problem: 'required' };
  if (name.length > MAX_NAME_LENGTH) return { problem: 'tooLong' };
  if (CONTROL.test(name)) return { problem: 'controlCharacters' };
  return { name };
}

export const NAME_PROBLEM_MESSAGES: Record<NameProblem, string> = {
  required: 'name is required and may not be blank',
  tooLong: `name must be at most ${MAX_NAME_LENGTH} characters`,
  controlCharacters: 'name may not contain control characters',
};

/** The normalised name, or a validation error on `name` (for keys, projects and accounts alike). */
export function checkedName(raw: string): string {
  const result = normalizeName(raw);
  if ('problem' in result) throw validationError('name', NAME_PROBLEM_MESSAGES[result.problem]);
  return result.name;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** "API Key name 20220715165727" for the given instant, in UTC. */
export function autoKeyName(now: number): string {
  const d = new Date(now);
  return (
    'API Key name ' +
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds())
  );
}

/** The first of `base`, `base (2)`, `base (3)`, … that is not taken. */
export function firstFreeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (!taken.has(candidate)) return candidate;
  }
}
