// Builds the Fastify app: body parsing, client auth on /v1/*, routes, errors in OpenAI's shape, and
// the request log for every /v1 exchange.
import { randomBytes } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { GatewayError } from '../errors.js';
import { presentedKey } from './client-auth.js';
import { errorHandler, sendError, toGatewayError } from './error-handler.js';
import { logExchange } from './exchange-log.js';
import { registerChatRoute } from './routes/chat.js';
import { registerDocs } from './routes/docs.js';
import { registerHealthRoute } from './routes/health.js';
import { registerModelRoutes } from './routes/models.js';
import { registerStatusPage } from './routes/status-page.js';
import type { Runtime } from './runtime.js';
import './request-context.js';

// Request ids: a random per-process prefix and a counter. Unique across restarts and servers (the
// log store de-duplicates by id), and far cheaper than a UUID per request.
const ID_PREFIX = `req_${randomBytes(6).toString('hex')}`;
let idCounter = 0;

function requestId(): string {
  idCounter += 1;
  return ID_PREFIX + idCounter.toString(36).padStart(6, '0');
}

function isApiRoute(request: FastifyRequest): boolean {
  return request.url.startsWith('/v1/');
}

export async function buildApp(runtime: Runtime): Promise<FastifyInstance> {
  const config = runtime.state.config;
  const app = Fastify({
    loggerInstance: runtime.logger as FastifyBaseLogger,
    // The request log records every exchange; a process-log line per request would only cost time.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestId,
    // One logger for all: a pino child per request costs an allocation on every call, and the few
    // per-request lines we write carry the request id themselves.
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed %-escape in the URL, say) get the same
    // OpenAI shape as every other error instead of Fastify's own.
    frameworkErrors: (error, request, reply) => {
      sendError(request as FastifyRequest, reply as FastifyReply, toGatewayError(error));
    },
    ajv: {
      // Reject what is wrong instead of quietly fixing it: no coercion, no stripping, no defaults.
      customOptions: {
        allowUnionTypes: true,
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  });

  app.decorateRequest('rawBody', undefined);
  app.decorateRequest('unparsedBody', undefined);
  app.decorateRequest('clientKeyHash', null);
  app.decorateRequest('exchange', undefined);
  app.decorateRequest('logged', false);
  app.decorateRequest('errorBody', undefined);

  // Keep the body text: the log stores it as sent, and a pass-through can reuse it unchanged.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      request.unparsedBody = text;
      done(new GatewayError('invalid_request', 'The request body is empty; send a JSON object.'), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // rawBody must stay valid JSON (the log splices it in as is, the pass-through resends it),
      // so text that does not parse is kept apart, for the log to store as a string.
      request.unparsedBody = text;
      done(
        new GatewayError(
          'invalid_request',
          `The request body is not valid JSON: ${(error as Error).message}`,
        ),
        undefined,
      );
      return;
    }
    request.rawBody = text;
    done(null, parsed);
  });

  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    if (!isApiRoute(request)) return done();
    const auth = runtime.state.auth;
    if (auth.open) return done();
    const key = presentedKey(request.headers);
    const hash = key === undefined ? undefined : auth.verify(key);
    if (hash === undefined) {
      const message =
        key === undefined
          ? 'No API key provided: send Authorization: Bearer YOUR_KEY or x-api-key: YOUR_KEY.'
          : 'Incorrect API key provided.';
      sendError(request, reply, new GatewayError('invalid_api_key', message));
      return;
    }
    request.clientKeyHash = hash;
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (!request.logged && isApiRoute(request)) {
      logExchange(runtime, request, reply.statusCode, reply.elapsedTime);
    }
    done();
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new GatewayError(
        'not_found',
        `No route for ${request.method} ${request.url.split('?')[0]}; see /docs.`,
      ),
    ),
  );

  await registerDocs(app, process.env.REDOC_SCRIPT_URL);
  registerStatusPage(app, runtime);
  registerHealthRoute(app, runtime);
  registerModelRoutes(app, runtime);
  registerChatRoute(app, runtime);
  return app;
}
