// Which translator serves a protocol. Protocols without one yet answer 501 with a clear message.
import type { Protocol } from '../providers/registry.js';
import { openAIAnthropic } from './openai-anthropic.js';
import { openAICohere } from './openai-cohere.js';
import { openAIGemini } from './openai-gemini.js';
import { openAIPassthrough } from './openai-passthrough.js';
import type { ChatTranslator } from './types.js';

const CHAT_TRANSLATORS: Partial<Record<Protocol, ChatTranslator>> = {
  openai: openAIPassthrough,
  anthropic: openAIAnthropic,
  gemini: openAIGemini,
  cohere: openAICohere,
};

export function chatTranslatorFor(protocol: Protocol): ChatTranslator | undefined {
  return CHAT_TRANSLATORS[protocol];
}
