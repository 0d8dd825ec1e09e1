// The cost formula with every rate (uncached input, cache reads, cache writes, output, reasoning
// as a part of the output), long-prompt tiers, a Price through the log writer's bytes and back,
// and reasoning_1k / price_table in the config. Expected dollars are worked out by hand.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Price } from '../../src/config/types.js';
import { ByteBuffer } from '../../src/logs/byte-buffer.js';
import { costOf, readUsage } from '../../src/usage/cost.js';
import { readPrice, writePrice } from '../../src/usage/price-codec.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const FULL: Price = {
  prompt1k: 0.002,
  completion1k: 0.01,
  cacheRead1k: 0.0005,
  cacheWrite1k: 0.0025,
  reasoning1k: 0.02,
};

describe('costOf', () => {
  it('prices each kind of token once, at its own rate', () => {
    const usage = {
      promptTokens: 2000,
      completionTokens: 500,
      totalTokens: 2500,
      cachedReadTokens: 1200,
      cacheWriteTokens: 300,
      reasoningTokens: 200,
    };
    // 500 × 0.002 + 1200 × 0.0005 + 300 × 0.0025 + 300 × 0.01 + 200 × 0.02
    // = 1 + 0.6 + 0.75 + 3 + 4 = 9.35 per 1k
    expect(costOf(FULL, usage)).toBe(0.00935);
  });

  it('prices reasoning at the completion rate when no reasoning rate is given', () => {
    const usage = { promptTokens: 1000, completionTokens: 500, totalTokens: 1500, reasoningTokens: 400 };
    // 1000 × 0.001 + 500 × 0.004 = 1 + 2 per 1k: the 400 reasoning tokens are not added again
    expect(costOf({ prompt1k: 0.001, completion1k: 0.004 }, usage)).toBe(0.003);
  });

  it('reads an OpenAI usage with reasoning and never counts a reasoning token twice', () => {
    const usage = readUsage({
      prompt_tokens: 100,
      completion_tokens: 1000,
      total_tokens: 1100,
      completion_tokens_details: { reasoning_tokens: 900 },
    })!;
    // 100 × 0.002 + 100 × 0.01 + 900 × 0.02 = 0.2 + 1 + 18 per 1k
    expect(costOf(FULL, usage)).toBe(0.0192);
  });

  it('cuts reasoning and cache counts that exceed their whole', () => {
    const odd = {
      promptTokens: 10,
      completionTokens: 5,
      totalTokens: 15,
      cachedReadTokens: 8,
      cacheWriteTokens: 8,
      reasoningTokens: 50,
    };
    // reads 8, writes the 2 left, no uncached; reasoning 5, no plain output:
    // 8 × 0.0005 + 2 × 0.0025 + 5 × 0.02 = 0.004 + 0.005 + 0.1 per 1k
    expect(costOf(FULL, odd)).toBe(0.000109);
  });

  it('uses the rates of the last tier the prompt is past', () => {
    const price: Price = {
      prompt1k: 0.00125,
      completion1k: 0.01,
      tiers: [{ above: 200_000, prompt1k: 0.0025, completion1k: 0.015 }],
    };
    const small = { promptTokens: 200_000, completionTokens: 1000, totalTokens: 201_000 };
    const large = { promptTokens: 200_001, completionTokens: 1000, totalTokens: 201_001 };
    // 200000 × 0.00125 + 1000 × 0.01 = 250 + 10 per 1k
    expect(costOf(price, small)).toBe(0.26);
    // 200001 × 0.0025 + 1000 × 0.015 = 500.0025 + 15 per 1k
    expect(costOf(price, large)).toBe(0.515003);
  });
});

describe('a Price through the log writer bytes', () => {
  it('comes back with every rate and tier, and leaves out what was not given', () => {
    const prices: Price[] = [
      { prompt1k: 0.001, completion1k: 0.002 },
      FULL,
      { prompt1k: 0.003, completion1k: 0.015, cacheWrite1k: 0.00375 },
      {
        prompt1k: 0.003,
        completion1k: 0.015,
        cacheRead1k: 0.0003,
        tiers: [
          { above: 200_000, prompt1k: 0.006, completion1k: 0.0225, cacheRead1k: 0.0006 },
          { above: 1_000_000, prompt1k: 0.01, completion1k: 0.03, reasoning1k: 0.04 },
        ],
      },
    ];
    const out = new ByteBuffer(64);
    for (const price of prices) writePrice(out, price);
    out.f64(42); // whatever follows is found where it was
    const bytes = Buffer.from(out.bytes);
    let at = 0;
    for (const price of prices) {
      const read = readPrice(bytes, at);
      expect(read.price).toStrictEqual(price);
      at = read.end;
    }
    expect(bytes.readDoubleLE(at)).toBe(42);
  });
});

describe('the price config', () => {
  async function load(yaml: string, env: Record<string, string> = {}) {
    const dir = makeTempDir();
    dirs.push(dir);
    writeFiles(dir, { 'config.yml': yaml });
    return loadConfig({ cwd: dir, env });
  }

  it('reads reasoning_1k, and leaves it out when not given', async () => {
    const config = await load(`prices:
  o3: { prompt_1k: 0.002, completion_1k: 0.008, reasoning_1k: 0.01 }
  gpt-4o: { prompt_1k: 0.0025, completion_1k: 0.01 }
`);
    expect(config.prices.get('o3')).toEqual({ prompt1k: 0.002, completion1k: 0.008, reasoning1k: 0.01 });
    expect(config.prices.get('gpt-4o')).toEqual({ prompt1k: 0.0025, completion1k: 0.01 });
  });

  it('has the price table on unless price_table or PRICE_TABLE turns it off', async () => {
    expect((await load('{}\n')).priceTable).toBe(true);
    expect((await load('price_table: false\n')).priceTable).toBe(false);
    expect((await load('price_table: true\n', { PRICE_TABLE: 'false' })).priceTable).toBe(false);
  });
});
