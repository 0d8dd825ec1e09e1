// Builds the Fastify app: body parsing, client auth on /v1/*, routes, errors in the shape of each
// route's dialect (OpenAI's, Anthropic's on the Messages routes), and the request log for every
// /v1 exchange.
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { errorBody, GatewayError } from '../errors.js';
import { keysUsage } from '../managed-keys/key-usage.js';
import { canonicalTarget, isApiPath } from './canonical-path.js';
import { presentedKey } from './client-auth.js';
import { identifyClient, keysRequired } from './client-identity.js';
import { anthropicMessages } from './dialects/anthropic-messages.js';
import { openAIChat } from './dialects/openai-chat.js';
import { openAIResponses } from './dialects/openai-responses.js';
import { errorHandler, sendError, toGatewayError } from './error-handler.js';
import { ExchangeHandler, isPostTo } from './exchange-handler.js';
import { logExchange } from './exchange-log.js';
import { checkJsonDepth } from './json-depth.js';
import { contextFor } from './request-context.js';
import { nextRequestId } from './request-id.js';
import { registerAdminKeyRoutes } from './routes/admin-keys.js';
import { registerChatRoute } from './routes/chat.js';
import { registerConsole } from './routes/console.js';
import { registerCountTokensRoute } from './routes/count-tokens.js';
import { registerDocs } from './routes/docs.js';
import { registerEmbeddingsRoute } from './routes/embeddings.js';
import { registerHealthRoute } from './routes/health.js';
import { registerImageRoutes } from './routes/images.js';
import { registerMessagesRoute } from './routes/messages.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { registerResponsesRoute } from './routes/responses.js';
import { registerResponsesStoreRoutes } from './routes/responses-store.js';
import { registerStatusPage } from './routes/status-page.js';
import { registerUsageRoute } from './routes/usage.js';
import type { Runtime } from './runtime.js';
import type { TlsFiles } from './tls-files.js';
import { createGatewayServer } from './tls-server.js';

function isApiRoute(request: FastifyRequest): boolean {
  return isApiPath(request.url);
}

/** A target that is not in canonical form: refused before any route, auth or upstream sees it. */
function refuseTarget(req: IncomingMessage, res: ServerResponse): void {
  const body = errorBody(
    'invalid_request',
    'The request path is not in canonical form (a malformed or encoded separator, a doubled slash, or a "." or ".." segment); send the plain path, e.g. /v1/chat/completions.',
  );
  res.writeHead(400, {
    'content-type': 'application/json',
    connection: 'close',
    'x-request-id': nextRequestId(),
  });
  res.end(JSON.stringify(body));
  req.resume();
}

/** `files`: the certificate and key read at start (tls-files.ts) when config.tls is set; HTTPS then. */
export async function buildApp(runtime: Runtime, files?: TlsFiles): Promise<FastifyInstance> {
  const config = runtime.state.config;
  const tls = config.tls !== undefined && files !== undefined ? { config: config.tls, files } : undefined;
  // One pipeline, one handler per inbound dialect.
  const chat = new ExchangeHandler(runtime, openAIChat);
  const messages = new ExchangeHandler(runtime, anthropicMessages);
  const responses = new ExchangeHandler(runtime, openAIResponses);
  const app = Fastify({
    // The exchange routes (chat completions, messages, responses), the hot paths, go straight from node:http to
    // their handler; everything else (models, health, pages, docs, errors for other methods) is
    // Fastify's.
    serverFactory: (fastifyHandler) =>
      createGatewayServer(tls, (req: IncomingMessage, res: ServerResponse) => {
        // Auth, the fast path and Fastify's router must all decide on the same path: settle it here.
        const target = canonicalTarget(req.url ?? '');
        if (target === undefined) return refuseTarget(req, res);
        req.url = target;
        if (isPostTo(req, chat.dialect.path)) chat.handle(req, res);
        else if (isPostTo(req, messages.dialect.path)) messages.handle(req, res);
        else if (isPostTo(req, responses.dialect.path)) responses.handle(req, res);
        else fastifyHandler(req, res);
      }),
    loggerInstance: runtime.logger as FastifyBaseLogger,
    // The request log records every exchange; a process-log line per request would only cost time.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    genReqId: nextRequestId,
    // One logger for all: a pino child per request costs an allocation on every call, and the few
    // per-request lines we write carry the request id themselves.
    childLoggerFactory: (logger) => logger,
    // Closing is answered by the onRequest hook below, in OpenAI's shape.
    return503OnClosing: false,
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

  app.decorateRequest('exchangeContext', undefined);

  // JSON only: any other body is a 415, not a string that fails validation later.
  app.removeAllContentTypeParsers();
  // Keep the body text: the log stores it as sent, and a pass-through can reuse it unchanged.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    const ctx = contextFor(request);
    if (/^\s*$/.test(text)) {
      ctx.unparsedBody = text;
      done(new GatewayError('invalid_request', 'The request body is empty; send a JSON object.'), undefined);
      return;
    }
    // Too deep for the code after the parse: refused before it, kept as text for the log.
    const tooDeep = checkJsonDepth(text);
    if (tooDeep !== undefined) {
      ctx.unparsedBody = text;
      done(tooDeep, undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // rawBody must stay valid JSON (the log splices it in as is, the pass-through resends it),
      // so text that does not parse is kept apart, for the log to store as a string.
      ctx.unparsedBody = text;
      done(
        new GatewayError(
          'invalid_request',
          `The request body is not valid JSON: ${(error as Error).message}`,
        ),
        undefined,
      );
      return;
    }
    ctx.rawBody = text;
    done(null, parsed);
  });

  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    if (runtime.closing) {
      reply.header('connection', 'close');
      sendError(
        request,
        reply,
        new GatewayError(
          'shutting_down',
          'The gateway is shutting down; retry on another instance or in a moment.',
        ),
      );
      return;
    }
    if (!isApiRoute(request)) return done();
    const auth = runtime.state.auth;
    if (!keysRequired(auth, runtime.managedKeyCount)) return done();
    const identity = identifyClient(auth, runtime.managedKeys, presentedKey(request.headers), Date.now());
    if (identity instanceof GatewayError) {
      sendError(request, reply, identity);
      return;
    }
    const ctx = contextFor(request);
    ctx.clientKeyHash = identity.shortHash;
    ctx.managedKey = identity.key;
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (isApiRoute(request)) logExchange(runtime, contextFor(request), reply.statusCode);
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
  registerConsole(app, runtime);
  registerHealthRoute(app, runtime);
  registerMetricsRoute(app, runtime);
  registerModelRoutes(app, runtime);
  registerChatRoute(app, chat);
  registerMessagesRoute(app, messages);
  registerResponsesRoute(app, responses);
  registerResponsesStoreRoutes(app, runtime);
  registerEmbeddingsRoute(app, runtime);
  registerImageRoutes(app, runtime);
  registerUsageRoute(app, runtime);
  registerCountTokensRoute(app, runtime);
  registerAdminKeyRoutes(app, runtime, {
    usage: (ids) => keysUsage(runtime.managedKeys, runtime.budgets.store, ids),
  });
  return app;
}
