// Which translator serves image generation for a protocol. Protocols without one (anthropic,
// gemini, cohere) answer 501 from the attempt loop, naming the operation.
import type { Protocol } from '../../providers/registry.js';
import type { ChatTranslator } from '../types.js';
import { ideogramImages } from './ideogram-images.js';
import { openAIImages } from './openai-images.js';

const IMAGE_TRANSLATORS: Partial<Record<Protocol, ChatTranslator>> = {
  openai: openAIImages,
  ideogram: ideogramImages,
};

export function imageTranslatorFor(protocol: Protocol): ChatTranslator | undefined {
  return IMAGE_TRANSLATORS[protocol];
}
