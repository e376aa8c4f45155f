// The KeywardError a call rejects with (and a failed expectation when it resolves or throws
// something else).
import { expect } from 'vitest';
import { KeywardError } from '../src/index.js';

export async function failure(promise: Promise<unknown>): Promise<KeywardError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(KeywardError);
  return error as KeywardError;
}
