// Which providers count a count_tokens request themselves, and with which translator: Anthropic's
// own endpoint and Gemini's countTokens. Every other protocol has no count endpoint; the route
// estimates locally for those (src/tokens/).
import type { ProviderConfig } from '../../config/types.js';
import type { Protocol } from '../../providers/registry.js';
import type { ChatTranslator } from '../types.js';
import { countTokensAnthropic } from './anthropic.js';
import { countTokensGemini } from './gemini.js';

interface Counter {
  translator: ChatTranslator;
  /**
   * The count can go to a provider that names its exact endpoint (a catalog handle): only when the
   * count is a Google-style `:method`, which replaces the handle's own. An Anthropic handle is the
   * Messages endpoint itself, with no count path beside it.
   */
  fixedPath: boolean;
}

const COUNTERS: Partial<Record<Protocol, Counter>> = {
  anthropic: { translator: countTokensAnthropic, fixedPath: false },
  gemini: { translator: countTokensGemini, fixedPath: true },
};

/** The count translator for a protocol, for the attempt loop; undefined: no upstream count. */
export function countTokensTranslatorFor(protocol: Protocol): ChatTranslator | undefined {
  return COUNTERS[protocol]?.translator;
}

/** Whether this provider can answer a count itself. */
export function countsUpstream(provider: ProviderConfig): boolean {
  const counter = COUNTERS[provider.protocol];
  if (counter === undefined) return false;
  return provider.fixedPath === undefined || counter.fixedPath;
}
