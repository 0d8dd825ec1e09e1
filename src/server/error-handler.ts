// Turns every failure into an error with the catalogue's status, in the shape of the request's
// dialect (OpenAI's, or Anthropic's on the Messages routes): Fastify's own errors (bad JSON, body
// too large, wrong content type, schema violations) and the gateway's.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import { errorDialectOf } from './dialects/error-dialect.js';
import { responseRequestId } from './exchange-context.js';
import { budgetRemainingHeader } from './key-admission.js';
import { contextFor } from './request-context.js';
import { type ValidationIssue, validationError } from './validation-error.js';

export function toGatewayError(error: FastifyError | GatewayError | Error): GatewayError {
  if (error instanceof GatewayError) return error;
  const fastifyError = error as FastifyError & { validation?: ValidationIssue[] };
  if (Array.isArray(fastifyError.validation)) {
    return validationError(fastifyError.validation);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('body_too_large', 'The request body is larger than the configured body_limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('unsupported_media_type', 'Send the request body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_request', 'The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('invalid_request', error.message);
    default:
      break;
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new GatewayError('invalid_request', error.message, { status });
  }
  return new GatewayError(
    'internal_error',
    'Internal error in the gateway; see the process log for this request id.',
    {
      cause: error,
    },
  );
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  const ctx = contextFor(request);
  const requestId = responseRequestId(ctx);
  const dialect = errorDialectOf(request.url, request.headers);
  const { text, logged } = dialect.renderError(error, requestId);
  ctx.errorBody = logged;
  const headers: Record<string, string> = { ...error.headers, 'x-request-id': requestId };
  if (dialect.requestIdHeader !== undefined) headers[dialect.requestIdHeader] = requestId;
  const remaining = budgetRemainingHeader(ctx.budgetRemaining);
  if (remaining !== undefined) headers['x-ai-proxy-budget-remaining'] = remaining;
  return reply.code(error.status).headers(headers).type('application/json').send(text);
}

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const gatewayError = toGatewayError(error);
  if (gatewayError.code === 'internal_error')
    request.log.error({ err: error, reqId: request.id }, 'unhandled error');
  else request.log.debug({ code: gatewayError.code, reqId: request.id }, gatewayError.message);
  return sendError(request, reply, gatewayError);
}
