// Golden fixtures for the OpenAI → Gemini translator: one folder per case under
// test/fixtures/openai-gemini/. Each holds the client's request.json and the expected
// upstream-request.json (path, dropped params, body); non-stream cases the upstream-response.json
// and the expected response.json; stream cases the recorded upstream-stream.txt and the expected
// OpenAI chunks, run through the shared runner in test/support/golden.ts (whole, split at every
// byte offset, byte by byte). UPDATE_GOLDEN=1 rewrites the expected files.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { openAIGemini } from '../../src/translators/openai-gemini.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';
import { describeGoldenCases, FIXTURES, folderNames, replayStream } from '../support/golden.js';

const ROOT = join(FIXTURES, 'openai-gemini');
const PROVIDER = { name: 'gemini', protocol: 'gemini' } as unknown as ProviderConfig;

function contextOf(body: ChatRequestBody, model = 'gemini-test'): BuildContext {
  return {
    provider: PROVIDER,
    model: typeof body.model === 'string' ? body.model : model,
    stream: body.stream === true,
    body,
    rawBody: JSON.stringify(body),
  };
}

const cases = folderNames(ROOT);

describe('OpenAI → Gemini golden fixtures', () => {
  it('has the cases the contract names', () => {
    expect(cases).toEqual(
      expect.arrayContaining([
        'text',
        'system-multi-turn',
        'image-data-uri',
        'tools-round-trip',
        'parallel-calls-stream',
        'json-schema',
        'dropped-params',
        'gemini3-thought-signature',
        'gemini3-thought-signature-stream',
        'gemini3-tool-loop',
        'parallel-calls-signature-stream',
        'grounding-tool-use-usage',
        'grounding-stream',
        'tool-use-usage-stream',
      ]),
    );
  });

  describeGoldenCases({
    root: ROOT,
    context: ({ request }) => contextOf(request as ChatRequestBody),
    request: {
      build: (ctx) => openAIGemini.buildRequest(ctx),
      golden: (request) => ({
        path: request.path,
        droppedParams: request.droppedParams,
        body: JSON.parse(request.body),
      }),
    },
    response: {
      title: 'translates the answer',
      translate: (upstream, ctx) => openAIGemini.translateResponse!(upstream, ctx),
      normalize: true,
    },
    stream: {
      create: (ctx) => openAIGemini.createStreamTranslator!(ctx),
      check: (whole) => expect(whole.endsWith('data: [DONE]\n\n')).toBe(true),
    },
  });
});

describe('OpenAI → Gemini request edge cases', () => {
  const build = (body: Record<string, unknown>) =>
    openAIGemini.buildRequest(contextOf({ model: 'gemini-x', ...body } as ChatRequestBody));

  it('rejects tool-call arguments that are not JSON with a 400 naming the field', () => {
    const call = () =>
      build({
        messages: [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      });
    expect(call).toThrow(GatewayError);
    try {
      call();
    } catch (error) {
      expect(error).toMatchObject({ status: 400, param: 'messages[1].tool_calls[0].function.arguments' });
    }
  });

  it('rejects a tool result whose id matches no earlier tool call', () => {
    expect(() =>
      build({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', tool_call_id: 'nope', content: 'x' },
        ],
      }),
    ).toThrow(/matches no tool call/);
  });

  it('maps tool_choice auto, none and required', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const modeOf = (toolChoice: unknown) =>
      JSON.parse(build({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: toolChoice }).body)
        .toolConfig.functionCallingConfig;
    expect(modeOf('auto')).toEqual({ mode: 'AUTO' });
    expect(modeOf('none')).toEqual({ mode: 'NONE' });
    expect(modeOf('required')).toEqual({ mode: 'ANY' });
  });

  it('sends json_object as a JSON MIME type and stop arrays as they are', () => {
    const body = JSON.parse(
      build({
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_object' },
        stop: ['a', 'b'],
      }).body,
    );
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      stopSequences: ['a', 'b'],
    });
  });

  it('uses the streaming path with alt=sse', () => {
    const request = openAIGemini.buildRequest({
      ...contextOf({ model: 'gemini-1.5-pro-latest', messages: [{ role: 'user', content: 'x' }] }),
      stream: true,
    });
    expect(request.path).toBe('/models/gemini-1.5-pro-latest:streamGenerateContent?alt=sse');
  });
});

describe('OpenAI → Gemini answers and errors', () => {
  it('reads Google RPC errors: message kept, type from status', () => {
    const detail = openAIGemini.parseError(
      400,
      JSON.stringify({ error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT' } }),
    );
    expect(detail).toEqual({
      message: 'API key not valid.',
      type: 'invalid_request_error',
      code: 'INVALID_ARGUMENT',
      param: null,
    });
    expect(
      openAIGemini.parseError(
        429,
        '[{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}]',
      ),
    ).toMatchObject({ message: 'quota', type: 'rate_limit_error' });
    expect(openAIGemini.parseError(502, 'Bad gateway')).toMatchObject({ message: 'Bad gateway', type: null });
  });

  it('gives tool calls ids that differ between answers even without a responseId', () => {
    const answerOf = () =>
      openAIGemini.translateResponse!(
        { candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: {} } }] }, index: 0 }] },
        contextOf({ model: 'gemini-x', messages: [] }),
      ) as { choices: Array<{ message: { tool_calls: Array<{ id: string }> } }> };
    const [a, b] = [answerOf(), answerOf()].map((answer) => answer.choices[0]!.message.tool_calls[0]!.id);
    expect(a).toMatch(/^call_/);
    expect(a).not.toBe(b);
  });

  it('answers content_filter with no content when the prompt was blocked', () => {
    const answer = openAIGemini.translateResponse!(
      {
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 },
      },
      contextOf({ model: 'gemini-x', messages: [] }),
    ) as { choices: Array<{ finish_reason: string; message: { content: unknown } }> };
    expect(answer.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
  });

  it('turns an error event mid-stream into an OpenAI error event without [DONE]', () => {
    const translator = openAIGemini.createStreamTranslator!(
      contextOf({ model: 'gemini-x', messages: [], stream: true }),
    );
    const out = replayStream(translator, [
      Buffer.from('data: {"error":{"code":500,"message":"boom","status":"INTERNAL"}}\r\n\r\n'),
    ]);
    expect(out).toContain('"message":"gemini: boom"');
    expect(out).not.toContain('[DONE]');
  });
});
