// Golden fixtures for the embeddings translators: one folder per case under
// test/fixtures/openai-embeddings-<provider>/. Each holds the client's request.json, the expected
// upstream-request.json (path, dropped params, body), the upstream-response.json and the expected
// response.json (for a pass-through, the upstream answer relayed unchanged). The upstream model is
// the request's model without its `provider:` prefix, as the router gives it. UPDATE_GOLDEN=1
// rewrites the expected files; the runner is shared, in test/support/golden.ts.
import { join } from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import type { Protocol } from '../../src/providers/registry.js';
import { embeddingsTranslatorFor } from '../../src/translators/embeddings/index.js';
import { floatsToBase64 } from '../../src/translators/embeddings/types.js';
import type { BuildContext, ChatRequestBody, ChatTranslator } from '../../src/translators/types.js';
import { describeGoldenCases, FIXTURES, fixtureSuites } from '../support/golden.js';

const PROTOCOLS: Record<string, Protocol> = { openai: 'openai', gemini: 'gemini', cohere: 'cohere' };

function translatorOf(provider: string): ChatTranslator {
  const translator = embeddingsTranslatorFor(PROTOCOLS[provider] ?? 'ideogram');
  if (translator === undefined) throw new Error(`no embeddings translator for ${provider}`);
  return translator;
}

function contextOf(
  provider: string,
  body: Record<string, unknown>,
  rawBody = JSON.stringify(body),
): BuildContext {
  const model = String(body.model);
  return {
    provider: { name: provider, protocol: PROTOCOLS[provider] } as unknown as ProviderConfig,
    model: model.startsWith(`${provider}:`) ? model.slice(provider.length + 1) : model,
    stream: false,
    body: body as unknown as ChatRequestBody,
    rawBody,
  };
}

const suites = fixtureSuites('openai-embeddings-');

describe('embeddings golden fixtures', () => {
  it('covers OpenAI, Gemini and Cohere', () => {
    expect(suites).toEqual([
      'openai-embeddings-cohere',
      'openai-embeddings-gemini',
      'openai-embeddings-openai',
    ]);
  });

  describe.each(suites)('%s', (suite) => {
    const provider = suite.slice('openai-embeddings-'.length);
    const translator = translatorOf(provider);
    describeGoldenCases({
      root: join(FIXTURES, suite),
      context: ({ request, rawRequest }) => contextOf(provider, request, rawRequest),
      request: {
        build: (ctx) => translator.buildRequest(ctx),
        check: (request) => expect(request.headers).toEqual({}),
        golden: (request) => ({
          path: request.path,
          droppedParams: request.droppedParams,
          body: JSON.parse(request.body),
        }),
      },
      response: {
        title: 'answers in OpenAI shape',
        translate: (upstream, ctx) => translator.translateResponse?.(upstream, ctx) ?? upstream,
        everyCase: true,
      },
    });
  });
});

describe('embeddings edge cases', () => {
  const gemini = translatorOf('gemini');
  const cohere = translatorOf('cohere');
  const openai = translatorOf('openai');

  it('relays the client body byte for byte when the model needs no rewrite', () => {
    const raw = '{"model":"text-embedding-3-small",  "input":"x"}';
    const request = openai.buildRequest(contextOf('openai', JSON.parse(raw), raw));
    expect(request).toMatchObject({ path: '/embeddings', body: raw });
  });

  it.each([
    ['gemini', gemini],
    ['cohere', cohere],
  ])('%s refuses token ids with a 400 naming input', (provider, translator) => {
    const ctx = contextOf(provider, { model: 'm', input: [1, 2, 3] });
    expect(() => translator.buildRequest(ctx)).toThrow(GatewayError);
    expect(() => translator.buildRequest(ctx)).toThrow(
      expect.objectContaining({ status: 400, param: 'input' }),
    );
  });

  it('refuses more texts than Cohere takes in one call', () => {
    const ctx = contextOf('cohere', { model: 'embed-english-v3.0', input: Array(97).fill('x') });
    expect(() => cohere.buildRequest(ctx)).toThrow(/at most 96 texts/);
  });

  it('answers 502 when the upstream sends too few vectors', () => {
    const ctx = contextOf('gemini', { model: 'text-embedding-004', input: ['a', 'b'] });
    expect(() => gemini.translateResponse?.({ embeddings: [{ values: [1] }] }, ctx)).toThrow(
      expect.objectContaining({ status: 502, provider: 'gemini' }),
    );
  });

  it('encodes base64 as little-endian float32, which the OpenAI SDK decodes back', async () => {
    const values = [0.5, -1, 0.25, 3.140000104904175];
    const encoded = floatsToBase64(values);
    // The SDK's own decoder, through a response it is made to read.
    const client = new OpenAI({
      apiKey: 'x',
      baseURL: 'http://sdk.invalid/v1',
      fetch: async () =>
        new Response(
          JSON.stringify({
            object: 'list',
            data: [{ object: 'embedding', index: 0, embedding: encoded }],
            model: 'm',
            usage: { prompt_tokens: 0, total_tokens: 0 },
          }),
          { headers: { 'content-type': 'application/json' } },
        ),
    });
    const answer = await client.embeddings.create({ model: 'm', input: 'x' });
    expect(answer.data[0]?.embedding).toEqual(values);
  });

  it('reads Cohere and Google errors', () => {
    expect(cohere.parseError(400, '{"id":"1","message":"invalid request: texts too long"}')).toMatchObject({
      message: 'invalid request: texts too long',
    });
    expect(
      gemini.parseError(400, '{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}'),
    ).toMatchObject({ message: 'bad', type: 'invalid_request_error' });
  });
});
