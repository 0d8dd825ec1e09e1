// POST /v1/chat/completions: route the model, run the attempt loop, then answer: a non-stream
// body as one send, a stream relayed chunk by chunk as it arrives.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import { type CommittedResponse, type ExchangeTrace, runAttempts } from '../../gateway/attempt-loop.js';
import { ExchangeSignal } from '../../gateway/exchange-signal.js';
import type { ChatRequestBody } from '../../translators/types.js';
import { chatRequestSchema, errorResponses } from '../chat-schema.js';
import { logExchange } from '../exchange-log.js';
import { type ExchangeInfo, newExchange, responseRequestId } from '../request-context.js';
import type { Runtime } from '../runtime.js';
import { CLIENT_CLOSED, relayStream } from './relay-stream.js';

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function gatewayHeaders(request: FastifyRequest, committed: CommittedResponse, overheadMs: number) {
  const headers: Record<string, string> = {
    'x-request-id': responseRequestId(request),
    'x-ai-proxy-provider': committed.target.provider.name,
    'x-ai-proxy-model': committed.target.model,
    'x-ai-proxy-key': committed.key.id,
    'x-ai-proxy-overhead-ms': overheadMs.toFixed(2),
  };
  if (committed.droppedParams.length > 0)
    headers['x-ai-proxy-dropped-params'] = committed.droppedParams.join(',');
  return headers;
}

function sendNonStream(
  reply: FastifyReply,
  committed: CommittedResponse,
  exchange: ExchangeInfo,
  headers: Record<string, string>,
): FastifyReply {
  let bytes = committed.body ?? Buffer.alloc(0);
  const translate = committed.translator.translateResponse;
  if (translate !== undefined) {
    let upstream: unknown;
    try {
      upstream = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new GatewayError(
        'upstream_error',
        `${committed.target.provider.name} answered with a body that is not JSON.`,
        {
          provider: committed.target.provider.name,
        },
      );
    }
    bytes = Buffer.from(JSON.stringify(translate(upstream, committed.buildContext)));
  }
  exchange.responseBytes = bytes;
  return reply.code(committed.status).headers(headers).type('application/json').send(bytes);
}

const CHAT_PATH = '/v1/chat/completions';

/**
 * Fastify parses text/plain bodies by default, so a text/plain request would reach schema
 * validation and get a misleading 400 "body must be object"; SPEC §3 wants 415 for any body that is
 * not application/json. Checked before parsing, after client auth.
 */
async function requireJson(request: FastifyRequest): Promise<void> {
  const contentType = request.headers['content-type'];
  if (contentType === undefined) return;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new GatewayError(
      'unsupported_media_type',
      `Send the request body as application/json, not ${JSON.stringify(mediaType)}.`,
    );
  }
}

export function registerChatRoute(app: FastifyInstance, runtime: Runtime): void {
  // OpenAI answers another method on this path with 405 (not 404): the path exists. Hidden from
  // the OpenAPI document, it only shapes the error.
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: CHAT_PATH,
    schema: { hide: true },
    handler: async (request) => {
      throw new GatewayError(
        'method_not_allowed',
        `Invalid method for URL (${request.method} ${CHAT_PATH}): use POST.`,
        { headers: { allow: 'POST' } },
      );
    },
  });

  app.post(
    CHAT_PATH,
    {
      onRequest: requireJson,
      schema: {
        summary: 'Create a chat completion (OpenAI-compatible), streamed or not, on any configured provider',
        tags: ['OpenAI API'],
        body: chatRequestSchema,
        response: errorResponses,
        security: [{ bearerAuth: [] }],
      },
    },
    async (request, reply) => {
      const { config, router } = runtime.state;
      const body = request.body as ChatRequestBody;
      const stream = body.stream === true;
      const exchange = newExchange(request, body.model ?? null, stream);
      const targets = router.resolveRequest(body.model, body.models);
      exchange.modelMapped = targets[0]?.model ?? null;
      exchange.provider = targets[0]?.provider.name ?? null;

      const signal = new ExchangeSignal(config.timeouts.totalMs);
      const onClose = () => {
        if (!reply.raw.writableFinished) signal.clientClosed();
      };
      reply.raw.on('close', onClose);
      const trace: ExchangeTrace = { attempts: exchange.attempts, upstreamMs: 0 };
      runtime.enter();
      try {
        const committed = await runAttempts(
          { config, pools: runtime.pools, keys: runtime.keys },
          targets,
          { body, rawBody: request.rawBody ?? JSON.stringify(body), stream, signal },
          trace,
        );
        exchange.modelMapped = committed.target.model;
        exchange.provider = committed.target.provider.name;
        exchange.keyId = committed.key.id;
        const elapsed = reply.elapsedTime;
        exchange.overheadMs = round(Math.max(0, elapsed - trace.upstreamMs));
        exchange.ttfbMs = round(elapsed);
        const headers = gatewayHeaders(request, committed, exchange.overheadMs);
        if (!stream) return sendNonStream(reply, committed, exchange, headers);

        reply.hijack();
        const status = await relayStream(reply.raw, committed, headers, signal, exchange);
        logExchange(runtime, request, status, reply.elapsedTime);
        return reply;
      } catch (error) {
        if (signal.clientGone && exchange.error === null) {
          exchange.error = error instanceof GatewayError ? error.toBody().error : { message: String(error) };
        }
        throw error;
      } finally {
        // Fastify's onResponse never fires for a response nobody received, yet the upstream was
        // called: the exchange is logged here as 499 so it is not lost.
        if (signal.clientGone && !request.logged)
          logExchange(runtime, request, CLIENT_CLOSED, reply.elapsedTime);
        signal.dispose();
        reply.raw.off('close', onClose);
        runtime.leave();
      }
    },
  );
}
