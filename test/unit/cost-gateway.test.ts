// Cost end to end, per provider usage shape with cached and reasoning tokens, whole and streamed:
// the real gateway in front of the provider emulator (which sends test/fixtures/cost/<shape>/ as
// recorded), called with the official openai and Anthropic SDKs on all three inbound dialects.
// Each expected cost is worked out here by hand from the fixture's token counts and the prices
// below; the gateway must put it in x-ai-proxy-cost (whole answers) and in the log record.
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';
import { FIXTURES, readText } from '../support/golden.js';

// Dollars per 1k tokens. Reasoning is priced apart from the rest of the output where a rate is
// set, so a reasoning token counted twice (or not split off) shows in the dollars.
const CONFIG = `prices:
  openai:gpt-5-mini: { prompt_1k: 0.002, completion_1k: 0.01, cache_read_1k: 0.0005, reasoning_1k: 0.02 }
  anthropic:claude-sonnet-4-5: { prompt_1k: 0.003, completion_1k: 0.015, cache_read_1k: 0.0003, cache_write_1k: 0.00375 }
  gemini:gemini-2.5-flash: { prompt_1k: 0.0003, completion_1k: 0.0025, cache_read_1k: 0.00003, reasoning_1k: 0.0035 }
  cohere:command-a-03-2025: { prompt_1k: 0.0025, completion_1k: 0.01 }
`;

/** Dollars rounded to a millionth, as the gateway rounds them. */
const round = (dollars: number): number => Math.round(dollars * 1e6) / 1e6;

// OpenAI: prompt 2000 of which 1500 cached; completion 500 of which 300 reasoning.
//   500 × 0.002 + 1500 × 0.0005 + 200 × 0.01 + 300 × 0.02 = 1 + 0.75 + 2 + 6 = 9.75 per 1k
const OPENAI = round((500 * 0.002 + 1500 * 0.0005 + 200 * 0.01 + 300 * 0.02) / 1000);
// Anthropic: input_tokens 50 (the cache left out), cache writes 200, cache reads 1000, output 400.
//   50 × 0.003 + 200 × 0.00375 + 1000 × 0.0003 + 400 × 0.015 = 0.15 + 0.75 + 0.3 + 6 = 7.2 per 1k
const ANTHROPIC = round((50 * 0.003 + 200 * 0.00375 + 1000 * 0.0003 + 400 * 0.015) / 1000);
// Gemini: promptTokenCount 1200 INCLUDES the 1000 cached; candidates 100 EXCLUDE the 300 thoughts.
//   200 × 0.0003 + 1000 × 0.00003 + 100 × 0.0025 + 300 × 0.0035 = 0.06 + 0.03 + 0.25 + 1.05 per 1k
const GEMINI = round((200 * 0.0003 + 1000 * 0.00003 + 100 * 0.0025 + 300 * 0.0035) / 1000);
// Cohere: billed_units 120 in, 80 out (tokens 1500/90 and cached_tokens are not what is charged).
//   120 × 0.0025 + 80 × 0.01 = 0.3 + 0.8 per 1k
const COHERE = round((120 * 0.0025 + 80 * 0.01) / 1000);

interface Shape {
  model: string;
  /** The fixture folder under test/fixtures/cost/. */
  folder: string;
  expected: number;
}

const SHAPES: Record<string, Shape> = {
  openai: { model: 'openai:gpt-5-mini', folder: 'openai', expected: OPENAI },
  anthropic: { model: 'anthropic:claude-sonnet-4-5', folder: 'anthropic', expected: ANTHROPIC },
  gemini: { model: 'gemini:gemini-2.5-flash', folder: 'gemini', expected: GEMINI },
  cohere: { model: 'cohere:command-a-03-2025', folder: 'cohere', expected: COHERE },
};

const HI = [{ role: 'user' as const, content: 'Capital of France?' }];

describe('cost per provider usage shape, whole and streamed, on every dialect', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: 'sk-cost-openai-0001',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        ANTHROPIC_API_KEY: 'sk-ant-cost-0002',
        ANTHROPIC_BASE_URL: upstream.url,
        GEMINI_API_KEY: 'gemini-cost-0003',
        GEMINI_BASE_URL: `${upstream.url}/v1beta`,
        COHERE_API_KEY: 'cohere-cost-0004',
        COHERE_BASE_URL: upstream.url,
        RETRY_PER_TARGET: '0',
      },
      files: { 'config.yml': CONFIG },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  function answerWith(folder: string, stream: boolean): void {
    const file = join(FIXTURES, 'cost', folder, stream ? 'stream.txt' : 'answer.json');
    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
      body: readText(file),
    });
  }

  /** The cost of the newest record of this endpoint and stream flag, once the log is flushed. */
  async function loggedCost(endpoint: string, stream: boolean): Promise<unknown> {
    const records = await gw.requestLog();
    const record = records.findLast((r) => r.endpoint === endpoint && r.stream === stream);
    expect(record?.status, JSON.stringify(record?.error)).toBe(200);
    return record?.cost;
  }

  describe.each(Object.entries(SHAPES))('%s usage', (_name, shape) => {
    it('chat completions: x-ai-proxy-cost and the record, whole', async () => {
      answerWith(shape.folder, false);
      const { response } = await gw
        .client()
        .chat.completions.create({ model: shape.model, messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-cost')).toBe(shape.expected.toFixed(6));
      expect(await loggedCost('/v1/chat/completions', false)).toBe(shape.expected);
    });

    it('chat completions: the record of a stream with include_usage', async () => {
      answerWith(shape.folder, true);
      const stream = await gw.client().chat.completions.create({
        model: shape.model,
        messages: HI,
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: unknown;
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      expect(usage).toBeTruthy();
      expect(await loggedCost('/v1/chat/completions', true)).toBe(shape.expected);
    });

    it('messages: x-ai-proxy-cost and the record, whole and streamed', async () => {
      const client = new Anthropic({ apiKey: CLIENT_KEY, baseURL: gw.url, maxRetries: 0 });
      answerWith(shape.folder, false);
      const { response } = await client.messages
        .create({ model: shape.model, max_tokens: 256, messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-cost')).toBe(shape.expected.toFixed(6));
      expect(await loggedCost('/v1/messages', false)).toBe(shape.expected);

      answerWith(shape.folder, true);
      await client.messages.stream({ model: shape.model, max_tokens: 256, messages: HI }).finalMessage();
      expect(await loggedCost('/v1/messages', true)).toBe(shape.expected);
    });

    it('responses: x-ai-proxy-cost and the record, whole and streamed', async () => {
      // OpenAI serves the Responses API itself: its Response shape, passed through.
      const folder = shape.folder === 'openai' ? 'openai-responses' : shape.folder;
      answerWith(folder, false);
      const { response } = await gw
        .client()
        .responses.create({ model: shape.model, input: 'Capital of France?', store: false })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-cost')).toBe(shape.expected.toFixed(6));
      expect(await loggedCost('/v1/responses', false)).toBe(shape.expected);

      answerWith(folder, true);
      const stream = await gw
        .client()
        .responses.create({ model: shape.model, input: 'Capital of France?', store: false, stream: true });
      for await (const _event of stream) {
        // drained
      }
      expect(await loggedCost('/v1/responses', true)).toBe(shape.expected);
    });
  });
});
