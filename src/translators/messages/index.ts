// Which translator serves a Messages request for a protocol: Anthropic's natively, OpenAI,
// Gemini and Cohere through their chat translators; any other protocol cannot serve it.
import type { Protocol } from '../../providers/registry.js';
import { chatTranslatorFor } from '../index.js';
import type { ChatTranslator } from '../types.js';
import { type ChatTarget, COHERE_TARGET, GEMINI_TARGET, OPENAI_TARGET } from './chat-targets.js';
import { messagesPassthrough } from './messages-passthrough.js';
import { viaChat } from './via-chat.js';

const TARGETS: ReadonlyArray<[Protocol, ChatTarget]> = [
  ['openai', OPENAI_TARGET],
  ['gemini', GEMINI_TARGET],
  ['cohere', COHERE_TARGET],
];

const MESSAGES_TRANSLATORS: Partial<Record<Protocol, ChatTranslator>> = { anthropic: messagesPassthrough };
for (const [protocol, target] of TARGETS) {
  const inner = chatTranslatorFor(protocol);
  if (inner !== undefined) MESSAGES_TRANSLATORS[protocol] = viaChat(inner, target);
}

export function messagesTranslatorFor(protocol: Protocol): ChatTranslator | undefined {
  return MESSAGES_TRANSLATORS[protocol];
}
