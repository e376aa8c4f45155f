// KeywardError: the one error the SDK throws for a failed call, whether the server refused it
// (its error envelope) or no usable answer came back (network, timeout, not Keyward).

/** The `type` values Keyward's error envelope carries today. */
export const SERVER_ERROR_TYPES = [
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
  /** 503: the node is shutting down or its database is unreachable; retry (Retry-After). */
  'serviceUnavailableError',
] as const;

/** Types the SDK sets itself when there is no envelope to read; `status` tells which. */
export const CLIENT_ERROR_TYPES = [
  /** The request never got an answer: refused connection, reset, DNS failure (status 0). */
  'networkError',
  /** No complete answer within `timeoutMs` (status 0). */
  'timeoutError',
  /** A non-2xx answer without Keyward's envelope, e.g. from a proxy in front of it (status = HTTP status). */
  'httpError',
  /** A 2xx answer whose body is not the JSON the call expects (status = HTTP status). */
  'invalidResponseError',
] as const;

export type ServerErrorType = (typeof SERVER_ERROR_TYPES)[number];
export type ClientErrorType = (typeof CLIENT_ERROR_TYPES)[number];
/** A newer server may send types this SDK does not know yet: they come through as they are. */
export type KeywardErrorType = ServerErrorType | ClientErrorType | (string & {});

export interface KeywardErrorInit {
  type: KeywardErrorType;
  /** HTTP status; 0 when no answer came (networkError, timeoutError). */
  status: number;
  message: string;
  /** The request field at fault (validation errors, taken names). */
  field?: string | undefined;
  /** From the answer's Retry-After header, in seconds. */
  retryAfterSeconds?: number | undefined;
}

export class KeywardError extends Error {
  override readonly name = 'KeywardError';
  readonly type: KeywardErrorType;
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: KeywardErrorInit, options?: ErrorOptions) {
    super(init.message, options);
    this.type = init.type;
    this.status = init.status;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}
