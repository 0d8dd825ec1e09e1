// Responses in, a provider that serves the Responses API out (OpenAI; any OpenAI-protocol provider
// configured with `responses: true`): the body goes to `<base>/responses` as the client sent it
// with only the top-level model value rewritten, and the answer, the stream and the errors come
// back as they came (no response or stream step; errors are OpenAI's shape already).
import { withTopLevelModel } from '../model-field.js';
import { passthroughErrorDetail } from '../openai-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamRequest } from '../types.js';

export const responsesPassthrough: ChatTranslator = {
  buildRequest(ctx: BuildContext): UpstreamRequest {
    const body = ctx.body.model === ctx.model ? ctx.rawBody : withTopLevelModel(ctx.rawBody, ctx.model);
    return { path: '/responses', body, headers: {}, droppedParams: [] };
  },
  parseError: passthroughErrorDetail,
};
