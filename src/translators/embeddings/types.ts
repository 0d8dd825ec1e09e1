// The embeddings request as validated at the route, and the helpers every embeddings translator
// shares: reading the inputs, and writing OpenAI's answer (floats, or base64 when asked for).
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import type { BuildContext } from '../types.js';

/** POST /v1/embeddings as the route's schema admits it; extension fields travel untouched. */
export type EmbeddingsRequestBody = Record<string, unknown> & {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
};

export interface OpenAIEmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/**
 * The attempt loop carries every endpoint's body in BuildContext.body (typed for chat); the
 * embeddings route put an EmbeddingsRequestBody there.
 */
export function embeddingsBody(ctx: BuildContext): EmbeddingsRequestBody {
  return ctx.body as unknown as EmbeddingsRequestBody;
}

/**
 * The inputs as texts. Token arrays (number[] or number[][]) are OpenAI's tokenizer ids and mean
 * nothing to another provider, so they are refused rather than sent as digits.
 */
export function textInputs(body: EmbeddingsRequestBody, provider: string): string[] {
  const { input } = body;
  if (typeof input === 'string') return [input];
  if (input.every((item): item is string => typeof item === 'string')) return input;
  throw new GatewayError(
    'invalid_request',
    `${provider} embeds text only: send 'input' as a string or an array of strings, not token ids.`,
    { param: 'input' },
  );
}

/** The client's `extra_body`, merged verbatim into what the upstream gets (SPEC §5). */
export function extraFields(body: EmbeddingsRequestBody): Record<string, unknown> {
  return isRecord(body.extra_body) ? body.extra_body : {};
}

/** OpenAI's base64 encoding: the vector as little-endian float32, base64. */
export function floatsToBase64(values: readonly number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  for (const [i, value] of values.entries()) buffer.writeFloatLE(value, i * 4);
  return buffer.toString('base64');
}

/** OpenAI's answer from vectors in input order. */
export function embeddingsResponse(
  vectors: number[][],
  ctx: BuildContext,
  promptTokens: number,
): OpenAIEmbeddingsResponse {
  const base64 = embeddingsBody(ctx).encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? floatsToBase64(vector) : vector,
    })),
    model: ctx.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** A vector as the upstream sent it, or a 502 naming the provider when it is not one. */
export function vectorOf(value: unknown, provider: string): number[] {
  if (Array.isArray(value) && value.every((item) => typeof item === 'number')) return value;
  throw new GatewayError(
    'upstream_error',
    `${provider} answered with an embedding that is not a list of numbers.`,
    {
      provider,
    },
  );
}

/** Upstream answered, but not with one vector per input. */
export function countMismatch(provider: string, got: number, wanted: number): GatewayError {
  return new GatewayError(
    'upstream_error',
    `${provider} answered with ${got} embeddings for ${wanted} inputs.`,
    { provider },
  );
}
