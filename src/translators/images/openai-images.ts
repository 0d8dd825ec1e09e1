// OpenAI-protocol image providers (OpenAI's DALL·E and GPT image models, Recraft, any compatible
// server): the body goes as sent with the model rewritten and `extra_body` merged, and the answer
// comes back byte for byte. One parameter is not passed through blindly: `style`.
import { passthroughErrorDetail } from '../openai-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamRequest } from '../types.js';

/** Fields only the gateway understands; an upstream would reject or misread them. */
const GATEWAY_FIELDS = ['models', 'extra_body'] as const;

/**
 * OpenAI's `style` (`vivid` | `natural`) exists for DALL·E 3 only (wire-formats §6.1). Elsewhere
 * the same name means something else: Recraft reads it as its own style (`realistic_image`, …)
 * and refuses DALL·E's values. So it goes only to models that take DALL·E's meaning; for any
 * other model it is dropped and named. A provider's own `style` travels in `extra_body`.
 */
export function takesDallEStyle(model: string): boolean {
  return /^dall-e-3(\b|$)/.test(model);
}

export const openAIImages: ChatTranslator = {
  buildRequest(ctx: BuildContext): UpstreamRequest {
    const { body } = ctx;
    const dropStyle = body.style !== undefined && !takesDallEStyle(ctx.model);
    const needsRewrite =
      dropStyle || body.model !== ctx.model || GATEWAY_FIELDS.some((field) => body[field] !== undefined);
    if (!needsRewrite) {
      return { path: '/images/generations', body: ctx.rawBody, headers: {}, droppedParams: [] };
    }
    const { models: _models, extra_body: extra, style, ...rest } = body;
    const extraFields = typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>) : {};
    const kept = dropStyle ? rest : { ...rest, style };
    return {
      path: '/images/generations',
      body: JSON.stringify({ ...kept, ...extraFields, model: ctx.model }),
      headers: {},
      droppedParams: dropStyle ? ['style'] : [],
    };
  },
  parseError: passthroughErrorDetail,
};
