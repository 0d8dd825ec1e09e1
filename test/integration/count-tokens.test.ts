// POST /v1/messages/count_tokens end to end: the official Anthropic SDK's messages.countTokens
// against the real gateway. An Anthropic upstream counts itself (the body passed through with only
// `model` rewritten, the client's anthropic-version/-beta forwarded); a Gemini upstream counts the
// translated request with models.countTokens; an OpenAI-protocol target gets a local BPE estimate,
// said so in x-ai-proxy-token-count, logged without an upstream call.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MESSAGE_OVERHEAD, REPLY_PRIMING, TOOL_OVERHEAD } from '../../src/tokens/messages-pieces.js';
import { anthropicErrorBody, emulatedTokenCount, wordsIn } from '../support/emulator/anthropic-protocol.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const ANTHROPIC_KEY = 'sk-ant-count-secret-0001';
const OPENAI_KEY = 'sk-openai-count-secret-0001';
const GEMINI_KEY = 'AIza-gemini-count-secret-0001';

// Claude Code's names sent elsewhere, as a user maps them.
const CONFIG = `model_mappings:
  "claude-sonnet-4-5-20250929": "anthropic:claude-sonnet-4-5"
  "claude-haiku-*": "openai:gpt-4o"
  "claude-opus-4-1": "gemini:gemini-2.5-flash"
`;

const FOX = 'The quick brown fox jumps over the lazy dog.'; // 10 o200k_base tokens
const TERSE = 'You are a terse assistant.'; // 6

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the weather for a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};

