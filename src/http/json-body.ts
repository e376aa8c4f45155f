// Request bodies are JSON parsed strictly, in one pass after JSON.parse: a member name may appear
// only once per object (parsers disagree on which duplicate wins, and that disagreement between a
// gateway and us is an attack surface), and `__proto__` / `constructor` are refused as member
// names (prototype poisoning), as secure-json-parse would, without its extra regex scans.

/** JSON's whitespace: space, tab, line feed, carriage return. */
const isWhitespace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/** Member names refused (prototype poisoning). */
const isForbidden = (name: string) => name === '__proto__' || name === 'constructor';

export type MemberProblem = { kind: 'duplicate' | 'forbidden'; name: string };

/** The first repeated or forbidden member name in `text` (valid JSON), or null. */
export function findBadMember(text: string): MemberProblem | null {
  const objects: (Set<string> | null)[] = []; // null marks an array level
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) objects.push(new Set());
    else if (c === 0x5b) objects.push(null);
    else if (c === 0x7d || c === 0x5d) objects.pop();
    else if (c === 0x22) {
      const start = i;
      let escaped = false;
      i++;
      while (i < length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) break;
        else i++;
      }
      const end = i; // the closing quote
      const members = objects[objects.length - 1];
      if (members != null) {
        let j = end + 1;
        while (j < length && isWhitespace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) === 0x3a) {
          // Compare decoded names: "a" and "\u0061" are the same member.
          const name = escaped ? (JSON.parse(text.slice(start, end + 1)) as string) : text.slice(start + 1, end);
          if (isForbidden(name)) return { kind: 'forbidden', name };
          if (members.has(name)) return { kind: 'duplicate', name };
          members.add(name);
        }
      }
    }
    i++;
  }
  return null;
}

/** Parses a request body: the value, or a client error message (and the field, when there is one). */
export function parseJsonBody(text: string): { value: unknown } | { error: string; field: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'Request body is not valid JSON', field: 'body' };
  }
  // Only objects and arrays have members; a scan of a bare string or number finds nothing.
  if (typeof value === 'object' && value !== null && mayHaveBadMember(text, value)) {
    const problem = findBadMember(text);
    if (problem !== null) {
      return problem.kind === 'duplicate'
        ? { error: `field '${problem.name}' appears more than once`, field: problem.name }
        : { error: `field name '${problem.name}' is not allowed`, field: problem.name };
    }
  }
  return { value };
}

/**
 * False when `value`, which JSON.parse made of `text`, certainly has no repeated or forbidden
 * member: then findBadMember's scan (as costly as JSON.parse itself on a verify body) is skipped.
 * JSON.parse keeps one member per name, as an own property (`__proto__` too), so the members it
 * kept are as many as the names in the text exactly when no object repeats one. The names are
 * counted in one pass over a text without backslashes (where every quote opens or closes a string,
 * in turn, and a closing quote followed by a colon ends a name); any other text is scanned in full.
 */
export function mayHaveBadMember(text: string, value: object): boolean {
  // One pass over the characters (a verify body is short: a call per quote costs more).
  let names = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) return true;
    if (c !== 0x22) continue;
    // An opening quote: find the closing one (no backslashes, so the next quote), then look past
    // any whitespace for a colon.
    i++;
    while (i < length && text.charCodeAt(i) !== 0x22) {
      if (text.charCodeAt(i) === 0x5c) return true;
      i++;
    }
    let next = i + 1;
    while (isWhitespace(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) === 0x3a) names++;
    i = next - 1;
  }
  const members = countMembers(value);
  return members === -1 || members !== names;
}

/** The members of every object in a parsed value, or -1 if one has a forbidden name.
 * Iterative: a deeply nested body must not overflow the stack. */
function countMembers(value: object): number {
  let members = 0;
  let nested: object[] | undefined;
  for (let item: object | undefined = value; item !== undefined; item = nested?.pop()) {
    if (Array.isArray(item)) {
      for (const element of item as unknown[]) if (typeof element === 'object' && element !== null) (nested ??= []).push(element);
      continue;
    }
    for (const name in item) {
      if (isForbidden(name)) return -1;
      members++;
      const member = (item as Record<string, unknown>)[name];
      if (typeof member === 'object' && member !== null) (nested ??= []).push(member);
    }
  }
  return members;
}
