// OpenAI chat ⇄ Cohere v2 chat (POST /v2/chat): the four translator steps, each in its own file.
import { buildCohereRequest } from './openai-cohere-request.js';
import { cohereErrorDetail, translateCohereResponse } from './openai-cohere-response.js';
import { createCohereStreamTranslator } from './openai-cohere-stream.js';
import type { ChatTranslator } from './types.js';

export const openAICohere: ChatTranslator = {
  buildRequest: buildCohereRequest,
  translateResponse: translateCohereResponse,
  createStreamTranslator: createCohereStreamTranslator,
  parseError: cohereErrorDetail,
};
