// The OpenAI → Cohere v2 translator against golden fixtures (test/fixtures/openai-cohere/<case>/):
// request.json → upstream-request.json (+ dropped-params.json), upstream-response.json → response.json,
// upstream-stream.txt → expected-chunks.json, through the shared runner in test/support/golden.ts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { openAICohere } from '../../src/translators/openai-cohere.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';
import {
  describeGoldenCases,
  expectToolArgumentsParse,
  FIXTURES,
  folderNames,
  openAIEvents,
  replayStream,
} from '../support/golden.js';

const ROOT = join(FIXTURES, 'openai-cohere');

const PROVIDER: ProviderConfig = {
  name: 'cohere',
  protocol: 'cohere',
  baseUrl: 'https://api.cohere.com',
  auth: { header: 'authorization', prefix: 'Bearer ' },
  headers: {},
  families: ['command*', 'embed-*'],
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
  return replayStream(openAICohere.createStreamTranslator!(ctx), pieces);
}

const CASES = folderNames(ROOT);

describe('OpenAI → Cohere golden fixtures', () => {
  it('has the cases the translator must cover', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(8);
  });

  describeGoldenCases({
    root: ROOT,
    context: ({ request }) => contextFor(request as ChatRequestBody),
    request: {
      build: (ctx) => openAICohere.buildRequest(ctx),
      check: (built) => {
        expect(built.path).toBe('/v2/chat');
        expect(built.headers).toEqual({});
      },
      golden: (built) => JSON.parse(built.body),
      droppedParamsFile: true,
    },
    response: {
      title: 'translates the upstream answer',
      translate: (upstream, ctx) => openAICohere.translateResponse!(upstream, ctx),
      normalize: true,
    },
    stream: { create: (ctx) => openAICohere.createStreamTranslator!(ctx), check: expectToolArgumentsParse },
  });
});

describe('OpenAI → Cohere request errors and defaults', () => {
  function build(messages: unknown[], extra: Record<string, unknown> = {}) {
    return () => openAICohere.buildRequest(contextFor({ model: 'command-r', messages, ...extra }));
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

  it('an image URL that is neither data: nor http(s): a 400', () => {
    const part = { type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } };
    expectInvalid(build([{ role: 'user', content: [part] }]), 'messages[0].content[0].image_url.url');
  });

  it('a content part Cohere cannot take: a 400', () => {
    const part = { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } };
    expectInvalid(build([{ role: 'user', content: [part] }]), 'messages[0].content[0].type');
  });

  it('a role Cohere does not know: a 400', () => {
    expectInvalid(build([{ role: 'function', name: 'f', content: 'x' }]), 'messages[0].role');
  });

  it('a tool message without tool_call_id: a 400', () => {
    expectInvalid(build([{ role: 'tool', content: 'x' }]), 'messages[0].tool_call_id');
  });

  it('no max_tokens from the client: none is sent, and auto tool_choice is left out', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    const built = build([{ role: 'user', content: 'x' }], { tools, tool_choice: 'auto' })();
    const body = JSON.parse(built.body);
    expect(body).not.toHaveProperty('max_tokens');
    expect(body).not.toHaveProperty('tool_choice');
    expect(built.droppedParams).toEqual([]);
  });
});

describe('OpenAI → Cohere errors and edge streams', () => {
  it("keeps a Cohere error's message, typed by status", () => {
    const body = JSON.stringify({ id: 'e-1', message: 'invalid request: model must be a string' });
    expect(openAICohere.parseError(400, body)).toEqual({
      message: 'invalid request: model must be a string',
      type: 'invalid_request_error',
      code: null,
      param: null,
    });
    expect(openAICohere.parseError(429, '{"message":"trial key limit"}').type).toBe('rate_limit_error');
    expect(openAICohere.parseError(498, '{"message":"invalid token"}').type).toBe('authentication_error');
    expect(openAICohere.parseError(503, '{"message":"busy"}').type).toBe('api_error');
  });

  it('reads a non-JSON error body as text', () => {
    expect(openAICohere.parseError(502, 'Bad gateway').message).toBe('Bad gateway');
  });

  it('takes usage from billed_units when tokens are missing', () => {
    const ctx = contextFor({ model: 'command-r', messages: [] });
    const answer = openAICohere.translateResponse!(
      {
        id: 'x',
        message: { content: [] },
        finish_reason: 'COMPLETE',
        usage: { billed_units: { input_tokens: 2, output_tokens: 3 } },
      },
      ctx,
    );
    expect(answer).toMatchObject({ usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } });
  });

  it('a stream that ends without message-end ends with an error event, not [DONE]', () => {
    const ctx = contextFor({ model: 'command-r', messages: [], stream: true });
    const start = { type: 'message-start', id: 'c-1', delta: { message: { role: 'assistant' } } };
    const events = openAIEvents(
      translateStream(ctx, [Buffer.from(`event: message-start\ndata: ${JSON.stringify(start)}\n\n`)]),
    );
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ error: { code: 'upstream_error', type: 'api_error' } });
  });
});
