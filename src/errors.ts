// The one error type services throw. The HTTP layer renders it as
// {"status":"error","type":…,"error":{"message":…}}; nothing else builds error JSON.
export const ERROR_TYPES = [
  'validationError',
  'unauthorizedApiKeyError',
  'invalidCredentialsError',
  'tooManyLoginAttemptsError',
  'csrfError',
  'notFoundError',
  'keyLimitReachedError',
  'duplicateNameError',
  'conflictError',
  'payloadTooLargeError',
  'unsupportedMediaTypeError',
  'rateLimitedError',
  'usageExceededError',
  'internalError',
  'serviceUnavailableError',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export class AppError extends Error {
  constructor(
    readonly type: ErrorType,
    readonly status: number,
    message: string,
    /** The request field at fault, for validation errors (`name`, `scopes[1]`, `rateLimit.limit`). */
    readonly field?: string,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Whole seconds (at least 1) from `now` until `at` (epoch ms): a Retry-After value. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}

export function validationError(field: string, message: string): AppError {
  return new AppError('validationError', 400, message, field);
}

export function notFound(what: string): AppError {
  return new AppError('notFoundError', 404, `${what} not found`);
}

/** 403: a valid credential without the privilege (SmartExtract's wording). */
export function forbidden(message = 'The API Key used does not have privilege to perform the intended action'): AppError {
  return new AppError('unauthorizedApiKeyError', 403, message);
}

/** 409; `field` names the request field at fault when there is one (a taken e-mail or name). */
export function conflict(message: string, field?: string): AppError {
  return new AppError('conflictError', 409, message, field);
}
