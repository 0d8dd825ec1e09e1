// Golden fixtures for the image translators: one folder per case under
// test/fixtures/openai-images-<provider>/. Each holds the client's request.json and the expected
// upstream-request.json (path, dropped params, content type, and the body: JSON, or the form
// fields of a multipart body); cases with an upstream-response.json also the expected
// response.json. UPDATE_GOLDEN=1 rewrites the expected files; the runner is shared, in
// test/support/golden.ts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import type { Protocol } from '../../src/providers/registry.js';
import { aspectRatioFor, ideogramImages } from '../../src/translators/images/ideogram-images.js';
import { imageTranslatorFor } from '../../src/translators/images/index.js';
import { multipartBody } from '../../src/translators/images/multipart.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';
import { parseMultipart } from '../support/emulator/images-protocol.js';
import { describeGoldenCases, FIXTURES } from '../support/golden.js';

const PROVIDERS: Record<string, Protocol> = { openai: 'openai', recraft: 'openai', ideogram: 'ideogram' };

function contextOf(
  provider: string,
  body: Record<string, unknown>,
  raw = JSON.stringify(body),
): BuildContext {
  const model = typeof body.model === 'string' ? body.model : '';
  return {
    provider: { name: provider, protocol: PROVIDERS[provider] } as unknown as ProviderConfig,
    // What the router would hand over: the model after the `provider:` prefix.
    model: model.includes(':') ? model.slice(model.indexOf(':') + 1) : model,
    stream: false,
    body: body as ChatRequestBody,
    rawBody: raw,
  };
}

/** The body as a test can compare it: parsed JSON, or the fields of a multipart form. */
function bodyOf(body: string, contentType: string | undefined): unknown {
  if (contentType?.startsWith('multipart/form-data')) return { form: parseMultipart(body, contentType) };
  return JSON.parse(body);
}

for (const [provider, protocol] of Object.entries(PROVIDERS)) {
  const root = join(FIXTURES, `openai-images-${provider}`);
  const translator = imageTranslatorFor(protocol)!;
  describe(`OpenAI images → ${provider} golden fixtures`, () => {
    describeGoldenCases({
      root,
      context: ({ request, rawRequest }) => contextOf(provider, request, rawRequest),
      request: {
        build: (ctx) => translator.buildRequest(ctx),
        golden: (request) => {
          const contentType = request.headers['content-type'];
          return {
            path: request.path,
            droppedParams: request.droppedParams,
            contentType: contentType?.replace(/boundary=.*$/, 'boundary=…') ?? 'application/json',
            body: bodyOf(request.body, contentType),
          };
        },
      },
      response: {
        title: 'translates the answer',
        // A pass-through relays the upstream bytes as they are.
        translate: (upstream, ctx) => translator.translateResponse?.(upstream, ctx) ?? upstream,
      },
    });
  });
}

describe('image translator edge cases', () => {
  it('maps sizes to the nearest Ideogram aspect ratio', () => {
    expect(aspectRatioFor('1024x1024')).toBe('1x1');
    expect(aspectRatioFor('1792x1024')).toBe('16x9');
    expect(aspectRatioFor('1024x1792')).toBe('9x16');
    expect(aspectRatioFor('1536x1024')).toBe('3x2');
    expect(aspectRatioFor('16:10')).toBe('16x10');
    expect(aspectRatioFor('4000x1000')).toBe('3x1');
    expect(aspectRatioFor('auto')).toBeUndefined();
    expect(() => aspectRatioFor('big')).toThrow(GatewayError);
  });

  it('sends every legacy Ideogram model to the legacy endpoint, with its own aspect ratios', () => {
    for (const model of ['V_1', 'V_1_TURBO', 'V_2', 'V_2_TURBO', 'V_2A', 'V_2A_TURBO']) {
      const request = ideogramImages.buildRequest(
        contextOf('ideogram', { model: `ideogram:${model}`, prompt: 'x', size: '1024x2048' }),
      );
      expect(request.path).toBe('/generate');
      // 1:2 is not a legacy ratio; the nearest on a log scale is 9:16.
      expect(JSON.parse(request.body)).toEqual({
        image_request: { prompt: 'x', model, aspect_ratio: 'ASPECT_9_16' },
      });
    }
  });

  it('refuses an Ideogram model it has no endpoint for, naming the field and the models it serves', () => {
    const call = () =>
      ideogramImages.buildRequest(contextOf('ideogram', { model: 'ideogram:V_9', prompt: 'x' }));
    expect(call).toThrow(GatewayError);
    expect(call).toThrow(/"V_9".*V_3, V_1, V_1_TURBO, V_2, V_2_TURBO, V_2A, V_2A_TURBO/);
    try {
      call();
    } catch (error) {
      expect(error).toMatchObject({ status: 400, param: 'model' });
    }
  });

  it('reads Ideogram error bodies', () => {
    expect(ideogramImages.parseError(422, '{"detail":"bad aspect"}').message).toBe('bad aspect');
    expect(ideogramImages.parseError(401, '{"detail":[{"msg":"x"}]}').message).toBe('[{"msg":"x"}]');
    expect(ideogramImages.parseError(500, 'oops').message).toBe('oops');
  });

  it('builds multipart bodies that survive quotes, line breaks and the boundary text', () => {
    const form = multipartBody([
      ['prompt', 'a "quoted"\r\n--line'],
      ['we"ird', 'v'],
    ]);
    expect(parseMultipart(form.body, form.contentType)).toEqual({
      prompt: ['a "quoted"\r\n--line'],
      'we%22ird': ['v'],
    });
  });

  it('has no translator for chat-only protocols', () => {
    expect(imageTranslatorFor('anthropic')).toBeUndefined();
    expect(imageTranslatorFor('gemini')).toBeUndefined();
  });
});
