// What a request cost: prices per 1k prompt and completion tokens, from the config's `prices`
// (by `provider:model`, the upstream model, or the model asked for) and then from the model
// catalog when one is loaded. No price known: cost is null, never a guess.
import type { Config, Price } from '../config/types.js';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface PriceSource {
  priceOf(model: string): Price | undefined;
  /** False while the source has nothing (a catalog not configured or not loaded yet). */
  readonly hasModels: boolean;
}

export class Pricing {
  /** Extra sources (the catalog) consulted after the config's own prices. */
  private readonly sources: PriceSource[] = [];

  constructor(private config: Config) {}

  update(config: Config): void {
    this.config = config;
  }

  addSource(source: PriceSource): void {
    this.sources.push(source);
  }

  /** Whether no price could be found at all: lets the hot path skip the lookup and the usage. */
  get empty(): boolean {
    if (this.config.prices.size > 0) return false;
    for (const source of this.sources) if (source.hasModels) return false;
    return true;
  }

  priceFor(provider: string | null, model: string | null, requested: string | null): Price | undefined {
    if (this.empty) return undefined;
    const prices = this.config.prices;
    const found =
      (provider !== null && model !== null ? prices.get(`${provider}:${model}`) : undefined) ??
      (model !== null ? prices.get(model) : undefined) ??
      (requested !== null ? prices.get(requested) : undefined);
    if (found !== undefined) return found;
    for (const source of this.sources) {
      const price =
        (requested !== null ? source.priceOf(requested) : undefined) ??
        (model !== null ? source.priceOf(model) : undefined);
      if (price !== undefined) return price;
    }
    return undefined;
  }
}

/** Reads OpenAI-shaped usage (chat or embeddings); undefined when there is none. */
export function readUsage(usage: unknown): TokenUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const u = usage as Record<string, unknown>;
  const prompt = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion;
  if (prompt === 0 && completion === 0 && total === 0 && u.total_tokens === undefined) return undefined;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total };
}

/** Dollars, rounded to a millionth. */
export function costOf(price: Price, usage: TokenUsage): number {
  const cost =
    (usage.promptTokens / 1000) * price.prompt1k + (usage.completionTokens / 1000) * price.completion1k;
  return Math.round(cost * 1e6) / 1e6;
}
