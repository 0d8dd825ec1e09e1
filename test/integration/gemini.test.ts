// The gateway in front of the Gemini native API: the official OpenAI SDK talks to the gateway, the
// emulator answers as generateContent / streamGenerateContent?alt=sse do and checks what it got.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const TOOL_CALLS = [
  { name: 'get_weather', arguments: '{"city":"Paris"}' },
  { name: 'get_weather', arguments: '{"city":"Rome"}' },
];

describe('chat completions through the Gemini native API', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { GEMINI_API_KEY: 'AIza-gemini-secret-1', GEMINI_BASE_URL: `${upstream.url}/v1beta` },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('answers a chat, translated both ways, with the key in x-goog-api-key', async () => {
    const { data, response } = await gw
      .client()
      .chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
        temperature: 0.3,
        max_tokens: 50,
        user: 'someone',
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message).toMatchObject({
      role: 'assistant',
      content: 'Hello from emulator (model gemini-2.5-flash)',
    });
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('gemini');
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBe('user');
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(seen?.headers['x-goog-api-key']).toBe('AIza-gemini-secret-1');
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { temperature: 0.3, maxOutputTokens: 50 },
    });
  });

  it('streams text, a finish reason and usage when asked for', async () => {
    upstream.enqueue({
      kind: 'chat',
      content: 'One two three',
      usage: { prompt_tokens: 4, completion_tokens: 3 },
    });
    const stream = await gw.client().chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finish: string | null | undefined;
    let usage: unknown;
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content;
      if (content) deltas.push(content);
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(['One', ' two', ' three']);
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
    expect(upstream.requests[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('returns function calls as tool_calls, plain and streamed', async () => {
    upstream.enqueue({ kind: 'chat', toolCalls: TOOL_CALLS }, { kind: 'chat', toolCalls: TOOL_CALLS });
    const request = {
      model: 'gemini-2.5-pro',
      messages: [{ role: 'user' as const, content: 'Weather in Paris and Rome?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto' as const,
    };
    const plain = await gw.client().chat.completions.create(request);
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    // Ids are built from Gemini's responseId, so they never repeat across turns.
    expect(plain.choices[0]?.message.tool_calls).toEqual([
      {
        id: 'call_emu-1_0_0',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
      {
        id: 'call_emu-1_0_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
      },
    ]);
    expect(upstream.requests[0]?.body).toMatchObject({
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Current weather for a city',
              parametersJsonSchema: WEATHER_TOOL.function.parameters,
            },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });

    const stream = gw.client().chat.completions.stream({ ...request, stream: true });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls?.map((call) => [call.id, call.function.arguments])).toEqual([
      ['call_emu-2_0_0', '{"city":"Paris"}'],
      ['call_emu-2_0_1', '{"city":"Rome"}'],
    ]);
  });

  it.each([false, true])(
    'keeps a Gemini 3 tool loop going (stream: %s): signatures go back, ids stay unique',
    async (stream) => {
      // Turn 1: two parallel calls (Gemini 3 signs the first); turn 2: one more call; turn 3: text.
      // The emulator, like Gemini 3, answers 400 when a call of the current turn lost its signature.
      upstream.enqueue(
        { kind: 'chat', toolCalls: TOOL_CALLS },
        { kind: 'chat', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
        { kind: 'chat', content: 'Sunny in Paris, rainy in Rome and Oslo.' },
      );
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        { role: 'user', content: 'Weather in Paris and Rome, then Oslo?' },
      ];
      const ask = async () => {
        const request = { model: 'gemini-3-flash-preview', messages, tools: [WEATHER_TOOL] };
        const answer = stream
          ? await gw
              .client()
              .chat.completions.stream({ ...request, stream: true })
              .finalChatCompletion()
          : await gw.client().chat.completions.create(request);
        const message = answer.choices[0]!.message;
        messages.push(message);
        for (const call of message.tool_calls ?? [])
          messages.push({ role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' });
        return message;
      };
      const signatureOf = (call: unknown) =>
        (call as { extra_content?: { google?: { thought_signature?: string } } }).extra_content?.google
          ?.thought_signature;

      const first = await ask();
      const second = await ask();
      const third = await ask();

      expect(third.content).toBe('Sunny in Paris, rainy in Rome and Oslo.');
      const calls = [...(first.tool_calls ?? []), ...(second.tool_calls ?? [])];
      expect(calls).toHaveLength(3);
      expect(new Set(calls.map((call) => call.id)).size).toBe(3);
      const signatures = calls.map(signatureOf);
      expect(signatures[0]).toEqual(expect.any(String));
      expect(signatures[1]).toBeUndefined();
      expect(signatures[2]).toEqual(expect.any(String));
      // What Gemini got on the last turn: each signature back on its functionCall part.
      const contents = (upstream.requests[2]!.body as { contents: Array<{ parts: unknown[] }> }).contents;
      expect(contents[1]?.parts[0]).toMatchObject({ thoughtSignature: signatures[0] });
      expect(contents[1]?.parts[1]).not.toHaveProperty('thoughtSignature');
      expect(contents[3]?.parts[0]).toMatchObject({ thoughtSignature: signatures[2] });
      expect(upstream.requests).toHaveLength(3);
    },
  );

  it('the emulator refuses a Gemini 3 history without the signature, as Gemini 3 does', async () => {
    upstream.enqueue({ kind: 'chat', toolCalls: [TOOL_CALLS[0]!] });
    const first = await gw.client().chat.completions.create({
      model: 'gemini-3-flash-preview',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER_TOOL],
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const { extra_content: _dropped, ...stripped } = call as typeof call & { extra_content?: unknown };
    const error = await gw
      .client()
      .chat.completions.create({
        model: 'gemini-3-flash-preview',
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [stripped] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((error as Error).message)).toContain('missing a thought_signature');
  });

  it('sends tool results back as functionResponse parts named after their calls', async () => {
    upstream.enqueue({ kind: 'chat', content: 'Sunny in Paris, rainy in Rome.' });
    const answer = await gw.client().chat.completions.create({
      model: 'gemini-2.5-pro',
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_0', type: 'function', function: TOOL_CALLS[0]! },
            { id: 'call_1', type: 'function', function: TOOL_CALLS[1]! },
          ],
        },
        { role: 'tool', tool_call_id: 'call_0', content: '{"sky":"sunny"}' },
        { role: 'tool', tool_call_id: 'call_1', content: 'rainy' },
      ],
    });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Paris, rainy in Rome.');
    expect((upstream.requests[0]!.body as { contents: unknown }).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: { sky: 'sunny' } } } },
          { functionResponse: { name: 'get_weather', response: { output: 'rainy' } } },
        ],
      },
    ]);
  });

  it('sends an image in a message as inlineData', async () => {
    await gw.client().chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
          ],
        },
      ],
    });
    expect((upstream.requests[0]!.body as { contents: unknown }).contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What is this?' },
          { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
        ],
      },
    ]);
  });

  it('passes a Gemini 400 back with its status and message', async () => {
    upstream.enqueue({
      kind: 'error',
      status: 400,
      body: {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
        },
      },
    });
    const error = await gw
      .client()
      .chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.status).toBe(400);
    expect(apiError.message).toContain('API key not valid. Please pass a valid API key.');
    expect(apiError.error).toMatchObject({ type: 'invalid_request_error', code: 'INVALID_ARGUMENT' });
  });

  it('rejects tool-call arguments that are not JSON before calling Gemini', async () => {
    const error = await gw
      .client()
      .chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{not json' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'x' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      param: 'messages[1].tool_calls[0].function.arguments',
    });
    expect(upstream.requests).toHaveLength(0);
  });
  it('refuses a model name that would step out of /models/ in the upstream path, before calling Gemini', async () => {
    for (const model of ['gemini:../../v1beta/files', 'gemini:x/./y', 'gemini:a//b', 'gemini:%2E%2E/files']) {
      const chat = await gw
        .client()
        .chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] })
        .catch((caught: unknown) => caught);
      const embed = await gw
        .client()
        .embeddings.create({ model, input: 'Hi' })
        .catch((caught: unknown) => caught);
      for (const error of [chat, embed]) {
        if (model.includes('%2E')) {
          // Not a dot segment: encoded whole, so Gemini sees a literal (unknown) name, never `..`.
          continue;
        }
        expect(error, model).toBeInstanceOf(OpenAI.BadRequestError);
        expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
          param: 'model',
        });
      }
    }
    for (const request of upstream.requests) expect(request.path).not.toMatch(/\/\.\.?\/|\/\.\.?[:?]|\/\//);
    expect(upstream.requests.every((r) => r.path.startsWith('/v1beta/models/'))).toBe(true);
  });

  it('ends the client stream with an error event when Gemini cuts it off', async () => {
    upstream.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const stream = await gw.client().chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(text).toBe('Hello from');
    expect(String(error)).toContain('the stream broke off');
  });
});

