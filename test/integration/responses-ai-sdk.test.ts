// The Vercel AI SDK's default OpenAI provider, `openai(model)`, speaks the Responses API: pointed at
// the real gateway, generateText, streamText, a tool loop and generateObject work bridged (a chat-only
// upstream) and native (an upstream that serves the Responses API).
import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const CONFIG = `model_mappings:
  chat-only: "groq:llama-3.3-70b"
`;

describe.each(['bridged', 'native'] as const)(
  'the AI SDK’s openai(model) through /v1/responses (%s)',
  (mode) => {
    let upstream: ProviderEmulator;
    let gw: TestGateway;
    let model: ReturnType<ReturnType<typeof createOpenAI>>;

    beforeAll(async () => {
      upstream = await ProviderEmulator.start();
      gw = await startTestGateway({
        env:
          mode === 'bridged'
            ? { GROQ_API_KEY: 'gsk-ai-sdk-0001', GROQ_BASE_URL: `${upstream.url}/openai/v1` }
            : { OPENAI_API_KEY: 'sk-ai-sdk-0001', OPENAI_BASE_URL: `${upstream.url}/v1` },
        files: { 'config.yml': CONFIG },
      });
      const provider = createOpenAI({ baseURL: gw.baseURL, apiKey: CLIENT_KEY });
      model = provider(mode === 'bridged' ? 'chat-only' : 'gpt-4o-mini');
    });
    afterAll(async () => {
      await gw?.stop();
      await upstream?.close();
    });
    beforeEach(() => upstream.reset());

    /** Where the upstream was called: chat completions when bridged, the Responses API when native. */
    function expectUpstreamPath(): void {
      expect(upstream.requests[0]?.path).toMatch(
        mode === 'bridged' ? /\/chat\/completions$/ : /\/v1\/responses$/,
      );
    }

    it('generateText', async () => {
      upstream.enqueue({
        kind: 'chat',
        content: 'Hello from the gateway.',
        usage: { prompt_tokens: 6, completion_tokens: 4 },
      });
      const result = await generateText({ model, prompt: 'Say hello.' });
      expect(result.text).toBe('Hello from the gateway.');
      expect(result.usage.inputTokens).toBe(6);
      expect(result.usage.outputTokens).toBe(4);
      expectUpstreamPath();
    });

    it('streamText', async () => {
      upstream.enqueue({ kind: 'chat', content: 'Streaming through ai-proxy works.' });
      const result = streamText({ model, prompt: 'Stream something.' });
      let text = '';
      for await (const delta of result.textStream) text += delta;
      expect(text).toBe('Streaming through ai-proxy works.');
      expect(await result.finishReason).toBe('stop');
      expectUpstreamPath();
    });

    it('runs a tool loop: the tool executes and its result goes back for the final answer', async () => {
      upstream.enqueue(
        {
          kind: 'chat',
          toolCalls: [{ id: 'call_tokyo', name: 'weather', arguments: '{"city":"Tokyo"}' }],
          finishReason: 'tool_calls',
        },
        { kind: 'chat', content: 'It is 18°C in Tokyo.' },
      );
      const seen: string[] = [];
      const result = await generateText({
        model,
        prompt: 'Weather in Tokyo?',
        tools: {
          weather: tool({
            description: 'Current weather in a city',
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => {
              seen.push(city);
              return { city, temp_c: 18 };
            },
          }),
        },
        stopWhen: stepCountIs(3),
      });
      expect(seen).toEqual(['Tokyo']);
      expect(result.text).toBe('It is 18°C in Tokyo.');
      expect(result.steps).toHaveLength(2);
      // The second call carried the tool's result back to the model.
      expect(JSON.stringify(upstream.requests[1]?.body)).toContain('temp_c');
    });

    it('generateObject with a zod schema', async () => {
      upstream.enqueue({ kind: 'chat', content: '{"name":"Ada Lovelace","born":1815}' });
      const { object } = await generateObject({
        model,
        schema: z.object({ name: z.string(), born: z.number() }),
        prompt: 'Who wrote the first program?',
      });
      expect(object).toEqual({ name: 'Ada Lovelace', born: 1815 });
      expectUpstreamPath();
    });
  },
);
