// OpenAI-protocol providers (OpenAI, OpenRouter, Groq, Ollama /v1, Recraft, custom servers): the
// body goes as sent with the model rewritten, and the answer comes back byte for byte.
import type { BuildContext, ChatTranslator, UpstreamErrorDetail, UpstreamRequest } from './types.js';

/** Fields only the gateway understands; an upstream would reject or misread them. */
const GATEWAY_FIELDS = ['models', 'extra_body'] as const;

/**
 * The error step of an OpenAI-protocol pass-through: a body in OpenAI's error shape is the
 * client's shape already and is relayed as it came (with `param`, Groq's `failed_generation`,
 * OpenRouter's `metadata`…); any other body is read as openAIErrorDetail reads it.
 */
export function passthroughErrorDetail(status: number, body: string): UpstreamErrorDetail {
  return errorDetailOf(status, body, true);
}

/** An error body in OpenAI's shape (or near it) from a provider that is not OpenAI-protocol. */
export function openAIErrorDetail(status: number, body: string): UpstreamErrorDetail {
  return errorDetailOf(status, body, false);
}

function errorDetailOf(status: number, body: string, relay: boolean): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null) {
    const record = parsed as Record<string, unknown>;
    const inner = record.error;
    if (typeof inner === 'object' && inner !== null) {
      const error = inner as Record<string, unknown>;
      const detail: UpstreamErrorDetail = {
        message: typeof error.message === 'string' ? error.message : `status ${status}`,
        type: typeof error.type === 'string' ? error.type : null,
        code: typeof error.code === 'string' || typeof error.code === 'number' ? String(error.code) : null,
        param: typeof error.param === 'string' ? error.param : null,
      };
      if (relay && typeof error.message === 'string') detail.relay = true;
      return detail;
    }
    if (typeof inner === 'string') return { message: inner, type: null, code: null, param: null };
    if (typeof record.message === 'string')
      return { message: record.message, type: null, code: null, param: null };
  }
  const text = body.trim().slice(0, 500);
  return { message: text === '' ? `status ${status}` : text, type: null, code: null, param: null };
}

export const openAIPassthrough: ChatTranslator = {
  buildRequest(ctx: BuildContext): UpstreamRequest {
    const { body } = ctx;
    const needsRewrite =
      body.model !== ctx.model || GATEWAY_FIELDS.some((field) => body[field] !== undefined);
    let text = ctx.rawBody;
    if (needsRewrite) {
      const { models: _models, extra_body: extra, ...rest } = body;
      const extraFields =
        typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>) : {};
      text = JSON.stringify({ ...rest, ...extraFields, model: ctx.model });
    }
    return { path: '/chat/completions', body: text, headers: {}, droppedParams: [] };
  },
  parseError: passthroughErrorDetail,
};
