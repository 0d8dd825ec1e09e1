// Turns every failure into OpenAI's error shape with the catalogue's status: Fastify's own errors
// (bad JSON, body too large, wrong content type, schema violations) and the gateway's.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import { responseRequestId } from './request-context.js';

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/messages/0/role` → `messages[0].role`; a missing property is named in full. */
function paramOf(issue: ValidationIssue): string {
  const parts = issue.instancePath.split('/').filter((p) => p !== '');
  const missing = issue.keyword === 'required' ? issue.params.missingProperty : undefined;
  if (typeof missing === 'string') parts.push(missing);
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`),
    '',
  );
}

function describe(issue: ValidationIssue, param: string): string {
  if (issue.keyword === 'required') return `Missing required parameter: '${param}'.`;
  if (issue.keyword === 'additionalProperties') {
    return `Unrecognized parameter: '${String(issue.params.additionalProperty)}'.`;
  }
  // The only root-level type rule: the body must be an object ("The request body: must be object."
  // read like a schema dump).
  if (param === '' && issue.keyword === 'type') return 'The request body must be a JSON object.';
  const where = param === '' ? 'The request body' : `Invalid value for '${param}'`;
  return `${where}: ${issue.message ?? 'is not valid'}.`;
}

/** anyOf failures list every branch; the most specific issue is the deepest one. */
function pickIssue(issues: ValidationIssue[]): ValidationIssue | undefined {
  let best: ValidationIssue | undefined;
  for (const issue of issues) {
    if (issue.keyword === 'anyOf' || issue.keyword === 'if') continue;
    if (best === undefined || issue.instancePath.length > best.instancePath.length) best = issue;
  }
  return best ?? issues[0];
}

export function toGatewayError(error: FastifyError | GatewayError | Error): GatewayError {
  if (error instanceof GatewayError) return error;
  const fastifyError = error as FastifyError & { validation?: ValidationIssue[] };
  if (Array.isArray(fastifyError.validation)) {
    const issue = pickIssue(fastifyError.validation);
    const param = issue === undefined ? '' : paramOf(issue);
    return new GatewayError(
      'invalid_request',
      issue === undefined ? 'Invalid request body.' : describe(issue, param),
      {
        param: param === '' ? null : param,
      },
    );
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
  const body = error.toBody();
  request.errorBody = body.error;
  return reply
    .code(error.status)
    .headers({ ...error.headers, 'x-request-id': responseRequestId(request) })
    .type('application/json')
    .send(JSON.stringify(body));
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

declare module 'fastify' {
  interface FastifyRequest {
    errorBody: unknown;
  }
}
