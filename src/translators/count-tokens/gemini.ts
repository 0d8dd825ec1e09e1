// count_tokens in, Gemini's models.countTokens out: the request is translated as a Messages call
// to Gemini would be (system instruction, contents, tools, thinking config) and sent whole as a
// generateContentRequest, so Gemini counts exactly what a Messages call would cost it; its
// `{"totalTokens": N}` becomes Anthropic's `{"input_tokens": N}`.
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { geminiModelPath } from '../gemini-model-path.js';
import { messagesTranslatorFor } from '../messages/index.js';
import { geminiErrorDetail } from '../openai-gemini.js';
import type { BuildContext, ChatTranslator, UpstreamErrorDetail, UpstreamRequest } from '../types.js';

function messagesToGemini(): ChatTranslator {
  const translator = messagesTranslatorFor('gemini');
  if (translator === undefined) throw new Error('no Messages translator for the gemini protocol');
  return translator;
}

function buildGeminiCountRequest(ctx: BuildContext): UpstreamRequest {
  const generate = messagesToGemini().buildRequest({ ...ctx, stream: false });
  const request: unknown = JSON.parse(generate.body);
  const body = {
    generateContentRequest: { model: `models/${ctx.model}`, ...(isRecord(request) ? request : {}) },
  };
  return {
    path: `/models/${geminiModelPath(ctx.model)}:countTokens`,
    body: JSON.stringify(body),
    headers: generate.headers,
    // What a Messages call would drop is not counted; nothing is dropped from the count itself.
    droppedParams: [],
  };
}

function translateGeminiCount(upstream: unknown, ctx: BuildContext): unknown {
  const total = isRecord(upstream) ? upstream.totalTokens : undefined;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) {
    const provider = ctx.provider.name;
    throw new GatewayError(
      'upstream_error',
      `${provider} answered countTokens without a totalTokens count.`,
      {
        provider,
      },
    );
  }
  return { input_tokens: total };
}

export const countTokensGemini: ChatTranslator = {
  buildRequest: buildGeminiCountRequest,
  translateResponse: translateGeminiCount,
  /** Read, never relayed: Google's error shape is not what an Anthropic client reads. */
  parseError(status: number, body: string): UpstreamErrorDetail {
    const { relay: _relay, ...detail } = geminiErrorDetail(status, body);
    return detail;
  },
};
