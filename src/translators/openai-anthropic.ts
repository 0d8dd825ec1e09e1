// OpenAI chat ⇄ Anthropic Messages: the four translator steps, each in its own file.
import { buildAnthropicRequest } from './openai-anthropic-request.js';
import { anthropicErrorDetail, translateAnthropicResponse } from './openai-anthropic-response.js';
import { createAnthropicStreamTranslator } from './openai-anthropic-stream.js';
import type { ChatTranslator } from './types.js';

export const openAIAnthropic: ChatTranslator = {
  buildRequest: buildAnthropicRequest,
  translateResponse: (upstream) => translateAnthropicResponse(upstream),
  createStreamTranslator: createAnthropicStreamTranslator,
  parseError: anthropicErrorDetail,
};
