// The OpenAI → Anthropic translator against golden fixtures (test/fixtures/openai-anthropic/<case>/):
// request.json → upstream-request.json (+ dropped-params.json), upstream-response.json → response.json,
// upstream-stream.txt → expected-chunks.json, through the shared runner in test/support/golden.ts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { openAIAnthropic } from '../../src/translators/openai-anthropic.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';
import {
  describeGoldenCases,
  expectToolArgumentsParse,
  FIXTURES,
  folderNames,
  openAIEvents,
  replayStream,
} from '../support/golden.js';

const ROOT = join(FIXTURES, 'openai-anthropic');

const PROVIDER: ProviderConfig = {
  name: 'anthropic',
  protocol: 'anthropic',
  baseUrl: 'https://api.anthropic.com/v1',
  auth: { header: 'x-api-key', prefix: '' },
  headers: { 'anthropic-version': '2023-06-01' },
  families: ['claude-*'],
  aliases: [],
  keys: [],
  keyOptional: false,
  configured: true,
  defaultModel: undefined,
  models: [],
  builtin: true,
};

function contextFor(body: ChatRequestBody): BuildContext {
  return {
    provider: PROVIDER,
    model: String(body.model),
    stream: body.stream === true,
    body,
    rawBody: JSON.stringify(body),
  };
}

/** Runs upstream bytes through a fresh stream translator, fed in the given pieces. */
function translateStream(ctx: BuildContext, pieces: Buffer[]): string {
  return replayStream(openAIAnthropic.createStreamTranslator!(ctx), pieces);
}

const CASES = folderNames(ROOT);

describe('OpenAI → Anthropic golden fixtures', () => {
  it('has the cases the translator must cover', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(8);
  });

  describeGoldenCases({
    root: ROOT,
    context: ({ request }) => contextFor(request as ChatRequestBody),
    request: {
      build: (ctx) => openAIAnthropic.buildRequest(ctx),
      check: (built) => {
        expect(built.path).toBe('/messages');
        expect(built.headers).toEqual({});
      },
      golden: (built) => JSON.parse(built.body),
      droppedParamsFile: true,
    },
    response: {
      title: 'translates the upstream answer',
      translate: (upstream, ctx) => openAIAnthropic.translateResponse!(upstream, ctx),
      normalize: true,
    },
    stream: {
      create: (ctx) => openAIAnthropic.createStreamTranslator!(ctx),
      check: expectToolArgumentsParse,
    },
  });
});

describe('OpenAI → Anthropic request errors', () => {
  function build(messages: unknown[], extra: Record<string, unknown> = {}) {
    return () => openAIAnthropic.buildRequest(contextFor({ model: 'claude-x', messages, ...extra }));
  }

  function expectInvalid(run: () => unknown, param: string): void {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      const gatewayError = error as GatewayError;
      expect(gatewayError.status).toBe(400);
      expect(gatewayError.code).toBe('invalid_request');
      expect(gatewayError.param).toBe(param);
      expect(gatewayError.message).toContain(param);
      return;
    }
    expect.fail('expected a GatewayError');
  }

  it('tool-call arguments that are not JSON: a 400 naming the field', () => {
    const call = { id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":' } };
    expectInvalid(
      build([
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [call] },
      ]),
      'messages[1].tool_calls[0].function.arguments',
    );
  });

  it('tool-call arguments that are JSON but not an object: a 400', () => {
    const call = { id: 't1', type: 'function', function: { name: 'f', arguments: '[1]' } };
    expectInvalid(
      build([{ role: 'assistant', content: null, tool_calls: [call] }]),
      'messages[0].tool_calls[0].function.arguments',
    );
  });

  it('an image URL that is neither data: nor http(s): a 400', () => {
    const part = { type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } };
    expectInvalid(build([{ role: 'user', content: [part] }]), 'messages[0].content[0].image_url.url');
  });

  it('a content part Anthropic cannot take: a 400', () => {
    const part = { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } };
    expectInvalid(build([{ role: 'user', content: [part] }]), 'messages[0].content[0].type');
  });

  it('no max_tokens from the client: the default 4096', () => {
    const built = build([{ role: 'user', content: 'x' }])();
    expect(JSON.parse(built.body).max_tokens).toBe(4096);
  });
});

describe('OpenAI → Anthropic errors and edge streams', () => {
  it("keeps an Anthropic error's message and type", () => {
    const body = JSON.stringify({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
      request_id: 'req_1',
    });
    expect(openAIAnthropic.parseError(400, body)).toEqual({
      message: 'max_tokens: Field required',
      type: 'invalid_request_error',
      code: null,
      param: null,
    });
  });

  it('reads a non-JSON error body as text', () => {
    expect(openAIAnthropic.parseError(502, 'Bad gateway').message).toBe('Bad gateway');
  });

  it('a stream that ends without message_stop ends with an error event, not [DONE]', () => {
    const ctx = contextFor({ model: 'claude-x', messages: [], stream: true });
    const start = {
      type: 'message_start',
      message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 1, output_tokens: 1 } },
    };
    const events = openAIEvents(
      translateStream(ctx, [Buffer.from(`event: message_start\ndata: ${JSON.stringify(start)}\n\n`)]),
    );
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ error: { code: 'upstream_error', type: 'api_error' } });
  });
});
