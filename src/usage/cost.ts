// What an answer cost: its usage read from whichever wire shape the client got (OpenAI chat and
// embeddings, Anthropic Messages, OpenAI Responses), split into uncached input, cache reads, cache
// writes, output and reasoning, each at its own rate. Kept apart from the price sources
// (pricing.ts) so that the log writer thread, which only works out costs, loads no price table.
import type { Price, PriceRates } from '../config/types.js';

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
 * (input_tokens_details.cached_tokens; cache_write_tokens where the gateway's bridge carried an
 * upstream's cache writes), with a total_tokens, which Anthropic never sends.
 */
function readResponsesUsage(u: Record<string, unknown>): TokenUsage {
  const prompt = count(u.input_tokens);
  const completion = count(u.output_tokens);
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : prompt + completion;
  const inputDetails = asRecord(u.input_tokens_details);
  return withDetails(
    { promptTokens: prompt, completionTokens: completion, totalTokens: total },
    count(inputDetails?.cached_tokens),
    count(inputDetails?.cache_write_tokens),
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

/** The rates for a prompt of this many tokens: the last tier it is past, else the base rates. */
export function ratesFor(price: Price, promptTokens: number): PriceRates {
  const tiers = price.tiers;
  if (tiers === undefined) return price;
  let rates: PriceRates = price;
  for (const tier of tiers) if (promptTokens > tier.above) rates = tier;
  return rates;
}

/**
 * Dollars, rounded to a millionth:
 *   uncached input × prompt + cache reads × cache read + cache writes × cache write
 *   + (output − reasoning) × completion + reasoning × reasoning.
 * Cached and reasoning tokens are parts of the prompt and completion counts (OpenAI's usage), so
 * each token is priced once. A rate not given is the prompt rate for the cache and the completion
 * rate for reasoning: no discount is ever made up. Counts that exceed their whole (no provider
 * sends that) are cut to it, so no token is charged twice or negatively.
 */
export function costOf(price: Price, usage: TokenUsage): number {
  const rates = ratesFor(price, usage.promptTokens);
  const prompt = usage.promptTokens;
  const read = Math.min(usage.cachedReadTokens ?? 0, prompt);
  const write = Math.min(usage.cacheWriteTokens ?? 0, prompt - read);
  const uncached = prompt - read - write;
  const completion = usage.completionTokens;
  const reasoning = Math.min(usage.reasoningTokens ?? 0, completion);
  const cost =
    uncached * rates.prompt1k +
    read * (rates.cacheRead1k ?? rates.prompt1k) +
    write * (rates.cacheWrite1k ?? rates.prompt1k) +
    (completion - reasoning) * rates.completion1k +
    reasoning * (rates.reasoning1k ?? rates.completion1k);
  return Math.round((cost / 1000) * 1e6) / 1e6;
}
