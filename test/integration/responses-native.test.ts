// POST /v1/responses to an upstream that serves the Responses API itself (OpenAI, emulated with its
// stored responses): the official OpenAI SDK talks to the real gateway, which passes the body
// through with only `model` rewritten, relays the stream byte for byte, and sends every follow-up
// of a conversation to the provider key that created it (OpenAI scopes stored responses by key).
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const KEYS = ['sk-openai-native-key-aaaa', 'sk-openai-native-key-bbbb', 'sk-openai-native-key-cccc'];

const CONFIG = `model_mappings:
  fast: "openai:gpt-4o-mini"
providers:
  openai:
    keys: [${KEYS.join(', ')}]
`;

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: false,
};

describe('/v1/responses to OpenAI (native pass-through)', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.yml': CONFIG },
    });
    client = gw.client();
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('passes responses.create through with only the model rewritten', async () => {
    upstream.enqueue({
      kind: 'chat',
      content: 'Native hello.',
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    });
    const text = '{"model": "fast",  "input": "Say hello.", "instructions": "Be brief.", "store": true}';
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${'test-client-key-0123456789'}`,
      },
      body: text,
    });
    expect(res.status).toBe(200);
    const response = (await res.json()) as OpenAI.Responses.Response;
    expect(response.object).toBe('response');
    expect(res.headers.get('x-ai-proxy-provider')).toBe('openai');
    const seen = upstream.requests[0];
    expect(seen?.path).toBe('/v1/responses');
    expect(seen?.rawBody).toBe(text.replace('"model": "fast"', '"model": "gpt-4o-mini"'));
    expect(KEYS.map((key) => `Bearer ${key}`)).toContain(seen?.headers.authorization);
  });

  it('relays a stream; responses.stream() ends with the upstream’s own completed response', async () => {
    upstream.enqueue({ kind: 'chat', content: 'Streamed natively.' });
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Stream it.' });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Streamed natively.');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(upstream.responses.turns.at(-1)?.responseId).toBe(final.id);
  });

  it('parses structured output with responses.parse and a zod schema', async () => {
    upstream.enqueue({ kind: 'chat', content: '{"city":"Oslo","temp_c":-3}' });
    const parsed = await client.responses.parse({
      model: 'gpt-4o-mini',
      input: 'Weather in Oslo as JSON.',
      text: { format: zodTextFormat(z.object({ city: z.string(), temp_c: z.number() }), 'weather') },
    });
    expect(parsed.output_parsed).toEqual({ city: 'Oslo', temp_c: -3 });
    expect((upstream.requests[0]?.body as { text: unknown } | undefined)?.text).toMatchObject({
      format: { type: 'json_schema', name: 'weather' },
    });
  });

  it('runs a function-tool loop with function_call_output', async () => {
    upstream.enqueue({
      kind: 'chat',
      toolCalls: [{ id: 'call_oslo', name: 'get_weather', arguments: '{"location":"Oslo"}' }],
      finishReason: 'tool_calls',
    });
    const first = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Weather?',
      tools: [WEATHER_TOOL],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(call.name).toBe('get_weather');
    upstream.enqueue({ kind: 'chat', content: 'Cold in Oslo.' });
    const second = await client.responses.create({
      model: 'gpt-4o-mini',
      tools: [WEATHER_TOOL],
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":-3}' }],
    });
    expect(second.output_text).toBe('Cold in Oslo.');
  });

  it('sends every turn of a previous_response_id chain to the key that created it; turn three saw both earlier turns', async () => {
    // Three keys take turns: without the pin, a follow-up would reach a key that does not hold the chain.
    upstream.enqueue({ kind: 'chat', content: 'ANSWER-ONE' });
    const one = await client.responses.create({ model: 'gpt-4o-mini', input: 'QUESTION-ONE' });
    upstream.enqueue({ kind: 'chat', content: 'ANSWER-TWO' });
    const two = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'QUESTION-TWO',
      previous_response_id: one.id,
    });
    upstream.enqueue({ kind: 'chat', content: 'ANSWER-THREE' });
    const three = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'QUESTION-THREE',
      previous_response_id: two.id,
    });
    expect(three.output_text).toBe('ANSWER-THREE');
    const turns = upstream.responses.turns.slice(-3);
    expect(new Set(turns.map((turn) => turn.key)).size).toBe(1);
    const saw = JSON.stringify(turns[2]?.input);
    for (const part of ['QUESTION-ONE', 'ANSWER-ONE', 'QUESTION-TWO', 'ANSWER-TWO', 'QUESTION-THREE'])
      expect(saw).toContain(part);
    expect(
      (upstream.requests[2]?.body as { previous_response_id: string } | undefined)?.previous_response_id,
    ).toBe(two.id);
  });

  it('retrieves, lists input items and deletes through the key that created the response', async () => {
    upstream.enqueue({ kind: 'chat', content: 'Kept upstream.' });
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'Keep it upstream.' });
    for (let i = 0; i < 3; i++) {
      const again = await client.responses.retrieve(created.id);
      expect(again.output_text).toBe('Kept upstream.');
    }
    const items = await client.responses.inputItems.list(created.id);
    expect(JSON.stringify(items.data)).toContain('Keep it upstream.');
    await client.responses.delete(created.id);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('relays the upstream’s own 404 for a previous_response_id it does not know, as it came', async () => {
    const error = await client.responses
      .create({ model: 'gpt-4o-mini', input: 'Hi', previous_response_id: 'resp_unknown_upstream' })
      .catch((e: unknown) => e);
    // The gateway does not know it either: its own 404 names it, and no upstream call is made.
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("'resp_unknown_upstream'");
    expect(upstream.requests).toHaveLength(0);
  });
});
