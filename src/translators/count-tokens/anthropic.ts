// count_tokens in, Anthropic out: the upstream's own count. The Messages pass-through's request
// (the body as sent with only `model` rewritten, anthropic-version and anthropic-beta forwarded)
// at Anthropic's count path; `{"input_tokens": N}` and Anthropic's errors come back as they are.
import { messagesErrorDetail, messagesPassthrough } from '../messages/messages-passthrough.js';
import type { BuildContext, ChatTranslator, UpstreamRequest } from '../types.js';

export const ANTHROPIC_COUNT_PATH = '/messages/count_tokens';

export const countTokensAnthropic: ChatTranslator = {
  buildRequest(ctx: BuildContext): UpstreamRequest {
    return { ...messagesPassthrough.buildRequest(ctx), path: ANTHROPIC_COUNT_PATH };
  },
  parseError: messagesErrorDetail,
};
