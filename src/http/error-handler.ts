// Renders every error as the one envelope. Fastify's own errors (bad JSON, oversized bodies,
// wrong media types, schema failures) are mapped to our types; anything unexpected becomes a
// bare 500 with no detail, and is logged without request bodies or credentials.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound, validationError } from '../errors.js';
import { validationErrorFrom } from './validation.js';

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    return validationErrorFrom(fastifyError.validation as never, fastifyError.validationContext ?? 'body');
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payloadTooLargeError', 413, 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupportedMediaTypeError', 415, 'Content-Type must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return validationError('body', 'Request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return validationError('body', 'Content-Length does not match the body');
    case 'FST_ERR_BAD_URL':
      return validationError('url', 'The URL is malformed (bad percent-encoding?)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('validationError', 414, 'A path parameter is too long', 'url');
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 404) return notFound('Resource');
  if (status === 413) return new AppError('payloadTooLargeError', 413, 'Request body is too large');
  if (status === 415) return new AppError('unsupportedMediaTypeError', 415, 'Content-Type must be application/json');
  if (error instanceof SyntaxError) return validationError('body', 'Request body is not valid JSON');
  if (status === 400) {
    // Fastify's own 400s (e.g. prototype poisoning) carry safe, specific messages.
    return validationError('body', `Invalid request: ${fastifyError.message}`);
  }
  if (status > 400 && status < 500) return new AppError('validationError', status, 'Invalid request');
  return new AppError('internalError', 500, 'Internal server error');
}

export function envelope(error: AppError) {
  return {
    status: 'error' as const,
    type: error.type,
    error: error.field === undefined ? { message: error.message } : { message: error.message, field: error.field },
  };
}

/** Replies with the envelope of any error (also used for Fastify's frameworkErrors). */
export function sendError(error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
  if (appError.headers !== undefined) void reply.headers(appError.headers);
  return reply.code(appError.status).send(envelope(appError));
}

/** `pages` may answer unmatched requests first (the dashboard's client-side routes). */
export function registerErrorHandling(app: FastifyInstance, pages?: () => { fallback(request: FastifyRequest, reply: FastifyReply): boolean } | null): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    if (pages?.()?.fallback(request, reply) === true) return reply;
    const error = notFound(`Route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).send(envelope(error));
  });
}
