// count_tokens translators: golden fixtures under test/fixtures/count-tokens-<protocol>/ (Anthropic:
// the client's text with only the model value swapped, its version and beta headers forwarded;
// Gemini: the translated request whole as a generateContentRequest, totalTokens → input_tokens),
// which providers count upstream, and the Gemini answer and error steps.
import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { fixedUpstreamPath } from '../../src/providers/fixed-path.js';
import type { Protocol } from '../../src/providers/registry.js';
import { countsUpstream, countTokensTranslatorFor } from '../../src/translators/count-tokens/index.js';
import type { BuildContext, ChatRequestBody, ChatTranslator } from '../../src/translators/types.js';
import { describeGoldenCases, FIXTURES, type GoldenCase, readText } from '../support/golden.js';

const UPSTREAM_MODELS: Partial<Record<Protocol, string>> = {
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
};

function providerOf(protocol: Protocol, fixedPath?: string): ProviderConfig {
  return { name: protocol, protocol, fixedPath } as unknown as ProviderConfig;
}

function translatorOf(protocol: Protocol): ChatTranslator {
  const translator = countTokensTranslatorFor(protocol);
  if (translator === undefined) throw new Error(`no count translator for ${protocol}`);
  return translator;
}

function contextOf(protocol: Protocol, testCase: GoldenCase): BuildContext {
  const ctx: BuildContext = {
    provider: providerOf(protocol),
    model: UPSTREAM_MODELS[protocol] ?? 'model',
    stream: false,
    body: testCase.request as ChatRequestBody,
    rawBody: testCase.rawRequest,
  };
  const headersFile = join(testCase.dir, 'client-headers.json');
  if (existsSync(headersFile)) ctx.clientHeaders = JSON.parse(readText(headersFile)) as IncomingHttpHeaders;
  return ctx;
}

for (const protocol of ['anthropic', 'gemini'] as const) {
  describe(`count_tokens → ${protocol} (golden)`, () => {
    const translator = translatorOf(protocol);
    describeGoldenCases({
      root: join(FIXTURES, `count-tokens-${protocol}`),
      context: (testCase) => contextOf(protocol, testCase),
      request: {
        build: (ctx) => translator.buildRequest(ctx),
        check: (built) => {
          expect(built.droppedParams).toEqual([]);
          if (protocol === 'anthropic') expect(built.path).toBe('/messages/count_tokens');
        },
        golden: (built) => ({ path: built.path, headers: built.headers, body: JSON.parse(built.body) }),
      },
      response:
        translator.translateResponse === undefined
          ? undefined
          : {
              title: 'translates the count into input_tokens',
              translate: (upstream, ctx) => translator.translateResponse!(upstream, ctx),
            },
    });
  });
}

describe('count_tokens → anthropic', () => {
  it('sends the client text byte for byte but the model value, and relays the answer as it is', () => {
    const raw = readText(join(FIXTURES, 'count-tokens-anthropic', 'beta-headers', 'request.json')).trim();
    const built = translatorOf('anthropic').buildRequest({
      provider: providerOf('anthropic'),
      model: 'claude-sonnet-4-5',
      stream: false,
      body: JSON.parse(raw) as ChatRequestBody,
      rawBody: raw,
    });
    expect(built.body).toBe(raw.replace('"claude-sonnet-4-5-20250929"', '"claude-sonnet-4-5"'));
    // No client headers (the CLI, tests): Anthropic's default version.
    expect(built.headers).toEqual({ 'anthropic-version': '2023-06-01' });
    expect(translatorOf('anthropic').translateResponse).toBeUndefined();
  });

  it('relays an Anthropic-shaped error as it came', () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'no' } });
    expect(translatorOf('anthropic').parseError(400, body)).toMatchObject({ message: 'no', relay: true });
  });
});

describe('count_tokens → gemini', () => {
  const ctx = (model: string, fixedPath?: string): BuildContext => ({
    provider: providerOf('gemini', fixedPath),
    model,
    stream: false,
    body: { model: 'x', messages: [{ role: 'user', content: 'Hi' }] },
    rawBody: '{"model":"x","messages":[{"role":"user","content":"Hi"}]}',
  });

  it('a catalog handle gets the countTokens method in place of its own', () => {
    const built = translatorOf('gemini').buildRequest(ctx('gemini-2.5-pro'));
    expect(built.path).toBe('/models/gemini-2.5-pro:countTokens');
    expect(fixedUpstreamPath('/google/v1beta/models/gemini-2.5-pro:generateContent', built.path)).toBe(
      '/google/v1beta/models/gemini-2.5-pro:countTokens',
    );
  });

  it('refuses a model name that would leave /models/', () => {
    expect(() => translatorOf('gemini').buildRequest(ctx('../files'))).toThrow(GatewayError);
  });

  it('an answer without totalTokens is the upstream’s error, never a zero', () => {
    const translate = translatorOf('gemini').translateResponse!;
    expect(() => translate({ promptTokensDetails: [] }, ctx('gemini-2.5-pro'))).toThrow(/totalTokens/);
    expect(() => translate({ totalTokens: -1 }, ctx('gemini-2.5-pro'))).toThrow(GatewayError);
  });

  it('reads Google’s error without relaying its shape to an Anthropic client', () => {
    const body = JSON.stringify({ error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } });
    const detail = translatorOf('gemini').parseError(400, body);
    expect(detail.message).toBe('bad');
    expect(detail.relay).toBeUndefined();
  });
});

describe('countsUpstream', () => {
  it('Anthropic and Gemini count upstream; a catalog handle only when the count is a :method', () => {
    expect(countsUpstream(providerOf('anthropic'))).toBe(true);
    expect(countsUpstream(providerOf('gemini'))).toBe(true);
    expect(countsUpstream(providerOf('gemini', '/google/v1beta/models/gemini-2.5-pro:generateContent'))).toBe(
      true,
    );
    expect(countsUpstream(providerOf('anthropic', '/anthropic/v1/messages'))).toBe(false);
    for (const protocol of ['openai', 'cohere'] as const)
      expect(countsUpstream(providerOf(protocol))).toBe(false);
  });
});
