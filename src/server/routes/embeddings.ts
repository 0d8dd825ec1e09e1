// POST /v1/embeddings: OpenAI's embeddings API on OpenAI-protocol providers (pass-through), Gemini
// and Cohere (translated). A Fastify route: the body is validated by the schema below (the 400
// names the field) and the schema is published in /openapi.json.
import type { FastifyInstance } from 'fastify';
import type { CommittedResponse } from '../../gateway/attempt-loop.js';
import { embeddingsTranslatorFor } from '../../translators/embeddings/index.js';
import type { EmbeddingsRequestBody } from '../../translators/embeddings/types.js';
import type { ChatRequestBody } from '../../translators/types.js';
import { errorResponses } from '../chat-schema.js';
import { modelNameSchema } from '../model-name.js';
import type { Runtime } from '../runtime.js';
import { parseUpstreamJson, serveUpstream } from '../upstream-exchange.js';

export const EMBEDDINGS_PATH = '/v1/embeddings';

const nonEmptyArray = (items: unknown) => ({ type: 'array', minItems: 1, items });

/** Fields it does not list travel on untouched (Cohere's `input_type`, say). */
export const embeddingsRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: modelNameSchema,
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

/** The answer in OpenAI's shape: relayed as is (pass-through) or translated. */
function answerBytes(committed: CommittedResponse): Buffer {
  const translate = committed.translator.translateResponse;
  if (translate === undefined) return committed.body ?? Buffer.alloc(0);
  return Buffer.from(JSON.stringify(translate(parseUpstreamJson(committed), committed.buildContext)));
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
    (request, reply) => {
      const body = request.body as EmbeddingsRequestBody;
      return serveUpstream(runtime, request, reply, {
        body: body as unknown as ChatRequestBody,
        modelRequested: body.model,
        targets: (router) => router.resolveRequest(body.model, undefined),
        translatorFor: embeddingsTranslatorFor,
        operation: 'embeddings',
        answer: answerBytes,
      });
    },
  );
}
