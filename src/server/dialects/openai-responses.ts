// The OpenAI Responses API dialect (POST /v1/responses): Codex, the OpenAI Agents SDK, the Vercel AI
// SDK's default. Native to providers that serve it (OpenAI; `providers.<name>.responses: true`),
// bridged through the OpenAI chat translators for the rest (src/translators/responses/). Stored
// responses and previous_response_id are its prepare and settle hooks (responses-conversation.ts).
import { sseEvent } from '../../streaming/sse-writer.js';
import { responsesTranslatorFor } from '../../translators/responses/index.js';
import { compileValidator } from '../request-validator.js';
import type { Dialect } from './dialect.js';
import { prepareConversation, settleConversation } from './responses-conversation.js';
import { responsesRequestSchema } from './responses-schema.js';

export const RESPONSES_PATH = '/v1/responses';

export const openAIResponses: Dialect = {
  name: 'responses',
  path: RESPONSES_PATH,
  operation: 'the Responses API',
  requestIdHeader: undefined,
  compileValidator: () => compileValidator(responsesRequestSchema),
  translatorFor: responsesTranslatorFor,
  renderError(error) {
    const { text, error: logged } = error.toResponse();
    return { text, logged };
  },
  /**
   * The Responses stream's `error` event; its `error` member also makes the OpenAI SDKs raise it
   * as an API error, as they do for a chat stream's error event.
   */
  streamError({ message, type, code }) {
    return Buffer.from(
      sseEvent('error', {
        type: 'error',
        code,
        message,
        param: null,
        error: { message, type, code, param: null },
      }),
    );
  },
  prepare: prepareConversation,
  settle: settleConversation,
};
