// The Responses → OpenAI native pass-through (a provider with `responses: true`): golden fixtures
// under test/fixtures/responses-native/ (the upstream body is the client's text, byte for byte,
// with only the top-level model value swapped; POST <base>/responses), no response or stream step
// (the answer and the stream are relayed as they came), and the error step that relays OpenAI's
// errors.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { responsesTranslatorFor } from '../../src/translators/responses/index.js';
import { responsesPassthrough } from '../../src/translators/responses/responses-passthrough.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';
import { describeGoldenCases, FIXTURES, folderNames, type GoldenCase, readText } from '../support/golden.js';

const ROOT = join(FIXTURES, 'responses-native');
const PROVIDER = { name: 'openai', protocol: 'openai', responses: true } as unknown as ProviderConfig;

function contextOf(testCase: GoldenCase): BuildContext {
  return {
    provider: PROVIDER,
    model: readText(join(testCase.dir, 'upstream-model.txt')).trim(),
    stream: testCase.request.stream === true,
    body: testCase.request as ChatRequestBody,
    rawBody: testCase.rawRequest,
  };
}

/** The sent text differs from the client's in the model value only. */
function expectOnlyModelChanged(raw: string, sent: string, model: string): void {
  const before = JSON.parse(raw) as Record<string, unknown>;
  expect(JSON.parse(sent)).toEqual({ ...before, model });
  if (before.model === model) {
    expect(sent).toBe(raw);
    return;
  }
  let prefix = 0;
  while (prefix < raw.length && raw[prefix] === sent[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < raw.length - prefix &&
    suffix < sent.length - prefix &&
    raw[raw.length - 1 - suffix] === sent[sent.length - 1 - suffix]
  )
    suffix++;
  expect(JSON.stringify(model)).toContain(sent.slice(prefix, sent.length - suffix));
}

describe('Responses → OpenAI (native) golden fixtures', () => {
  it('has the cases', () => {
    expect(folderNames(ROOT)).toEqual(['model-inside-items', 'rewrite-model', 'same-model']);
  });

  it('is the translator for an OpenAI-protocol provider that serves /responses', () => {
    expect(responsesTranslatorFor('openai', PROVIDER)).toBe(responsesPassthrough);
  });

  it('has no response or stream step: the answer and the stream are relayed byte for byte', () => {
    expect(responsesPassthrough.translateResponse).toBeUndefined();
    expect(responsesPassthrough.createStreamTranslator).toBeUndefined();
  });

  describeGoldenCases({
    root: ROOT,
    context: contextOf,
    request: {
      build: (ctx) => {
        const built = responsesPassthrough.buildRequest(ctx);
        expectOnlyModelChanged(ctx.rawBody, built.body, ctx.model);
        return built;
      },
      check: (built) => {
        expect(built.path).toBe('/responses');
        expect(built.droppedParams).toEqual([]);
        expect(built.headers).toEqual({});
      },
      // The body as the exact text sent: the golden pins every byte.
      golden: (built) => ({ path: built.path, headers: built.headers, body: built.body }),
    },
  });
});

describe('Responses → OpenAI (native): errors', () => {
  it("relays OpenAI's error body as it came", () => {
    const body = JSON.stringify({
      error: {
        message: "Previous response with id 'resp_x' not found.",
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      },
    });
    expect(responsesPassthrough.parseError(404, body)).toEqual({
      message: "Previous response with id 'resp_x' not found.",
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
      relay: true,
    });
  });

  it('reads a body that is not OpenAI-shaped without relaying it', () => {
    const detail = responsesPassthrough.parseError(502, '<html>Bad gateway</html>');
    expect(detail.message).toBe('<html>Bad gateway</html>');
    expect(detail.relay).toBeUndefined();
  });
});
