// Golden fixtures for the OpenAI → Gemini translator: one folder per case under
// test/fixtures/openai-gemini/. Each holds the client's request.json and the expected
// upstream-request.json (path, dropped params, body); non-stream cases the upstream-response.json
// and the expected response.json; stream cases the recorded upstream-stream.txt and the expected
// OpenAI chunks, replayed whole and split at every byte offset. UPDATE_GOLDEN=1 rewrites the
// expected files from the translator's output, to be reviewed by hand before committing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { SseParser } from '../../src/streaming/sse-parser.js';
import { openAIGemini } from '../../src/translators/openai-gemini.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'openai-gemini');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const PROVIDER = { name: 'gemini', protocol: 'gemini' } as unknown as ProviderConfig;

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function golden(path: string, actual: unknown): void {
  if (UPDATE) writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
  else if (!existsSync(path)) expect.fail(`${path} is missing; run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toEqual(readJson(path));
}

function contextOf(body: ChatRequestBody, model = 'gemini-test'): BuildContext {
  return {
    provider: PROVIDER,
    model: typeof body.model === 'string' ? body.model : model,
    stream: body.stream === true,
    body,
    rawBody: JSON.stringify(body),
  };
}

/** `created` is the clock; everything else must match byte for byte. */
function normalise<T>(value: T): T {
  if (typeof value === 'object' && value !== null && 'created' in value) {
    expect(Number.isInteger((value as { created: unknown }).created)).toBe(true);
    return { ...value, created: 0 };
  }
  return value;
}

function replay(ctx: BuildContext, pieces: Buffer[]): string {
  const translator = openAIGemini.createStreamTranslator!(ctx);
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const chunk = translator.push(piece);
    if (chunk !== undefined) out.push(chunk);
  }
  const last = translator.end();
  if (last !== undefined) out.push(last);
  return Buffer.concat(out).toString('utf8');
}

function chunksOf(text: string): unknown[] {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()].map((event) =>
    event.data === '[DONE]' ? '[DONE]' : normalise(JSON.parse(event.data)),
  );
}

const cases = readdirSync(ROOT).sort();

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
      ]),
    );
  });

  describe.each(cases)('%s', (name) => {
    const dir = join(ROOT, name);
    const body = readJson(join(dir, 'request.json')) as ChatRequestBody;
    const ctx = contextOf(body);

    it('builds the upstream request', () => {
      const request = openAIGemini.buildRequest(ctx);
      golden(join(dir, 'upstream-request.json'), {
        path: request.path,
        droppedParams: request.droppedParams,
        body: JSON.parse(request.body),
      });
    });

    if (existsSync(join(dir, 'upstream-response.json'))) {
      it('translates the answer', () => {
        const answer = openAIGemini.translateResponse!(readJson(join(dir, 'upstream-response.json')), ctx);
        golden(join(dir, 'response.json'), normalise(answer));
      });
    }

    if (existsSync(join(dir, 'upstream-stream.txt'))) {
      it('translates the stream, whole and split at every byte offset', () => {
        const bytes = readFileSync(join(dir, 'upstream-stream.txt'));
        const whole = replay(ctx, [bytes]);
        golden(join(dir, 'expected-chunks.json'), chunksOf(whole));
        expect(whole.endsWith('data: [DONE]\n\n')).toBe(true);
        const normalised = JSON.stringify(chunksOf(whole));
        for (let offset = 1; offset < bytes.length; offset++) {
          const split = replay(ctx, [bytes.subarray(0, offset), bytes.subarray(offset)]);
          if (JSON.stringify(chunksOf(split)) !== normalised) expect.fail(`split at byte ${offset} differs`);
        }
        // One byte at a time too: every boundary at once.
        const bytewise = replay(
          ctx,
          [...bytes].map((byte) => Buffer.of(byte)),
        );
        expect(chunksOf(bytewise)).toEqual(chunksOf(whole));
      });
    }
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
    const out = [
      translator.push(
        Buffer.from('data: {"error":{"code":500,"message":"boom","status":"INTERNAL"}}\r\n\r\n'),
      ),
      translator.end(),
    ]
      .filter((chunk) => chunk !== undefined)
      .join('');
    expect(out).toContain('"message":"gemini: boom"');
    expect(out).not.toContain('[DONE]');
  });
});
