// Chat completions through the Cohere translator: the official OpenAI SDK talks to the real
// gateway, which talks to the emulator speaking (and as strictly checking) Cohere's v2 chat API.
import { APIError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const COHERE_KEY = 'co-test-key';

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { location: { type: 'string' } },
  required: ['location'],
};

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Current weather', parameters: WEATHER_SCHEMA },
  },
];

const TOOL_CALLS = [
  { id: 'get_weather_paris', name: 'get_weather', arguments: '{"location":"Paris"}' },
  { id: 'get_weather_rome', name: 'get_weather', arguments: '{"location":"Rome"}' },
];

const OPENAI_TOOL_CALLS = TOOL_CALLS.map((call) => ({
  id: call.id,
  type: 'function' as const,
  function: { name: call.name, arguments: call.arguments },
}));

describe('chat completions through the Cohere translator', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({ env: { COHERE_API_KEY: COHERE_KEY, COHERE_BASE_URL: upstream.url } });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  function lastBody(): Record<string, unknown> {
    return upstream.requests.at(-1)?.body as Record<string, unknown>;
  }

  it('answers a chat by family, with Bearer auth, system messages and p for top_p', async () => {
    upstream.enqueue({
      kind: 'chat',
      content: 'Bonjour!',
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
    const { data, response } = await gw
      .client()
      .chat.completions.create({
        model: 'command-r-plus',
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hi' },
        ],
        top_p: 0.5,
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^cohere-emu-/);
    expect(data.model).toBe('command-r-plus');
    expect(data.choices[0]?.message.content).toBe('Bonjour!');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('cohere');
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBeNull();

    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v2/chat');
    expect(seen?.headers.authorization).toBe(`Bearer ${COHERE_KEY}`);
    expect(seen?.body).toEqual({
      model: 'command-r-plus',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hi' },
      ],
      p: 0.5,
    });
  });

  it('sends images inside a message as Cohere v2 image_url content parts', async () => {
    const dataUri = 'data:image/png;base64,iVBORw0KGgo=';
    const answer = await gw.client().chat.completions.create({
      model: 'cohere:command-a-vision-07-2025',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these pictures?' },
            { type: 'image_url', image_url: { url: dataUri } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
          ],
        },
      ],
    });
    expect(answer.choices[0]?.message.role).toBe('assistant');
    const sent = upstream.requests.at(-1)!.body as { messages: { content: unknown }[] };
    const content = sent.messages[0]?.content;
    expect(content).toEqual([
      { type: 'text', text: 'What is in these pictures?' },
      { type: 'image_url', image_url: { url: dataUri } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
    ]);
  });

  it('routes an explicit cohere: prefix', async () => {
    const data = await gw.client().chat.completions.create({
      model: 'cohere:command-a-03-2025',
      messages: [{ role: 'user', content: 'Hi' }],
      max_completion_tokens: 64,
    });
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model command-a-03-2025)');
    expect(lastBody()).toMatchObject({ model: 'command-a-03-2025', max_tokens: 64 });
  });

  it('streams text with a role chunk first, the finish reason, usage and [DONE]', async () => {
    const stream = await gw.client().chat.completions.create({
      model: 'cohere:command-a-03-2025',
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
    expect(text).toBe('Hello from emulator (model command-a-03-2025)');
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
        model: 'command-r-plus',
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

  it('returns tool calls, plain and streamed, with the Cohere ids and tool_choice REQUIRED', async () => {
    upstream.enqueue({ kind: 'chat', toolCalls: TOOL_CALLS }, { kind: 'chat', toolCalls: TOOL_CALLS });
    const request = {
      model: 'command-r-plus',
      messages: [{ role: 'user' as const, content: 'Weather in Paris and Rome?' }],
      tools: TOOLS,
      tool_choice: 'required' as const,
    };
    const plain = await gw.client().chat.completions.create(request);
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    expect(plain.choices[0]?.message.content).toBeNull();
    expect(plain.choices[0]?.message.tool_calls).toEqual(OPENAI_TOOL_CALLS);
    expect(lastBody()).toMatchObject({
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Current weather', parameters: WEATHER_SCHEMA },
        },
      ],
      tool_choice: 'REQUIRED',
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
    expect(calls).toEqual(TOOL_CALLS);
  });

  it('streams the tool plan as content before the tool calls', async () => {
    upstream.enqueue({ kind: 'chat', content: 'I will check Paris.', toolCalls: TOOL_CALLS.slice(0, 1) });
    const stream = await gw.client().chat.completions.create({
      model: 'command-r-plus',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: TOOLS,
      stream: true,
    });
    let text = '';
    const indices: number[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) indices.push(delta.index);
    }
    expect(text).toBe('I will check Paris.');
    expect(new Set(indices)).toEqual(new Set([0]));
  });

  it('sends a tool-result round trip as tool_calls with the plan and tool messages', async () => {
    upstream.enqueue({ kind: 'chat', content: 'Sunny in both.' });
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: 'Looking both up.', tool_calls: OPENAI_TOOL_CALLS },
      { role: 'tool', tool_call_id: 'get_weather_paris', content: '21°C' },
      { role: 'tool', tool_call_id: 'get_weather_rome', content: '25°C' },
    ];
    const data = await gw
      .client()
      .chat.completions.create({ model: 'command-r-plus', messages, tools: TOOLS });
    expect(data.choices[0]?.message.content).toBe('Sunny in both.');
    expect(lastBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', tool_plan: 'Looking both up.', tool_calls: OPENAI_TOOL_CALLS },
      { role: 'tool', tool_call_id: 'get_weather_paris', content: '21°C' },
      { role: 'tool', tool_call_id: 'get_weather_rome', content: '25°C' },
    ]);
  });

  it('sends json_schema as a json_object response_format with the schema', async () => {
    await gw.client().chat.completions.create({
      model: 'command-r-plus',
      messages: [{ role: 'user', content: 'Weather?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: WEATHER_SCHEMA } },
    });
    expect(lastBody().response_format).toEqual({ type: 'json_object', json_schema: WEATHER_SCHEMA });
  });

  it('names dropped parameters in x-ai-proxy-dropped-params and merges extra_body', async () => {
    const { response } = await gw
      .client()
      .chat.completions.create({
        model: 'command-r-plus',
        messages: [{ role: 'user', content: 'Hi' }],
        seed: 7,
        presence_penalty: 0.5,
        stop: 'END',
        user: 'u-1',
        logit_bias: { '50256': -100 },
        tools: TOOLS,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        // @ts-expect-error extra_body is a gateway extension the SDK types do not know
        extra_body: { k: 3 },
      })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBe('user,logit_bias,tool_choice');
    expect(lastBody()).toMatchObject({ stop_sequences: ['END'], seed: 7, presence_penalty: 0.5, k: 3 });
    expect(lastBody()).not.toHaveProperty('user');
    expect(lastBody()).not.toHaveProperty('tool_choice');
  });

  it('passes a Cohere 400 back with its status and message, not retried', async () => {
    const error = await gw
      .client()
      .chat.completions.create({
        model: 'command-r-plus',
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
    expect(apiError.message).toContain('temperature must be between 0 and 1');
    expect(apiError.message).toContain('cohere');
    expect(apiError.type).toBe('invalid_request_error');
    expect(JSON.stringify(apiError.error)).not.toContain(COHERE_KEY);
    expect(upstream.requests).toHaveLength(1);
  });

  it('a message-end carrying an error reaches the client as an error', async () => {
    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body:
        'event: message-start\ndata: {"type":"message-start","id":"c-x","delta":{"message":{"role":"assistant"}}}\n\n' +
        'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"ERROR","error":"model overloaded"}}\n\n',
    });
    const stream = await gw.client().chat.completions.create({
      model: 'command-r-plus',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const read = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/model overloaded/);
  });
});

describe('the emulator speaks Cohere v2 as strictly as the real API', () => {
  let upstream: ProviderEmulator;
  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  async function post(body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${upstream.url}/v2/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  const HI = [{ role: 'user', content: 'Hi' }];

  it.each([
    ['an unknown top-level field', { model: 'm', messages: HI, top_p: 0.5 }, /top_p/],
    ['a missing model', { messages: HI }, /model/],
    ['missing messages', { model: 'm' }, /messages/],
    [
      'a role outside system/user/assistant/tool',
      { model: 'm', messages: [{ role: 'developer', content: 'x' }] },
      /role/,
    ],
    ['a lower-case tool_choice', { model: 'm', messages: HI, tool_choice: 'required' }, /tool_choice/],
  ])('refuses %s with a 400 in Cohere error shape', async (_name, body, message) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(Object.keys(answer.body as object).sort()).toEqual(['id', 'message']);
    expect((answer.body as { message: string }).message).toMatch(message);
  });

  it('answers a valid request with a v2 chat response', async () => {
    const answer = await post({ model: 'm', messages: HI });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      message: { role: 'assistant', content: [{ type: 'text', text: 'Hello from emulator (model m)' }] },
      finish_reason: 'COMPLETE',
      usage: { tokens: { input_tokens: 10, output_tokens: 5 } },
    });
  });
});