describe('POST /v1/messages/count_tokens', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let client: Anthropic;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        ANTHROPIC_API_KEY: ANTHROPIC_KEY,
        ANTHROPIC_BASE_URL: `${upstream.url}/v1`,
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        GEMINI_API_KEY: GEMINI_KEY,
        GEMINI_BASE_URL: `${upstream.url}/v1beta`,
      },
      files: { 'config.yml': CONFIG },
    });
    client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('Anthropic upstream: its own count, the body as sent with only model rewritten', async () => {
    const params = {
      model: 'claude-sonnet-4-5-20250929',
      system: [{ type: 'text' as const, text: TERSE, cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: FOX }],
      tools: [WEATHER_TOOL],
    };
    const { data, response } = await client.messages.countTokens(params).withResponse();
    expect(data).toEqual({ input_tokens: emulatedTokenCount(params) });
    expect(response.headers.get('x-ai-proxy-token-count')).toBe('exact; provider=anthropic');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('anthropic');
    expect(response.headers.get('x-ai-proxy-model')).toBe('claude-sonnet-4-5');
    expect(response.headers.get('request-id')).toMatch(/\S/);

    expect(upstream.requests).toHaveLength(1);
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1/messages/count_tokens');
    expect(seen?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(seen?.rawBody).toBe(JSON.stringify({ ...params, model: 'claude-sonnet-4-5' }));
  });

  it('Anthropic upstream: the client’s anthropic-version and anthropic-beta are forwarded', async () => {
    const data = await client.beta.messages.countTokens(
      {
        model: 'anthropic:claude-sonnet-4-5',
        messages: [{ role: 'user', content: FOX }],
        betas: ['token-efficient-tools-2025-02-19', 'context-1m-2025-08-07'],
      },
      { headers: { 'anthropic-version': '2099-01-01' } },
    );
    expect(data.input_tokens).toBe(wordsIn([{ role: 'user', content: FOX }]) + 7);
    const [seen] = upstream.requests;
    expect(seen?.headers['anthropic-version']).toBe('2099-01-01');
    // As the SDK sent it (this SDK adds its own token-counting beta after the caller's).
    expect(seen?.headers['anthropic-beta']).toMatch(
      /^token-efficient-tools-2025-02-19,context-1m-2025-08-07(,[\w-]+)*$/,
    );
  });

  it('Anthropic upstream: its error is relayed in its own shape', async () => {
    upstream.enqueue({
      kind: 'error',
      status: 400,
      body: anthropicErrorBody(400, 'prompt is too long: 250000 tokens > 200000 maximum'),
    });
    const error = await client.messages
      .countTokens({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: FOX }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const apiError = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(apiError.status).toBe(400);
    expect(apiError.message).toContain('prompt is too long');
  });

  it('OpenAI-protocol target: a local o200k_base estimate, no upstream call, logged', async () => {
    const { data, response } = await client.messages
      .countTokens({
        model: 'claude-haiku-4-5-20251001',
        system: TERSE,
        messages: [
          { role: 'user', content: FOX },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
          },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny, 21°C' }],
          },
        ],
        tools: [WEATHER_TOOL],
      })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ai-proxy-token-count')).toBe('estimate; tokenizer=o200k_base');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(response.headers.get('x-ai-proxy-model')).toBe('gpt-4o');
    expect(response.headers.get('request-id')).toMatch(/\S/);
    // o200k_base: TERSE 6, FOX 10, "get_weather" 2, {"city":"Paris"} 5, "Sunny, 21°C" 5, the tool
    // 2 + 6 + 19 for its name, description and schema.
    const expected =
      MESSAGE_OVERHEAD * 4 + 6 + 10 + (2 + 5) + 5 + (TOOL_OVERHEAD + 2 + 6 + 19) + REPLY_PRIMING;
    expect(data.input_tokens).toBe(expected);
    expect(upstream.requests).toHaveLength(0);

    const records = await gw.requestLog();
    const record = records.findLast((r) => r.endpoint === '/v1/messages/count_tokens');
    expect(record).toMatchObject({
      status: 200,
      model_requested: 'claude-haiku-4-5-20251001',
      model_mapped: 'gpt-4o',
      provider: 'openai',
      attempts: [],
    });
  });

  it('GPT-4 targets are counted with cl100k_base', async () => {
    const { data, response } = await client.messages
      .countTokens({ model: 'openai:gpt-4', messages: [{ role: 'user', content: FOX }] })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-token-count')).toBe('estimate; tokenizer=cl100k_base');
    expect(data.input_tokens).toBe(MESSAGE_OVERHEAD + 10 + REPLY_PRIMING);
  });

  it('Gemini target: Gemini counts the translated request with models.countTokens', async () => {
    const { data, response } = await client.messages
      .countTokens({
        model: 'claude-opus-4-1',
        system: TERSE,
        messages: [{ role: 'user', content: FOX }],
        tools: [WEATHER_TOOL],
      })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-token-count')).toBe('exact; provider=gemini');
    expect(response.headers.get('x-ai-proxy-model')).toBe('gemini-2.5-flash');

    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1beta/models/gemini-2.5-flash:countTokens');
    expect(seen?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    const sent = (seen?.body as { generateContentRequest: Record<string, unknown> } | undefined)
      ?.generateContentRequest;
    if (sent === undefined) throw new Error('no generateContentRequest sent');
    expect(sent.model).toBe('models/gemini-2.5-flash');
    expect(JSON.stringify(sent.systemInstruction)).toContain(TERSE);
    expect(JSON.stringify(sent.contents)).toContain(FOX);
    expect(JSON.stringify(sent.tools)).toContain('get_weather');
    const { model: _model, generationConfig: _config, ...counted } = sent;
    expect(data.input_tokens).toBe(wordsIn(counted) + 3);
  });

  it('bad input is a 400 in Anthropic’s shape naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: 'openai:gpt-4o' }, 'messages'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: 'openai:gpt-4o', messages: [{ role: 'system', content: 'hi' }] }, 'messages[0].role'],
      [{ model: 'openai:gpt-4o', messages: 'hi' }, 'messages'],
    ];
    for (const [body, field] of cases) {
      const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: {
          'x-api-key': CLIENT_KEY,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify(body),
      });
      expect(res.status, field).toBe(400);
      const json = (await res.json()) as { type?: string; error?: { type?: string; message?: string } };
      expect(json.type, field).toBe('error');
      expect(json.error?.type, field).toBe('invalid_request_error');
      expect(json.error?.message, field).toContain(`'${field}'`);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('the SDK sees a bad request as BadRequestError', async () => {
    const error = await client.messages
      .countTokens({ model: 'openai:gpt-4o', messages: [{ role: 'user', content: 42 as unknown as string }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain('messages[0].content');
  });

  it('needs a client key like every route', async () => {
    const stranger = new Anthropic({ baseURL: gw.url, apiKey: 'wrong-key', maxRetries: 0 });
    const error = await stranger.messages
      .countTokens({ model: 'openai:gpt-4o', messages: [{ role: 'user', content: FOX }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});
