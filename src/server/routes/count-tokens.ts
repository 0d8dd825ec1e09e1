// POST /v1/messages/count_tokens (Anthropic's token counting): routed like a Messages call. A
// provider with its own count answers it (Anthropic's endpoint, the body passed through with only
// `model` rewritten; Gemini's countTokens on the translated request): `exact`. Any other target
// gets a local BPE estimate (src/tokens/), never a zero. The x-ai-proxy-token-count header says
// which. Errors are Anthropic's shape (the error handler's dialect for /v1/messages/…).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommittedResponse } from '../../gateway/attempt-loop.js';
import type { Target } from '../../routing/router.js';
import { estimateInputTokens } from '../../tokens/estimate.js';
import { countsUpstream, countTokensTranslatorFor } from '../../translators/count-tokens/index.js';
import type { ChatRequestBody } from '../../translators/types.js';
import { anthropicErrorResponses, messagesRequestSchema } from '../dialects/messages-schema.js';
import { newExchangeInfo, responseRequestId } from '../exchange-context.js';
import { setHeaderValue } from '../header-value.js';
import { contextFor } from '../request-context.js';
import type { Runtime } from '../runtime.js';
import { parseUpstreamJson, recordTargets, roundMs, serveUpstream } from '../upstream-exchange.js';

export const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';

/** Says where a count came from: `exact; provider=NAME` or `estimate; tokenizer=ENCODING`. */
export const TOKEN_COUNT_HEADER = 'x-ai-proxy-token-count';

const { model, messages, system, tools, tool_choice, thinking } = messagesRequestSchema.properties;

/** The Messages request's fields that cost input tokens; any other field travels on untouched. */
export const countTokensRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: { model, messages, system, tools, tool_choice, thinking },
};

const countTokensResponseSchema = {
  description: 'The input tokens the request would cost',
  type: 'object',
  properties: { input_tokens: { type: 'integer' } },
};

type CountBody = ChatRequestBody & { model: string };

/** The Anthropic SDKs read a `request-id` header; the gateway's id serves as it. */
function idHeaders(request: FastifyRequest): Record<string, string> {
  const id = responseRequestId(contextFor(request));
  return { 'x-request-id': id, 'request-id': id };
}

/** The upstream's own count, through the attempt loop, relayed (Anthropic) or translated (Gemini). */
function countUpstream(
  runtime: Runtime,
  request: FastifyRequest,
  reply: FastifyReply,
  body: CountBody,
  targets: Target[],
): Promise<void> {
  const answer = (committed: CommittedResponse): Buffer => {
    const headers: Record<string, string> = { 'request-id': responseRequestId(contextFor(request)) };
    setHeaderValue(headers, TOKEN_COUNT_HEADER, `exact; provider=${committed.target.provider.name}`);
    reply.headers(headers);
    const translate = committed.translator.translateResponse;
    if (translate === undefined) return committed.body ?? Buffer.alloc(0);
    return Buffer.from(JSON.stringify(translate(parseUpstreamJson(committed), committed.buildContext)));
  };
  return serveUpstream(runtime, request, reply, {
    body,
    modelRequested: body.model,
    // Only providers that count: a fallback to one that cannot would fail instead of estimating.
    targets: () => targets.filter((target) => countsUpstream(target.provider)),
    translatorFor: countTokensTranslatorFor,
    operation: 'token counting',
    answer,
  });
}

/** A local estimate for the first target's model: no upstream call, still a logged exchange. */
async function countLocally(
  request: FastifyRequest,
  reply: FastifyReply,
  body: CountBody,
  targets: Target[],
): Promise<void> {
  const ctx = contextFor(request);
  const exchange = newExchangeInfo(body.model, false);
  ctx.exchange = exchange;
  recordTargets(exchange, targets);
  const estimate = await estimateInputTokens(body, exchange.modelMapped ?? body.model);
  const bytes = Buffer.from(JSON.stringify({ input_tokens: estimate.inputTokens }));
  exchange.responseBytes = bytes;
  exchange.overheadMs = roundMs(performance.now() - ctx.startedAt);
  exchange.ttfbMs = exchange.overheadMs;
  const headers = idHeaders(request);
  headers[TOKEN_COUNT_HEADER] = `estimate; tokenizer=${estimate.encoding}`;
  if (exchange.provider !== null) setHeaderValue(headers, 'x-ai-proxy-provider', exchange.provider);
  if (exchange.modelMapped !== null) setHeaderValue(headers, 'x-ai-proxy-model', exchange.modelMapped);
  headers['x-ai-proxy-overhead-ms'] = exchange.overheadMs.toFixed(2);
  await reply.code(200).headers(headers).type('application/json').send(bytes);
}

export function registerCountTokensRoute(app: FastifyInstance, runtime: Runtime): void {
  app.post(
    COUNT_TOKENS_PATH,
    {
      schema: {
        summary:
          "Count a Messages request's input tokens (Anthropic API): the provider's own count where it has one (Anthropic, Gemini), else a local BPE estimate; x-ai-proxy-token-count says which",
        tags: ['Anthropic API'],
        body: countTokensRequestSchema,
        response: { 200: countTokensResponseSchema, ...anthropicErrorResponses },
        security: [{ bearerAuth: [] }],
      },
    },
    (request, reply) => {
      const body = request.body as CountBody;
      let targets: Target[];
      try {
        targets = runtime.state.router.resolveRequest(body.model, undefined);
      } catch (error) {
        // No route for the model: the error handler answers (in Anthropic's shape); the log record
        // still names the model asked for.
        contextFor(request).exchange = newExchangeInfo(body.model, false);
        throw error;
      }
      const first = targets[0];
      if (first !== undefined && countsUpstream(first.provider)) {
        return countUpstream(runtime, request, reply, body, targets);
      }
      return countLocally(request, reply, body, targets);
    },
  );
}
