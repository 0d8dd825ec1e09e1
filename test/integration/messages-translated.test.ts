// POST /v1/messages to providers that do not speak it: the official Anthropic SDK talks to the real
// gateway, which maps Claude model names elsewhere with model_mappings and translates through the
// OpenAI chat translators (OpenAI-compatible and Gemini upstreams, emulated).
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeCodeRequest } from '../support/claude-code-request.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const CONFIG = `model_mappings:
  "claude-opus-4-1": ["anthropic:claude-opus-4-1", "openai:gpt-5"]
  "claude-haiku-*": "gemini:gemini-2.5-flash"
  "claude-*": "openai:gpt-5"
`;

const TOOLS: Anthropic.Tool[] = [
  {
    name: 'get_weather',
    description: 'Current weather',
    input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
];

const TWO_CALLS = [
  { id: 'call_paris', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
  { id: 'call_rome', name: 'get_weather', arguments: '{"location":"Rome, Italy"}' },
];

describe('/v1/messages translated to other protocols', () => {
  let openai: ProviderEmulator;
  let gemini: ProviderEmulator;
  let anthropic: ProviderEmulator;
  let gw: TestGateway;
  let client: Anthropic;

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    gemini = await ProviderEmulator.start();
    anthropic = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        ANTHROPIC_API_KEY: 'sk-ant-secret-0001',
        ANTHROPIC_BASE_URL: `${anthropic.url}/v1`,
        OPENAI_API_KEY: 'sk-openai-secret-0001',
        OPENAI_BASE_URL: `${openai.url}/v1`,
        GEMINI_API_KEY: 'AIza-gemini-secret-0001',
        GEMINI_BASE_URL: `${gemini.url}/v1beta`,
      },
      files: { 'config.yml': CONFIG },
    });
    client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
  });
  afterAll(async () => {
    await gw?.stop();
    await openai?.close();
    await gemini?.close();
    await anthropic?.close();
  });
  beforeEach(() => {
    openai.reset();
    gemini.reset();
    anthropic.reset();
  });

  it('sends Claude Code’s model names to OpenAI and answers in Anthropic’s shape', async () => {
    openai.enqueue({
      kind: 'chat',
      content: 'Hello from GPT.',
      usage: { prompt_tokens: 11, completion_tokens: 4 },
    });
    const { data, response } = await client.messages
      .create({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 200,
        system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'Hi' }],
        stop_sequences: ['END'],
        metadata: { user_id: 'u-42' },
      })
      .withResponse();
    expect(data).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello from GPT.' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 11, output_tokens: 4 },
    });
    expect(data.model).toBe('claude-sonnet-4-5-20250929');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(response.headers.get('request-id')).toMatch(/\S/);

    const seen = openai.requests[0];
    expect(seen?.path).toBe('/v1/chat/completions');
    expect(seen?.headers.authorization).toBe('Bearer sk-openai-secret-0001');
    expect(seen?.body).toMatchObject({
      model: 'gpt-5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      stop: ['END'],
      user: 'u-42',
    });
  });

  it('runs a tool loop: tool_use out, tool_result back in', async () => {
    openai.enqueue({ kind: 'chat', toolCalls: TWO_CALLS, finishReason: 'tool_calls' });
    const first = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: TOOLS,
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    const uses = first.content.filter((block) => block.type === 'tool_use');
    expect(uses).toEqual([
      { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { location: 'Paris, France' } },
      { type: 'tool_use', id: 'call_rome', name: 'get_weather', input: { location: 'Rome, Italy' } },
    ]);

    openai.enqueue({ kind: 'chat', content: 'Sunny in Paris; Rome is unknown.' });
    const second = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'call_paris',
              content: [{ type: 'text', text: '22°C, sunny' }],
            },
            { type: 'tool_result', tool_use_id: 'call_rome', content: 'station offline', is_error: true },
          ],
        },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Sunny in Paris; Rome is unknown.' });
    const messages =
      (openai.requests[1]?.body as { messages: Array<Record<string, unknown>> } | undefined)?.messages ?? [];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    expect(messages[1]?.tool_calls).toHaveLength(2);
    expect(messages[2]).toMatchObject({ tool_call_id: 'call_paris' });
    expect(String(messages[2]?.content)).toContain('22°C, sunny');
    expect(messages[3]).toMatchObject({ tool_call_id: 'call_rome' });
    expect(String(messages[3]?.content)).toContain('station offline');
  });

  it('streams tool calls as their own blocks; finalMessage() holds every argument intact', async () => {
    openai.enqueue({
      kind: 'chat',
      content: 'Checking both.',
      toolCalls: TWO_CALLS,
      finishReason: 'tool_calls',
    });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: TOOLS,
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
    });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual(
      [
        { type: 'text', text: 'Checking both.', citations: null },
        { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { location: 'Paris, France' } },
        { type: 'tool_use', id: 'call_rome', name: 'get_weather', input: { location: 'Rome, Italy' } },
      ].map((block) =>
        block.type === 'text' ? expect.objectContaining({ type: 'text', text: block.text }) : block,
      ),
    );
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('message_delta');
    expect((openai.requests[0]?.body as Record<string, unknown> | undefined)?.stream_options).toEqual({
      include_usage: true,
    });
  });

  it('translates a Claude Code request for an OpenAI upstream, every tool call of the answer intact', async () => {
    const calls = [
      { id: 'call_read', name: 'Read', arguments: '{"path":"/repo/src/index.test.ts"}' },
      { id: 'call_write', name: 'Write', arguments: '{"path":"/repo/src/index.test.ts","command":"create"}' },
    ];
    openai.enqueue({ kind: 'chat', toolCalls: calls, finishReason: 'tool_calls' });
    const body = claudeCodeRequest('claude-sonnet-4-5-20250929');
    const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${CLIENT_KEY}`,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const inputs = new Map<number, string>();
    const blocks = new Map<number, Record<string, unknown>>();
    for (const frame of text.split('\n\n').filter((f) => f !== '')) {
      const data = JSON.parse(
        frame
          .split('\n')
          .find((line) => line.startsWith('data: '))!
          .slice(6),
      ) as Record<string, unknown>;
      if (data.type === 'content_block_start')
        blocks.set(data.index as number, data.content_block as Record<string, unknown>);
      const delta = data.delta as Record<string, unknown> | undefined;
      if (data.type === 'content_block_delta' && delta?.type === 'input_json_delta')
        inputs.set(
          data.index as number,
          (inputs.get(data.index as number) ?? '') + String(delta.partial_json),
        );
    }
    const uses = [...blocks.entries()].filter(([, block]) => block.type === 'tool_use');
    expect(uses.map(([, block]) => block.name)).toEqual(['Read', 'Write']);
    expect(uses.map(([index]) => JSON.parse(inputs.get(index) ?? ''))).toEqual(
      calls.map((c) => JSON.parse(c.arguments)),
    );
    expect(text).toContain('"stop_reason":"tool_use"');

    const sent = openai.requests[0]?.body as Record<string, unknown>;
    expect(sent.model).toBe('gpt-5');
    expect((sent.tools as unknown[]).length).toBe(20);
    expect(sent.user).toBe('user_4f2a_account_9c1e_session_77ab');
    const roles = (sent.messages as Array<{ role: string }>).map((m) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
  });

  it('sends claude-haiku names to Gemini: create and stream', async () => {
    gemini.enqueue({
      kind: 'chat',
      content: 'Hi from Gemini.',
      usage: { prompt_tokens: 6, completion_tokens: 4 },
    });
    const message = await client.messages.create({
      model: 'claude-haiku-4-5-20251001',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hi from Gemini.' })]);
    expect(message.usage).toMatchObject({ input_tokens: 6, output_tokens: 4 });
    expect(gemini.requests[0]?.path).toContain('gemini-2.5-flash:generateContent');

    gemini.enqueue({
      kind: 'chat',
      content: 'Looking it up.',
      toolCalls: [{ name: 'get_weather', arguments: '{"location":"Oslo"}' }],
      finishReason: 'STOP',
    });
    const final = await client.messages
      .stream({
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        tools: TOOLS,
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.find((block) => block.type === 'tool_use')).toMatchObject({
      name: 'get_weather',
      input: { location: 'Oslo' },
    });
    expect(gemini.requests[1]?.path).toContain(':streamGenerateContent');
  });

  it('refuses an Anthropic server tool for a provider that has none, naming it', async () => {
    const error = await client.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2 }],
        messages: [{ role: 'user', content: 'News?' }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.APIError>).message).toMatch(/web_search/);
    expect(openai.requests).toHaveLength(0);
  });

  it('ends a translated stream that breaks off with an Anthropic error event', async () => {
    openai.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    const text = await res.text();
    expect(text).toMatch(/^event: message_start\n/);
    expect(text).toMatch(
      /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"openai: the stream broke off[^"]*"\}\}\n\n$/,
    );
  });

  it('answers upstream refusals from OpenAI and Gemini in Anthropic’s shape, never their raw bodies', async () => {
    openai.enqueue({
      kind: 'error',
      status: 400,
      body: {
        error: {
          message: "Invalid 'messages[1].content': too long.",
          type: 'invalid_request_error',
          param: 'messages',
          code: null,
        },
      },
    });
    const refused = await client.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (refused as InstanceType<typeof Anthropic.APIError>).error as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((body.error as { message: string }).message).toContain('too long');
    expect(body.request_id).toEqual(expect.any(String));

    gemini.enqueue(
      { kind: 'error', status: 429, headers: { 'retry-after': '7' } },
      { kind: 'error', status: 429 },
    );
    const limited = await client.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'rate_limit_error' },
    });
    expect((limited as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toMatch(/^\d+$/);
  });

  it('falls back across protocols before the first byte: Anthropic overloaded, then OpenAI translated', async () => {
    for (let i = 0; i < 4; i++) anthropic.enqueue({ kind: 'error', status: 529 });
    openai.enqueue({ kind: 'chat', content: 'Answered by the fallback.' });
    const { data, response } = await client.messages
      .create({ model: 'claude-opus-4-1', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'Answered by the fallback.' });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(anthropic.requests.length).toBeGreaterThan(0);
    expect((openai.requests[0]?.body as Record<string, unknown> | undefined)?.model).toBe('gpt-5');
    const record = (await gw.requestLog()).findLast((r) => r.model_requested === 'claude-opus-4-1');
    const attempts = record?.attempts as Array<{ provider: string; outcome: string }>;
    expect(attempts.at(0)?.provider).toBe('anthropic');
    expect(attempts.at(-1)).toMatchObject({ provider: 'openai', outcome: 'ok' });
  });
});
