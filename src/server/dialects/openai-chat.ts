// The OpenAI Chat Completions dialect: the gateway's first, and the hub the other dialects'
// translators go through for providers that do not speak them natively.

import { sseFrame } from '../../streaming/sse-writer.js';
import { chatTranslatorFor } from '../../translators/index.js';
import { chatRequestSchema } from '../chat-schema.js';
import { compileValidator } from '../request-validator.js';
import type { Dialect } from './dialect.js';

export const CHAT_PATH = '/v1/chat/completions';

export const openAIChat: Dialect = {
  name: 'chat',
  path: CHAT_PATH,
  operation: 'chat completions',
  requestIdHeader: undefined,
  compileValidator: () => compileValidator(chatRequestSchema),
  translatorFor: chatTranslatorFor,
  renderError(error) {
    const { text, error: logged } = error.toResponse();
    return { text, logged };
  },
  streamError({ message, type, code }) {
    return Buffer.from(sseFrame({ error: { message, type, param: null, code } }));
  },
};
