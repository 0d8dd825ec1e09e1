// What a request cost: prices per 1k prompt and completion tokens (and, when given, per 1k cache
// read and cache write tokens), from the config's `prices` (by `provider:model`, the upstream
// model, or the model asked for) and then from the model catalog when one is loaded. No price
// known: cost is null, never a guess. Usage is read in both wire shapes the log keeps: OpenAI's
// (chat, embeddings, Responses) and Anthropic's Messages.
import type { Config, Price } from '../config/types.js';

export interface TokenUsage {
  /** Every input token, cached ones included (OpenAI's prompt_tokens). */
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Of promptTokens, those read from the provider's prompt cache. */
  cachedReadTokens?: number;
  /** Of promptTokens, those written to the provider's prompt cache. */
  cacheWriteTokens?: number;
  /** Of completionTokens, those spent on reasoning (thinking), where the answer says. */
  reasoningTokens?: number;
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

/** A token count: a finite non-negative number, else 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** Sets the optional counts that are not zero, so a plain usage stays three fields. */
function withDetails(
  usage: TokenUsage,
  cachedRead: number,
  cacheWrite: number,
  reasoning: number,
): TokenUsage {
  if (cachedRead > 0) usage.cachedReadTokens = cachedRead;
  if (cacheWrite > 0) usage.cacheWriteTokens = cacheWrite;
  if (reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/**
 * Anthropic's usage: input_tokens EXCLUDES the cache (all input = input + cache_creation +
 * cache_read); output_tokens includes thinking, whose share comes as
 * output_tokens_details.thinking_tokens where the model reports it.
 */
function readAnthropicUsage(u: Record<string, unknown>): TokenUsage {
  const cacheWrite = count(u.cache_creation_input_tokens);
  const cachedRead = count(u.cache_read_input_tokens);
  const prompt = count(u.input_tokens) + cacheWrite + cachedRead;
  const completion = count(u.output_tokens);
  const reasoning = count(asRecord(u.output_tokens_details)?.thinking_tokens);
  return withDetails(
    { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion },
    cachedRead,
    cacheWrite,
    reasoning,
  );
}

/**
 * OpenAI's Responses usage: input_tokens INCLUDES the cached ones
 * (input_tokens_details.cached_tokens), with a total_tokens, which Anthropic never sends.
 */
function readResponsesUsage(u: Record<string, unknown>): TokenUsage {
  const prompt = count(u.input_tokens);
  const completion = count(u.output_tokens);
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion;
  return withDetails(
    { promptTokens: prompt, completionTokens: completion, totalTokens: total },
    count(asRecord(u.input_tokens_details)?.cached_tokens),
    0,
    count(asRecord(u.output_tokens_details)?.reasoning_tokens),
  );
}

/**
 * Usage in any shape the gateway carries; undefined when there is none. OpenAI chat and
 * embeddings: prompt_tokens counts cached tokens too (prompt_tokens_details.cached_tokens, and
 * cache_write_tokens where a provider reports writes; DeepSeek's prompt_cache_hit_tokens);
 * Anthropic Messages: input_tokens + cache_creation_input_tokens + cache_read_input_tokens.
 */
export function readUsage(usage: unknown): TokenUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const u = usage as Record<string, unknown>;
  if (u.prompt_tokens === undefined && (u.input_tokens !== undefined || u.output_tokens !== undefined)) {
    return u.total_tokens !== undefined || u.input_tokens_details !== undefined
      ? readResponsesUsage(u)
      : readAnthropicUsage(u);
  }
  const prompt = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion;
  if (prompt === 0 && completion === 0 && total === 0 && u.total_tokens === undefined) return undefined;
  const tokens: TokenUsage = { promptTokens: prompt, completionTokens: completion, totalTokens: total };
  const promptDetails = asRecord(u.prompt_tokens_details);
  const completionDetails = asRecord(u.completion_tokens_details);
  // Nothing more to read in a plain usage (embeddings, most chat answers).
  if (
    promptDetails === undefined &&
    completionDetails === undefined &&
    u.prompt_cache_hit_tokens === undefined
  )
    return tokens;
  return withDetails(
    tokens,
    count(promptDetails?.cached_tokens) || count(u.prompt_cache_hit_tokens),
    count(promptDetails?.cache_write_tokens),
    count(completionDetails?.reasoning_tokens),
  );
}

/**
 * Dollars, rounded to a millionth. Cached tokens are priced at the cache rates when the price has
 * them; a price without them (the common case) prices every prompt token at the prompt rate, as
 * an unspecified cache rate defaults to the prompt rate (no discount is ever made up).
 */
export function costOf(price: Price, usage: TokenUsage): number {
  let cost: number;
  if (price.cacheRead1k === undefined && price.cacheWrite1k === undefined) {
    cost =
      (usage.promptTokens / 1000) * price.prompt1k + (usage.completionTokens / 1000) * price.completion1k;
  } else {
    const read = usage.cachedReadTokens ?? 0;
    const write = usage.cacheWriteTokens ?? 0;
    // A usage whose cache counts exceed its prompt (not a shape any provider sends) is priced as
    // if it had no uncached part, never at a negative one.
    const uncached = Math.max(0, usage.promptTokens - read - write);
    cost =
      (uncached / 1000) * price.prompt1k +
      (read / 1000) * (price.cacheRead1k ?? price.prompt1k) +
      (write / 1000) * (price.cacheWrite1k ?? price.prompt1k) +
      (usage.completionTokens / 1000) * price.completion1k;
  }
  return Math.round(cost * 1e6) / 1e6;
}
