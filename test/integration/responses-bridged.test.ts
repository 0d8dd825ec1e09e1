// POST /v1/responses to providers that do not serve it (a chat-only OpenAI-compatible server,
// Anthropic, Gemini): the official OpenAI SDK talks to the real gateway, which bridges through the
// chat translators and keeps the responses itself, so previous_response_id chains, retrieve,
// input_items and delete work as on OpenAI.
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const OTHER_KEY = 'second-client-key-abcdef012345';

const CONFIG = `model_mappings:
  chat-only: "groq:llama-3.3-70b"
  claude: "anthropic:claude-sonnet-4-5"
  gemini: "gemini:gemini-2.5-flash"
`;

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' } },
    required: ['location'],
    additionalProperties: false,
  },
  strict: true,
};

type Upstream = 'chat-only' | 'claude' | 'gemini';

/** The conversation text an upstream received, whatever its protocol. */
function sentText(body: unknown): string {
  return JSON.stringify(body);
}

describe('/v1/responses bridged to chat-only, Anthropic and Gemini upstreams', () => {
  let groq: ProviderEmulator;
  let anthropic: ProviderEmulator;
  let gemini: ProviderEmulator;
  let gw: TestGateway;
  let client: OpenAI;

  const upstreamOf = (model: Upstream): ProviderEmulator =>
    model === 'chat-only' ? groq : model === 'claude' ? anthropic : gemini;

  beforeAll(async () => {
    groq = await ProviderEmulator.start();
    anthropic = await ProviderEmulator.start();
    gemini = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        API_KEYS: `${CLIENT_KEY},${OTHER_KEY}`,
        GROQ_API_KEY: 'gsk-secret-0001',
        GROQ_BASE_URL: `${groq.url}/openai/v1`,
        ANTHROPIC_API_KEY: 'sk-ant-secret-0001',
        ANTHROPIC_BASE_URL: `${anthropic.url}/v1`,
        GEMINI_API_KEY: 'AIza-secret-0001',
        GEMINI_BASE_URL: `${gemini.url}/v1beta`,
      },
      files: { 'config.yml': CONFIG },
    });
    client = gw.client();
  });
  afterAll(async () => {
    await gw?.stop();
    await groq?.close();
    await anthropic?.close();
    await gemini?.close();
  });
  beforeEach(() => {
    groq.reset();
    anthropic.reset();
    gemini.reset();
  });

  describe.each<Upstream>(['chat-only', 'claude', 'gemini'])('to %s', (model) => {
    it('answers responses.create with a Response object', async () => {
      const upstream = upstreamOf(model);
      upstream.enqueue({
        kind: 'chat',
        content: 'Hello there.',
        usage: { prompt_tokens: 8, completion_tokens: 3 },
      });
      const response = await client.responses.create({
        model,
        instructions: 'Be brief.',
        input: 'Say hello.',
        max_output_tokens: 100,
      });
      expect(response.object).toBe('response');
      expect(response.id).toMatch(/^resp_/);
      expect(response.status).toBe('completed');
      expect(response.output_text).toBe('Hello there.');
      expect(response.model).toBe(model);
      expect(response.usage).toMatchObject({ input_tokens: 8, output_tokens: 3, total_tokens: 11 });
      expect(sentText(upstream.requests[0]?.body)).toContain('Be brief.');
      expect(sentText(upstream.requests[0]?.body)).toContain('Say hello.');
      expect(sentText(upstream.requests[0]?.body)).not.toContain('previous_response_id');
    });

    it('streams: responses.stream() gives every event in order and the final response', async () => {
      upstreamOf(model).enqueue({ kind: 'chat', content: 'One two three four.' });
      const stream = client.responses.stream({ model, input: 'Count.' });
      const types: string[] = [];
      const sequence: number[] = [];
      let text = '';
      for await (const event of stream) {
        types.push(event.type);
        sequence.push(event.sequence_number);
        if (event.type === 'response.output_text.delta') text += event.delta;
      }
      const final = await stream.finalResponse();
      expect(text).toBe('One two three four.');
      expect(final.output_text).toBe('One two three four.');
      expect(types[0]).toBe('response.created');
      expect(types).toContain('response.output_item.added');
      expect(types).toContain('response.content_part.added');
      expect(types).toContain('response.output_text.done');
      expect(types.at(-1)).toBe('response.completed');
      expect(sequence).toEqual(sequence.map((_, i) => sequence[0]! + i));
    });

    it('runs a function-tool loop with function_call_output', async () => {
      const upstream = upstreamOf(model);
      upstream.enqueue({
        kind: 'chat',
        toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"location":"Paris"}' }],
        finishReason: model === 'gemini' ? 'STOP' : 'tool_calls',
      });
      const first = await client.responses.create({
        model,
        input: 'Weather in Paris?',
        tools: [WEATHER_TOOL],
      });
      const call = first.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({
        type: 'function_call',
        name: 'get_weather',
        arguments: '{"location":"Paris"}',
      });
      if (call?.type !== 'function_call') throw new Error('no function call');

      upstream.enqueue({ kind: 'chat', content: 'It is 21°C in Paris.' });
      const second = await client.responses.create({
        model,
        tools: [WEATHER_TOOL],
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          call,
          { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":21}' },
        ],
      });
      expect(second.output_text).toBe('It is 21°C in Paris.');
      const sent = sentText(upstream.requests[1]?.body);
      expect(sent).toContain('temp_c');
      expect(sent).toContain('get_weather');
    });

    it('keeps a three-turn previous_response_id chain: turn three’s upstream gets both earlier turns', async () => {
      const upstream = upstreamOf(model);
      upstream.enqueue({ kind: 'chat', content: 'ANSWER-ONE' });
      const one = await client.responses.create({
        model,
        input: 'QUESTION-ONE',
        instructions: 'FIRST-INSTRUCTIONS',
      });
      upstream.enqueue({ kind: 'chat', content: 'ANSWER-TWO' });
      const two = await client.responses.create({
        model,
        input: 'QUESTION-TWO',
        previous_response_id: one.id,
      });
      upstream.enqueue({ kind: 'chat', content: 'ANSWER-THREE' });
      const three = await client.responses.create({
        model,
        input: 'QUESTION-THREE',
        previous_response_id: two.id,
      });
      expect(three.output_text).toBe('ANSWER-THREE');
      const sent = sentText(upstream.requests[2]?.body);
      for (const part of ['QUESTION-ONE', 'ANSWER-ONE', 'QUESTION-TWO', 'ANSWER-TWO', 'QUESTION-THREE'])
        expect(sent).toContain(part);
      // Instructions are not inherited, as OpenAI defines it.
      expect(sent).not.toContain('FIRST-INSTRUCTIONS');
    });

    it('parses structured output with responses.parse and a zod schema', async () => {
      upstreamOf(model).enqueue({ kind: 'chat', content: '{"city":"Paris","temp_c":21}' });
      const Weather = z.object({ city: z.string(), temp_c: z.number() });
      const parsed = await client.responses.parse({
        model,
        input: 'Weather in Paris as JSON.',
        text: { format: zodTextFormat(Weather, 'weather') },
      });
      expect(parsed.output_parsed).toEqual({ city: 'Paris', temp_c: 21 });
      // The schema reached the upstream in its own protocol's form.
      expect(sentText(upstreamOf(model).requests[0]?.body)).toContain('temp_c');
    });

    it('retrieves, lists input items and deletes a stored response; another client key cannot see it', async () => {
      upstreamOf(model).enqueue({ kind: 'chat', content: 'Stored answer.' });
      const created = await client.responses.create({ model, input: 'Keep this.' });
      const again = await client.responses.retrieve(created.id);
      expect(again.id).toBe(created.id);
      expect(again.output_text).toBe('Stored answer.');

      const items = await client.responses.inputItems.list(created.id);
      expect(items.data.length).toBe(1);
      expect(JSON.stringify(items.data[0])).toContain('Keep this.');

      const stranger = gw.client(OTHER_KEY);
      await expect(stranger.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
      upstreamOf(model).enqueue({ kind: 'chat', content: 'x' });
      await expect(
        stranger.responses.create({ model, input: 'Continue.', previous_response_id: created.id }),
      ).rejects.toMatchObject({ status: 404 });
      expect(upstreamOf(model).requests).toHaveLength(1);

      await client.responses.delete(created.id);
      await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    });
  });

  it('does not store with store: false, and answers an unknown previous_response_id with a 404 naming it', async () => {
    groq.enqueue({ kind: 'chat', content: 'Not kept.' });
    const transient = await client.responses.create({
      model: 'chat-only',
      input: 'Forget this.',
      store: false,
    });
    await expect(client.responses.retrieve(transient.id)).rejects.toMatchObject({ status: 404 });

    const error = await client.responses
      .create({ model: 'chat-only', input: 'Hi', previous_response_id: 'resp_nope' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("'resp_nope'");
    expect(groq.requests).toHaveLength(1);
  });

  it('refuses an OpenAI built-in tool for a provider that has none, naming it', async () => {
    const error = await client.responses
      .create({ model: 'claude', input: 'News?', tools: [{ type: 'web_search' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/web_search/);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('answers bad input with a 400 naming the field', async () => {
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: 'chat-only', input: [{ type: 'function_call_output', output: 'x' }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe('input[0].call_id');
  });
});
