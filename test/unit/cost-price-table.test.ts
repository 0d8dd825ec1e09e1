// The bundled price table (@pydantic/genai-prices) as the last price source: found by provider
// and upstream model (our `gemini` is the table's Google), dated names, per-1k rates with cache
// and tiers, the rate set in force at the time, nothing for a provider the table does not know;
// the order config > catalog > table; and costs that agree with the package's own calculation.
import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import type { Config, Price } from '../../src/config/types.js';
import { costOf } from '../../src/usage/cost.js';
import { PriceTable } from '../../src/usage/price-table.js';
import { type PriceSource, Pricing } from '../../src/usage/pricing.js';

function configWith(prices: Record<string, Price>, priceTable = true): Config {
  return { prices: new Map(Object.entries(prices)), priceTable } as unknown as Config;
}

describe('the price table', () => {
  const table = new PriceTable();

  it('prices a well-known model per 1k tokens, cache rates included', () => {
    const price = table.priceOf('gpt-4o-mini', 'openai');
    expect(price?.prompt1k).toBeCloseTo(0.15 / 1000, 12);
    expect(price?.completion1k).toBeCloseTo(0.6 / 1000, 12);
    expect(price?.cacheRead1k).toBeCloseTo(0.075 / 1000, 12);
    const claude = table.priceOf('claude-3-5-haiku-20241022', 'anthropic');
    expect(claude?.cacheWrite1k).toBeCloseTo(1 / 1000, 12);
    expect(claude?.cacheRead1k).toBeCloseTo(0.08 / 1000, 12);
  });

  it("finds our gemini provider in Google's table, with the long-prompt tier", () => {
    const price = table.priceOf('gemini-2.5-pro', 'gemini');
    expect(price?.prompt1k).toBeCloseTo(1.25 / 1000, 12);
    expect(price?.tiers?.map((tier) => tier.above)).toEqual([200_000]);
    expect(price?.tiers?.[0]?.prompt1k).toBeCloseTo(2.5 / 1000, 12);
    expect(price?.tiers?.[0]?.completion1k).toBeCloseTo(15 / 1000, 12);
    // A `models/` prefix is the same model.
    expect(table.priceOf('models/gemini-2.5-pro', 'gemini')).toEqual(price);
  });

  it('has no price without a provider, for a provider it does not know, or an unknown model', () => {
    expect(table.priceOf('gpt-4o-mini')).toBeUndefined();
    expect(table.priceOf('llama3', 'ollama')).toBeUndefined();
    expect(table.priceOf('no-such-model-anywhere', 'openai')).toBeUndefined();
  });

  it('takes the rate set in force at the time (DeepSeek off-peak hours)', () => {
    const at = (iso: string) => new PriceTable(() => new Date(iso)).priceOf('deepseek-chat', 'deepseek');
    const day = at('2025-06-02T10:00:00Z');
    const night = at('2025-06-02T20:00:00Z');
    expect(day).toBeDefined();
    expect(night).toBeDefined();
    // The table's own calculation at the same instants, for 1M input tokens.
    const dollars = (iso: string) =>
      calcPrice({ input_tokens: 1_000_000 }, 'deepseek-chat', {
        providerId: 'deepseek',
        timestamp: new Date(iso),
      })?.total_price;
    expect(day!.prompt1k * 1000).toBeCloseTo(dollars('2025-06-02T10:00:00Z')!, 9);
    expect(night!.prompt1k * 1000).toBeCloseTo(dollars('2025-06-02T20:00:00Z')!, 9);
  });

  it("agrees with the package's own calculation, cached, written, reasoning and tiered", () => {
    const cases: Array<{
      provider: string;
      table: string;
      model: string;
      usage: { input: number; read: number; write: number; output: number; reasoning: number };
    }> = [
      {
        provider: 'openai',
        table: 'openai',
        model: 'o3',
        usage: { input: 12_000, read: 8000, write: 0, output: 3000, reasoning: 2500 },
      },
      {
        provider: 'anthropic',
        table: 'anthropic',
        model: 'claude-sonnet-4-5',
        usage: { input: 9000, read: 6000, write: 2000, output: 700, reasoning: 0 },
      },
      {
        provider: 'anthropic',
        table: 'anthropic',
        model: 'claude-sonnet-4-5',
        usage: { input: 250_000, read: 100_000, write: 50_000, output: 4000, reasoning: 0 },
      },
      {
        provider: 'gemini',
        table: 'google',
        model: 'gemini-2.5-pro',
        usage: { input: 300_000, read: 120_000, write: 0, output: 5000, reasoning: 4000 },
      },
      {
        provider: 'cohere',
        table: 'cohere',
        model: 'command-a-03-2025',
        usage: { input: 120, read: 0, write: 0, output: 80, reasoning: 0 },
      },
    ];
    for (const { provider, table: tableId, model, usage } of cases) {
      const price = table.priceOf(model, provider);
      expect(price, `${provider}:${model}`).toBeDefined();
      const ours = costOf(price!, {
        promptTokens: usage.input,
        completionTokens: usage.output,
        totalTokens: usage.input + usage.output,
        cachedReadTokens: usage.read,
        cacheWriteTokens: usage.write,
        reasoningTokens: usage.reasoning,
      });
      const theirs = calcPrice(
        {
          input_tokens: usage.input,
          cache_read_tokens: usage.read,
          cache_write_tokens: usage.write,
          output_tokens: usage.output,
          output_reasoning_tokens: usage.reasoning,
        },
        model,
        { providerId: tableId },
      );
      expect(ours, `${provider}:${model} ${JSON.stringify(usage)}`).toBeCloseTo(theirs!.total_price, 6);
    }
  });
});

describe('price sources in order', () => {
  const catalog: PriceSource = {
    hasModels: true,
    priceOf: (model) => (model === 'gpt-4o-mini' ? { prompt1k: 9, completion1k: 9 } : undefined),
  };

  it('takes the config first, then the catalog, then the table', () => {
    const pricing = new Pricing(configWith({ 'openai:o3': { prompt1k: 1, completion1k: 2 } }));
    pricing.addSource(catalog);
    expect(pricing.priceFor('openai', 'o3', 'o3')).toEqual({ prompt1k: 1, completion1k: 2 });
    expect(pricing.priceFor('openai', 'gpt-4o-mini', 'gpt-4o-mini')).toEqual({
      prompt1k: 9,
      completion1k: 9,
    });
    expect(pricing.priceFor('openai', 'gpt-4o', 'gpt-4o')?.prompt1k).toBeCloseTo(2.5 / 1000, 12);
    expect(pricing.empty).toBe(false);
  });

  it('leaves the table out when price_table is off', () => {
    const pricing = new Pricing(configWith({}, false));
    expect(pricing.empty).toBe(true);
    expect(pricing.priceFor('openai', 'gpt-4o', 'gpt-4o')).toBeUndefined();
  });

  it('prices from the table only by the upstream model at its provider, never by an alias', () => {
    const pricing = new Pricing(configWith({}));
    // `fast` routed to groq's llama: the table knows the upstream model, not the alias.
    expect(pricing.priceFor('groq', 'llama-3.3-70b-versatile', 'fast')?.prompt1k).toBeCloseTo(
      0.59 / 1000,
      12,
    );
    expect(pricing.priceFor(null, null, 'gpt-4o')).toBeUndefined();
  });
});
