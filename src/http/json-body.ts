// Request bodies are JSON parsed strictly, in one pass after JSON.parse: a member name may appear
// only once per object (parsers disagree on which duplicate wins, and that disagreement between a
// gateway and us is an attack surface), and `__proto__` / `constructor` are refused as member
// names (prototype poisoning), as secure-json-parse would, without its extra regex scans.

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

const FORBIDDEN = new Set(['__proto__', 'constructor']);

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
        while (j < length && WHITESPACE.has(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) === 0x3a) {
          // Compare decoded names: "a" and "\u0061" are the same member.
          const name = escaped ? (JSON.parse(text.slice(start, end + 1)) as string) : text.slice(start + 1, end);
          if (FORBIDDEN.has(name)) return { kind: 'forbidden', name };
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
  if (typeof value === 'object' && value !== null) {
    const problem = findBadMember(text);
    if (problem !== null) {
      return problem.kind === 'duplicate'
        ? { error: `field '${problem.name}' appears more than once`, field: problem.name }
        : { error: `field name '${problem.name}' is not allowed`, field: problem.name };
    }
  }
  return { value };
}
