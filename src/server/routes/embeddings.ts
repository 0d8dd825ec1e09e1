// POST /v1/embeddings: OpenAI's embeddings API on OpenAI-protocol providers (pass-through), Gemini
// and Cohere (translated). A Fastify route: the body is validated by the schema below (the 400
// names the field) and the schema is published in /openapi.json.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import { type CommittedResponse, type ExchangeTrace, runAttempts } from '../../gateway/attempt-loop.js';
import { ExchangeSignal } from '../../gateway/exchange-signal.js';
import { embeddingsTranslatorFor } from '../../translators/embeddings/index.js';
import type { EmbeddingsRequestBody } from '../../translators/embeddings/types.js';
import type { ChatRequestBody } from '../../translators/types.js';
import { errorResponses } from '../chat-schema.js';
import { newExchangeInfo, responseRequestId } from '../exchange-context.js';
import { logExchange } from '../exchange-log.js';
import { contextFor } from '../request-context.js';
import type { Runtime } from '../runtime.js';
import { CLIENT_CLOSED } from './relay-stream.js';

export const EMBEDDINGS_PATH = '/v1/embeddings';

const nonEmptyArray = (items: unknown) => ({ type: 'array', minItems: 1, items });

/** Fields it does not list travel on untouched (Cohere's `input_type`, say). */
export const embeddingsRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      description: 'A text, a list of texts, a list of token ids, or a list of such lists',
      anyOf: [
        { type: 'string' },
        nonEmptyArray({ type: 'string' }),
        nonEmptyArray({ type: 'integer' }),
        nonEmptyArray(nonEmptyArray({ type: 'integer' })),
      ],
    },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
    user: { type: 'string' },
  },
};

const embeddingsResponseSchema = {
  description: 'OpenAI embeddings list',
  type: 'object',
  properties: {
    object: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          object: { type: 'string' },
          index: { type: 'integer' },
          embedding: { anyOf: [{ type: 'array', items: { type: 'number' } }, { type: 'string' }] },
        },
      },
    },
    model: { type: 'string' },
    usage: {
      type: 'object',
      properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
    },
  },
};

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The answer in OpenAI's shape: relayed as is (pass-through) or translated. */
function answerBytes(committed: CommittedResponse): Buffer {
  const bytes = committed.body ?? Buffer.alloc(0);
  const translate = committed.translator.translateResponse;
  if (translate === undefined) return bytes;
  let upstream: unknown;
  try {
    upstream = JSON.parse(bytes.toString('utf8'));
  } catch {
    const provider = committed.target.provider.name;
    throw new GatewayError('upstream_error', `${provider} answered with a body that is not JSON.`, {
      provider,
    });
  }
  return Buffer.from(JSON.stringify(translate(upstream, committed.buildContext)));
}

export function registerEmbeddingsRoute(app: FastifyInstance, runtime: Runtime): void {
  app.post(
    EMBEDDINGS_PATH,
    {
      schema: {
        summary: 'Create embeddings (OpenAI-compatible) on OpenAI-protocol providers, Gemini or Cohere',
        tags: ['OpenAI API'],
        body: embeddingsRequestSchema,
        response: {
          200: embeddingsResponseSchema,
          ...errorResponses,
          501: { ...errorResponses[400], description: 'The provider cannot serve embeddings' },
        },
        security: [{ bearerAuth: [] }],
      },
    },
    async (request, reply) => {
      const ctx = contextFor(request);
      const body = request.body as EmbeddingsRequestBody;
      const { config, router } = runtime.state;
      const exchange = newExchangeInfo(body.model, false);
      ctx.exchange = exchange;
      const signal = new ExchangeSignal(config.timeouts.totalMs);
      const res = reply.raw;
      const onClose = () => {
        if (!res.writableFinished) signal.clientClosed();
      };
      res.on('close', onClose);
      const trace: ExchangeTrace = { attempts: exchange.attempts, upstreamMs: 0 };
      runtime.enter();
      try {
        const targets = router.resolveRequest(body.model, undefined);
        exchange.modelMapped = targets[0]?.model ?? null;
        exchange.provider = targets[0]?.provider.name ?? null;
        const committed = await runAttempts(
          { config, pools: runtime.pools, keys: runtime.keys },
          targets,
          {
            body: body as unknown as ChatRequestBody,
            rawBody: ctx.rawBody ?? JSON.stringify(body),
            stream: false,
            signal,
            translatorFor: embeddingsTranslatorFor,
            operation: 'embeddings',
          },
          trace,
        );
        exchange.modelMapped = committed.target.model;
        exchange.provider = committed.target.provider.name;
        exchange.keyId = committed.key.id;
        const bytes = answerBytes(committed);
        exchange.responseBytes = bytes;
        const elapsed = performance.now() - ctx.startedAt;
        exchange.overheadMs = round(Math.max(0, elapsed - trace.upstreamMs));
        exchange.ttfbMs = round(elapsed);
        const headers: Record<string, string> = {
          'x-request-id': responseRequestId(ctx.headers, ctx.id),
          'x-ai-proxy-provider': committed.target.provider.name,
          'x-ai-proxy-model': committed.target.model,
          'x-ai-proxy-key': committed.key.id,
          'x-ai-proxy-overhead-ms': exchange.overheadMs.toFixed(2),
        };
        if (committed.droppedParams.length > 0) {
          headers['x-ai-proxy-dropped-params'] = committed.droppedParams.join(',');
        }
        return reply.code(committed.status).headers(headers).type('application/json').send(bytes);
      } catch (error) {
        if (!signal.clientGone) throw error;
        // Nobody is left to answer; the record says so with nginx's 499.
        exchange.error = error instanceof GatewayError ? error.toBody().error : { message: String(error) };
        logExchange(runtime, ctx, CLIENT_CLOSED);
        reply.hijack();
        if (!res.destroyed) res.destroy();
        return reply;
      } finally {
        signal.dispose();
        res.off('close', onClose);
        runtime.leave();
      }
    },
  );
}
