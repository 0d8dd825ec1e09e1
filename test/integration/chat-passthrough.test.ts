import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

describe('chat completions through an OpenAI-protocol provider', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: 'sk-upstream-secret-1', OPENAI_BASE_URL: `${upstream.url}/v1` },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('answers a non-streamed chat and forwards the body with the provider key', async () => {
    const { data, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model gpt-4o-mini)');
    expect(data.usage?.total_tokens).toBe(15);
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(response.headers.get('x-ai-proxy-model')).toBe('gpt-4o-mini');
    expect(response.headers.get('x-ai-proxy-key')).toMatch(/^openai-[0-9a-f]{8}$/);
    expect(Number(response.headers.get('x-ai-proxy-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1/chat/completions');
    expect(seen?.headers.authorization).toBe('Bearer sk-upstream-secret-1');
    expect(seen?.body).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  });

  it('relays a stream chunk by chunk, ending with the finish reason', async () => {
    const stream = await gw.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from emulator (model gpt-4o-mini)');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ total_tokens: 15 });
  });

  it('passes tool calls through, plain and streamed', async () => {
    const toolCalls = [
      { name: 'get_weather', arguments: '{"location":"Paris"}' },
      { name: 'get_time', arguments: '{"tz":"CET"}' },
    ];
    upstream.enqueue({ kind: 'chat', toolCalls }, { kind: 'chat', toolCalls });
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { location: { type: 'string' } } },
        },
      },
    ];
    const plain = await gw.client().chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
    });
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    expect(
      plain.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && c.function.arguments),
    ).toEqual(['{"location":"Paris"}', '{"tz":"CET"}']);
    const stream = gw.client().chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
    });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((c) => c.type === 'function' && c.function.name)).toEqual(['get_weather', 'get_time']);
    expect(calls.map((c) => c.type === 'function' && c.function.arguments)).toEqual([
      '{"location":"Paris"}',
      '{"tz":"CET"}',
    ]);
    expect((upstream.requests[1]!.body as { tools: unknown[] }).tools).toEqual(tools);
  });
});
