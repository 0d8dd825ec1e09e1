// Which embeddings translator serves a protocol; the others answer 501 through the attempt loop.
import type { Protocol } from '../../providers/registry.js';
import type { ChatTranslator } from '../types.js';
import { cohereEmbeddings } from './cohere-embeddings.js';
import { geminiEmbeddings } from './gemini-embeddings.js';
import { openAIEmbeddings } from './openai-embeddings.js';

const EMBEDDINGS_TRANSLATORS: Partial<Record<Protocol, ChatTranslator>> = {
  openai: openAIEmbeddings,
  gemini: geminiEmbeddings,
  cohere: cohereEmbeddings,
};

export function embeddingsTranslatorFor(protocol: Protocol): ChatTranslator | undefined {
  return EMBEDDINGS_TRANSLATORS[protocol];
}
