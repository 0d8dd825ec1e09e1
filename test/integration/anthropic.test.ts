// Chat completions through the Anthropic translator: the official OpenAI SDK talks to the real
// gateway, which talks to the emulator speaking (and as strictly checking) Anthropic's Messages API.
import { APIError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const ANTHROPIC_KEY = 'sk-ant-test';

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { location: { type: 'string' } },
  required: ['location'],
};

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      parameters: WEATHER_SCHEMA,
    },
  },
];

const TOOL_CALLS = [
  { id: 'toolu_paris', name: 'get_weather', arguments: '{"location":"Paris"}' },
  { id: 'toolu_rome', name: 'get_weather', arguments: '{"location":"Rome"}' },
];

describe('chat completions through the Anthropic translator', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: `${upstream.url}/v1` },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  function lastBody(): Record<string, unknown> {
    return upstream.requests.at(-1)?.body as Record<string, unknown>;
  }

  it('answers a chat, sending Anthropic headers, a top-level system and a default max_tokens', async () => {
    upstream.enqueue({
      kind: 'chat',
      content: 'Bonjour!',
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
    const { data, response } = await gw
      .client()
      .chat.completions.create({
        model: 'claude-3-5-haiku-latest',
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hi' },
        ],
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^msg_emu_/);
    expect(data.choices[0]?.message.content).toBe('Bonjour!');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('anthropic');
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBeNull();

    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1/messages');
    expect(seen?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(seen?.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.body).toEqual({
      model: 'claude-3-5-haiku-latest',
      system: 'Answer in French.',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4096,
    });
  });

  it('routes an explicit anthropic: prefix', async () => {
    const data = await gw.client().chat.completions.create({
      model: 'anthropic:claude-3-5-sonnet-latest',
      messages: [{ role: 'user', content: 'Hi' }],
      max_completion_tokens: 64,
    });
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model claude-3-5-sonnet-latest)');
    expect(lastBody()).toMatchObject({ model: 'claude-3-5-sonnet-latest', max_tokens: 64 });
  });

  it('streams text with a role chunk first, the finish reason, usage and [DONE]', async () => {
    const stream = await gw.client().chat.completions.create({
      model: 'claude-3-5-haiku-latest',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let first: unknown;
    let finish: string | null | undefined;
    let usage: unknown;
    for await (const chunk of stream) {
      first ??= chunk.choices[0]?.delta;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(first).toEqual({ role: 'assistant', content: '' });
    expect(text).toBe('Hello from emulator (model claude-3-5-haiku-latest)');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(lastBody()).toMatchObject({ stream: true });
    expect(lastBody()).not.toHaveProperty('stream_options');
  });

  it('no usage chunk without include_usage, and the raw stream ends with [DONE]', async () => {
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.client().apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-3-5-haiku-latest',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('"usage"');
    expect(text).not.toContain('event:');
  });

  it('returns tool calls, plain and streamed, with the Anthropic ids', async () => {
    upstream.enqueue({ kind: 'chat', toolCalls: TOOL_CALLS }, { kind: 'chat', toolCalls: TOOL_CALLS });
    const request = {
      model: 'claude-3-5-haiku-latest',
      messages: [{ role: 'user' as const, content: 'Weather in Paris and Rome?' }],
      tools: TOOLS,
      tool_choice: 'required' as const,
    };
    const plain = await gw.client().chat.completions.create(request);
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    expect(plain.choices[0]?.message.content).toBeNull();
    expect(plain.choices[0]?.message.tool_calls).toEqual([
      {
        id: 'toolu_paris',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
      },
      {
        id: 'toolu_rome',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Rome"}' },
      },
    ]);
    expect(lastBody()).toMatchObject({
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: WEATHER_SCHEMA }],
      tool_choice: { type: 'any' },
    });

    const stream = await gw.client().chat.completions.create({ ...request, stream: true });
    const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = calls[delta.index] ?? { arguments: '' };
        calls[delta.index] = call;
        if (delta.id !== undefined) call.id = delta.id;
        if (delta.function?.name !== undefined) call.name = delta.function.name;
        call.arguments += delta.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(calls).toEqual([
      { id: 'toolu_paris', name: 'get_weather', arguments: '{"location":"Paris"}' },
      { id: 'toolu_rome', name: 'get_weather', arguments: '{"location":"Rome"}' },
    ]);
  });

  it('sends a tool-result round trip as tool_use and merged tool_result turns', async () => {
    upstream.enqueue({ kind: 'chat', content: 'Sunny in both.' });
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: TOOL_CALLS.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
      },
      { role: 'tool', tool_call_id: 'toolu_paris', content: '21°C' },
      { role: 'tool', tool_call_id: 'toolu_rome', content: '25°C' },
    ];
    const data = await gw
      .client()
      .chat.completions.create({ model: 'claude-3-5-haiku-latest', messages, tools: TOOLS });
    expect(data.choices[0]?.message.content).toBe('Sunny in both.');
    expect(lastBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_paris', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'toolu_rome', name: 'get_weather', input: { location: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_paris', content: '21°C' },
          { type: 'tool_result', tool_use_id: 'toolu_rome', content: '25°C' },
        ],
      },
    ]);
  });

  it('sends images as base64 and url sources', async () => {
    const dataUri = 'data:image/png;base64,iVBORw0KGgo=';
    await gw.client().chat.completions.create({
      model: 'claude-3-5-haiku-latest',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: dataUri } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(lastBody().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('names dropped parameters in x-ai-proxy-dropped-params and merges extra_body', async () => {
    const { response } = await gw
      .client()
      .chat.completions.create({
        model: 'claude-3-5-haiku-latest',
        messages: [{ role: 'user', content: 'Hi' }],
        seed: 7,
        presence_penalty: 0.5,
        stop: 'END',
        user: 'u-1',
        // @ts-expect-error extra_body is a gateway extension the SDK types do not know
        extra_body: { top_k: 3 },
      })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBe('seed,presence_penalty');
    expect(lastBody()).toMatchObject({ stop_sequences: ['END'], metadata: { user_id: 'u-1' }, top_k: 3 });
    expect(lastBody()).not.toHaveProperty('seed');
  });

  it('passes an Anthropic 400 back with its status and message, not retried', async () => {
    const error = await gw
      .client()
      .chat.completions.create({
        model: 'claude-3-5-haiku-latest',
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 1.5,
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(400);
    expect(apiError.message).toContain('temperature: range: 0..1');
    expect(apiError.message).toContain('anthropic');
    expect(apiError.type).toBe('invalid_request_error');
    expect(JSON.stringify(apiError.error)).not.toContain(ANTHROPIC_KEY);
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses tool-call arguments that are not JSON with a 400 naming the field', async () => {
    const error = await gw
      .client()
      .chat.completions.create({
        model: 'claude-3-5-haiku-latest',
        messages: [
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
          { role: 'tool', tool_call_id: 't1', content: 'x' },
        ],
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).param).toBe('messages[1].tool_calls[0].function.arguments');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a mid-stream Anthropic error event reaches the client as an error', async () => {
    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body:
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","model":"claude-3-5-haiku-latest","usage":{"input_tokens":1,"output_tokens":1}}}\n\n' +
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    });
    const stream = await gw.client().chat.completions.create({
      model: 'claude-3-5-haiku-latest',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const read = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/Overloaded/);
  });
});

describe('the emulator speaks Anthropic as strictly as the real API', () => {
  let upstream: ProviderEmulator;
  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  async function post(body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  const HI = [{ role: 'user', content: 'Hi' }];

  it.each([
    [
      'a system role inside messages',
      { model: 'm', max_tokens: 5, messages: [{ role: 'system', content: 'x' }, ...HI] },
      /role/,
    ],
    ['a missing max_tokens', { model: 'm', messages: HI }, /max_tokens: Field required/],
    [
      'an unknown top-level field',
      { model: 'm', max_tokens: 5, messages: HI, seed: 1 },
      /seed: Extra inputs/,
    ],
    ['roles that do not alternate', { model: 'm', max_tokens: 5, messages: [...HI, ...HI] }, /alternate/],
    [
      'a tool_result without its tool_use',
      {
        model: 'm',
        max_tokens: 5,
        messages: [
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'r' }] },
        ],
      },
      /tool_use_id/,
    ],
  ])('refuses %s with a 400 in Anthropic error shape', async (_name, body, message) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((answer.body as { error: { message: string } }).error.message).toMatch(message);
  });

  it('answers a valid request with a Message', async () => {
    const answer = await post({ model: 'm', max_tokens: 5, messages: HI });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
  });
});
