// Recognises unique-constraint violations from either dialect, so services can turn a lost race
// into the same 409 they give when they see the conflict first.
export function isUniqueViolation(error: unknown, column: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, detail } = error as { code?: string; message?: string; detail?: string };
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return message?.includes(`.${column}`) ?? false;
  }
  if (code === '23505') return (detail ?? message ?? '').includes(column);
  return false;
}
