// Usage read in every shape the log keeps (OpenAI chat and embeddings, Anthropic Messages, OpenAI
// Responses) and its cost, with cache reads and writes at their own rates when the config gives
// them and at the prompt rate when it does not; the config's `prices` fields as loaded.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { costOf, readUsage } from '../../src/usage/pricing.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('readUsage', () => {
  it('reads OpenAI chat usage, cached and reasoning tokens included', () => {
    expect(
      readUsage({
        prompt_tokens: 1200,
        completion_tokens: 300,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 1000, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 120 },
      }),
    ).toEqual({
      promptTokens: 1200,
      completionTokens: 300,
      totalTokens: 1500,
      cachedReadTokens: 1000,
      reasoningTokens: 120,
    });
  });

  it('keeps a plain usage to its three counts, and an embeddings usage without completion', () => {
    expect(readUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })).toEqual({
      promptTokens: 10,
      completionTokens: 5,
      totalTokens: 15,
    });
    expect(readUsage({ prompt_tokens: 8, total_tokens: 8 })).toEqual({
      promptTokens: 8,
      completionTokens: 0,
      totalTokens: 8,
    });
    expect(readUsage({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
    });
  });

  it('reads cache writes an OpenAI-compatible provider reports, and DeepSeek cache hits', () => {
    expect(
      readUsage({
        prompt_tokens: 500,
        completion_tokens: 10,
        total_tokens: 510,
        prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 300 },
      }),
    ).toMatchObject({ promptTokens: 500, cachedReadTokens: 100, cacheWriteTokens: 300 });
    expect(
      readUsage({
        prompt_tokens: 64,
        completion_tokens: 4,
        total_tokens: 68,
        prompt_cache_hit_tokens: 48,
        prompt_cache_miss_tokens: 16,
      }),
    ).toMatchObject({ promptTokens: 64, cachedReadTokens: 48 });
  });

  it('reads Anthropic usage: input_tokens leaves the cache out, the prompt adds it back', () => {
    expect(
      readUsage({
        input_tokens: 50,
        cache_creation_input_tokens: 200,
        cache_read_input_tokens: 400,
        cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 0 },
        output_tokens: 80,
        output_tokens_details: { thinking_tokens: 41 },
        service_tier: 'standard',
      }),
    ).toEqual({
      promptTokens: 650,
      completionTokens: 80,
      totalTokens: 730,
      cachedReadTokens: 400,
      cacheWriteTokens: 200,
      reasoningTokens: 41,
    });
    // No cache fields at all (older answers, translated ones) and nulls: plain counts.
    expect(readUsage({ input_tokens: 8, output_tokens: 1 })).toEqual({
      promptTokens: 8,
      completionTokens: 1,
      totalTokens: 9,
    });
    expect(
      readUsage({
        input_tokens: 8,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
        output_tokens: 3,
      }),
    ).toEqual({ promptTokens: 8, completionTokens: 3, totalTokens: 11 });
  });

  it('reads OpenAI Responses usage, whose input_tokens includes the cache', () => {
    expect(
      readUsage({
        input_tokens: 300,
        input_tokens_details: { cached_tokens: 200 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 320,
      }),
    ).toEqual({
      promptTokens: 300,
      completionTokens: 20,
      totalTokens: 320,
      cachedReadTokens: 200,
      reasoningTokens: 5,
    });
  });

  it('finds no usage where there is none', () => {
    expect(readUsage(undefined)).toBeUndefined();
    expect(readUsage(null)).toBeUndefined();
    expect(readUsage({})).toBeUndefined();
    expect(readUsage('12')).toBeUndefined();
  });
});

describe('costOf', () => {
  const anthropic = readUsage({
    input_tokens: 1000,
    cache_creation_input_tokens: 2000,
    cache_read_input_tokens: 10_000,
    output_tokens: 500,
  })!;

  it('prices cache reads and writes at their own rates', () => {
    const price = { prompt1k: 0.003, completion1k: 0.015, cacheRead1k: 0.0003, cacheWrite1k: 0.00375 };
    // 1000 × 0.003 + 10000 × 0.0003 + 2000 × 0.00375 + 500 × 0.015, per 1k
    expect(costOf(price, anthropic)).toBe(0.021);
  });

  it('prices every prompt token at the prompt rate when no cache rate is given', () => {
    const price = { prompt1k: 0.003, completion1k: 0.015 };
    expect(costOf(price, anthropic)).toBe(0.0465);
  });

  it('defaults a missing cache rate to the prompt rate, never to a discount', () => {
    // Only reads are discounted: writes cost the prompt rate.
    const price = { prompt1k: 0.003, completion1k: 0.015, cacheRead1k: 0.0003 };
    expect(costOf(price, anthropic)).toBe(0.0195);
  });

  it('prices an OpenAI chat usage with cached tokens by the same rule', () => {
    const usage = readUsage({
      prompt_tokens: 2000,
      completion_tokens: 100,
      total_tokens: 2100,
      prompt_tokens_details: { cached_tokens: 1500 },
    })!;
    expect(costOf({ prompt1k: 0.0025, completion1k: 0.01, cacheRead1k: 0.00125 }, usage)).toBe(0.004125);
    expect(costOf({ prompt1k: 0.0025, completion1k: 0.01 }, usage)).toBe(0.006);
  });

  it('never prices a negative uncached part, nor more cached tokens than the prompt had', () => {
    const odd = { promptTokens: 10, completionTokens: 0, totalTokens: 10, cachedReadTokens: 50 };
    expect(costOf({ prompt1k: 1, completion1k: 1, cacheRead1k: 0.1 }, odd)).toBe(0.001);
  });
});

describe('the prices config', () => {
  function load(yaml: string) {
    const dir = makeTempDir('ai-proxy-prices-');
    dirs.push(dir);
    writeFiles(dir, { 'config.yml': yaml });
    return loadConfig({ cwd: dir, env: {} });
  }

  it('reads cache_read_1k and cache_write_1k, and leaves them out when not given', () => {
    const config = load(
      [
        'prices:',
        '  claude-sonnet-4-5: { prompt_1k: 0.003, completion_1k: 0.015, cache_read_1k: 0.0003, cache_write_1k: 0.00375 }',
        '  gpt-4o-mini: { prompt_1k: 0.00015, completion_1k: 0.0006 }',
        '',
      ].join('\n'),
    );
    expect(config.prices.get('claude-sonnet-4-5')).toEqual({
      prompt1k: 0.003,
      completion1k: 0.015,
      cacheRead1k: 0.0003,
      cacheWrite1k: 0.00375,
    });
    expect(config.prices.get('gpt-4o-mini')).toStrictEqual({ prompt1k: 0.00015, completion1k: 0.0006 });
  });

  it('refuses a negative cache rate', () => {
    expect(() => load('prices:\n  m: { prompt_1k: 1, completion_1k: 1, cache_read_1k: -1 }\n')).toThrow(
      ConfigError,
    );
  });
});