describe('the Gemini emulator is as strict as the real API', () => {
  let upstream: ProviderEmulator;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream.close();
  });

  const post = async (body: unknown) => {
    const response = await fetch(`${upstream.url}/v1beta/models/gemini-x:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { error?: Record<string, unknown> } };
  };

  it('refuses roles other than user and model, system included, in the Google error shape', async () => {
    for (const role of ['system', 'assistant', 'tool']) {
      const answer = await post({ contents: [{ role, parts: [{ text: 'x' }] }] });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
      expect(answer.body.error?.message).toContain('valid role');
    }
  });

  it('refuses fields Gemini does not know, such as OpenAI ones', async () => {
    const answer = await post({ contents: [{ role: 'user', parts: [{ text: 'x' }] }], messages: [] });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toContain('Unknown name "messages"');
  });
});

describe('C002: gemini-pro mapped to the native Gemini API', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { GEMINI_API_KEY: 'AIza-c002', GEMINI_BASE_URL: `${upstream.url}/v1beta` },
      files: { 'config.yml': 'model_mappings:\n  "gemini-pro": "gemini:gemini-1.5-pro-latest"\n' },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('non-streamed: generateContent on gemini-1.5-pro-latest, answer translated', async () => {
    const answer = await gw
      .client()
      .chat.completions.create({ model: 'gemini-pro', messages: [{ role: 'user', content: 'Hi' }] });
    expect(answer.choices[0]?.message.content).toBe('Hello from emulator (model gemini-1.5-pro-latest)');
    expect(answer.model).toBe('gemini-1.5-pro-latest');
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1beta/models/gemini-1.5-pro-latest:generateContent');
    expect(seen?.headers['x-goog-api-key']).toBe('AIza-c002');
  });

  it('streamed: streamGenerateContent?alt=sse, chunks translated', async () => {
    const stream = await gw.client().chat.completions.create({
      model: 'gemini-pro',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Hello from emulator (model gemini-1.5-pro-latest)');
    expect(finish).toBe('stop');
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1beta/models/gemini-1.5-pro-latest:streamGenerateContent?alt=sse');
    expect(seen?.headers['x-goog-api-key']).toBe('AIza-c002');
  });
});
