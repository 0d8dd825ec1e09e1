// OpenAI embeddings ↔ Gemini's embedContent (one input) and batchEmbedContents (several).
// Gemini reports no token usage for embeddings, so usage is 0 rather than a guess.
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { geminiModelPath } from '../gemini-model-path.js';
import { geminiErrorDetail } from '../openai-gemini.js';
import type { BuildContext, ChatTranslator, UpstreamRequest } from '../types.js';
import {
  countMismatch,
  embeddingsBody,
  embeddingsResponse,
  extraFields,
  textInputs,
  vectorOf,
} from './types.js';

function droppedParams(body: Record<string, unknown>): string[] {
  return body.user === undefined ? [] : ['user'];
}

function buildGeminiEmbeddingsRequest(ctx: BuildContext): UpstreamRequest {
  const body = embeddingsBody(ctx);
  const texts = textInputs(body, ctx.provider.name);
  const model = geminiModelPath(ctx.model);
  const extra = extraFields(body);
  const one = (text: string) => ({
    model: `models/${ctx.model}`,
    content: { parts: [{ text }] },
    ...(body.dimensions === undefined ? {} : { outputDimensionality: body.dimensions }),
    // taskType, title and the like belong to each EmbedContentRequest, batched or not.
    ...extra,
  });
  // A single string uses embedContent; an array, even of one, keeps the batch shape.
  const single = typeof body.input === 'string';
  return {
    path: single ? `/models/${model}:embedContent` : `/models/${model}:batchEmbedContents`,
    body: JSON.stringify(single ? one(texts[0] ?? '') : { requests: texts.map(one) }),
    headers: {},
    droppedParams: droppedParams(body),
  };
}

function translateGeminiEmbeddings(upstream: unknown, ctx: BuildContext): unknown {
  const provider = ctx.provider.name;
  const body = embeddingsBody(ctx);
  if (!isRecord(upstream)) {
    throw new GatewayError('upstream_error', `${provider} answered with a body that is not an object.`, {
      provider,
    });
  }
  let vectors: number[][];
  if (typeof body.input === 'string') {
    const embedding = isRecord(upstream.embedding) ? upstream.embedding.values : undefined;
    vectors = [vectorOf(embedding, provider)];
  } else {
    const list = Array.isArray(upstream.embeddings) ? upstream.embeddings : [];
    if (list.length !== body.input.length) throw countMismatch(provider, list.length, body.input.length);
    vectors = list.map((item) => vectorOf(isRecord(item) ? item.values : undefined, provider));
  }
  return embeddingsResponse(vectors, ctx, 0);
}

export const geminiEmbeddings: ChatTranslator = {
  buildRequest: buildGeminiEmbeddingsRequest,
  translateResponse: translateGeminiEmbeddings,
  parseError: geminiErrorDetail,
};
