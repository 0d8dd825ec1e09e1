// OpenAI embeddings ↔ Cohere v2 `/v2/embed`. Cohere requires an input_type: the client may pass
// one as an extension field, else `search_document` (OpenAI embeddings are mostly for indexing).
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { openAIErrorDetail } from '../openai-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamRequest } from '../types.js';
import {
  countMismatch,
  embeddingsBody,
  embeddingsResponse,
  extraFields,
  textInputs,
  vectorOf,
} from './types.js';

/** Cohere's cap on texts per call (wire-formats §7.2). */
export const COHERE_MAX_TEXTS = 96;
const DEFAULT_INPUT_TYPE = 'search_document';

function buildCohereEmbeddingsRequest(ctx: BuildContext): UpstreamRequest {
  const body = embeddingsBody(ctx);
  const texts = textInputs(body, ctx.provider.name);
  if (texts.length > COHERE_MAX_TEXTS) {
    throw new GatewayError(
      'invalid_request',
      `${ctx.provider.name} embeds at most ${COHERE_MAX_TEXTS} texts per request; 'input' has ${texts.length}.`,
      { param: 'input' },
    );
  }
  const inputType = typeof body.input_type === 'string' ? body.input_type : DEFAULT_INPUT_TYPE;
  const upstream = {
    model: ctx.model,
    texts,
    input_type: inputType,
    embedding_types: ['float'],
    ...(body.dimensions === undefined ? {} : { output_dimension: body.dimensions }),
    ...extraFields(body),
  };
  return {
    path: '/v2/embed',
    body: JSON.stringify(upstream),
    headers: {},
    droppedParams: body.user === undefined ? [] : ['user'],
  };
}

function translateCohereEmbeddings(upstream: unknown, ctx: BuildContext): unknown {
  const provider = ctx.provider.name;
  const wanted = textInputs(embeddingsBody(ctx), provider).length;
  const embeddings =
    isRecord(upstream) && isRecord(upstream.embeddings) ? upstream.embeddings.float : undefined;
  const list = Array.isArray(embeddings) ? embeddings : [];
  if (list.length !== wanted) throw countMismatch(provider, list.length, wanted);
  const meta = isRecord(upstream) && isRecord(upstream.meta) ? upstream.meta : {};
  const billed = isRecord(meta.billed_units) ? meta.billed_units.input_tokens : undefined;
  const tokens = typeof billed === 'number' ? billed : 0;
  return embeddingsResponse(
    list.map((vector) => vectorOf(vector, provider)),
    ctx,
    tokens,
  );
}

export const cohereEmbeddings: ChatTranslator = {
  buildRequest: buildCohereEmbeddingsRequest,
  translateResponse: translateCohereEmbeddings,
  // Cohere's errors are `{"message": "…"}` (sometimes with an id), which this reads.
  parseError: openAIErrorDetail,
};
