// OpenAI-protocol providers: the body goes to `/embeddings` as sent with the model rewritten, and
// the answer (floats or base64, as the client asked) comes back byte for byte.
import { passthroughErrorDetail } from '../openai-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamRequest } from '../types.js';
import { embeddingsBody } from './types.js';

export const openAIEmbeddings: ChatTranslator = {
  buildRequest(ctx: BuildContext): UpstreamRequest {
    const body = embeddingsBody(ctx);
    const needsRewrite = body.model !== ctx.model || body.extra_body !== undefined;
    let text = ctx.rawBody;
    if (needsRewrite) {
      const { extra_body: extra, ...rest } = body;
      const extraFields =
        typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>) : {};
      text = JSON.stringify({ ...rest, ...extraFields, model: ctx.model });
    }
    return { path: '/embeddings', body: text, headers: {}, droppedParams: [] };
  },
  parseError: passthroughErrorDetail,
};
