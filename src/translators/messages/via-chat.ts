// A Messages translator for a protocol that is not Anthropic's: the shared chat-hub composition
// (../via-chat.ts) with the Messages steps: Messages → chat body, chat.completion → Message, chunks
// → Anthropic events.
import type { ChatTranslator } from '../types.js';
import { viaChatHub } from '../via-chat.js';
import { chatToMessages } from './chat-messages-response.js';
import { ChatToMessagesStream } from './chat-messages-stream.js';
import type { ChatTarget } from './chat-targets.js';
import { clientParamName, messagesToChat } from './messages-chat-request.js';
import { messagesBodyOf } from './messages-types.js';

export function viaChat(inner: ChatTranslator, target: ChatTarget): ChatTranslator {
  return viaChatHub(inner, {
    toChat: (ctx) => messagesToChat(messagesBodyOf(ctx.body), ctx.model, ctx.stream, target),
    clientParamName,
    fromChat: chatToMessages,
    createStream: (ctx) => new ChatToMessagesStream(ctx),
  });
}
