// The Messages → Anthropic native pass-through: golden fixtures under test/fixtures/messages-anthropic/
// (the upstream body is the client's text, byte for byte, with only the top-level model value
// swapped), the model-value scanner on its own, and the error step that relays Anthropic's errors.
import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { messagesTranslatorFor } from '../../src/translators/messages/index.js';
import { messagesPassthrough } from '../../src/translators/messages/messages-passthrough.js';
import { topLevelModelSpans, withTopLevelModel } from '../../src/translators/model-field.js';
import type { BuildContext, ChatRequestBody, UpstreamRequest } from '../../src/translators/types.js';
import { describeGoldenCases, FIXTURES, folderNames, type GoldenCase, readText } from '../support/golden.js';

const ROOT = join(FIXTURES, 'messages-anthropic');
const PROVIDER = { name: 'anthropic', protocol: 'anthropic' } as unknown as ProviderConfig;

function contextOf(testCase: GoldenCase): BuildContext {
  const headersFile = join(testCase.dir, 'client-headers.json');
  const ctx: BuildContext = {
    provider: PROVIDER,
    model: readText(join(testCase.dir, 'upstream-model.txt')).trim(),
    stream: testCase.request.stream === true,
    body: testCase.request as ChatRequestBody,
    rawBody: testCase.rawRequest,
  };
  if (existsSync(headersFile)) ctx.clientHeaders = JSON.parse(readText(headersFile)) as IncomingHttpHeaders;
  return ctx;
}

/**
 * The sent text differs from the client's in one stretch only, and that stretch is the model
 * value: common prefix and suffix cover everything else, and the parsed bodies agree but for model.
 */
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
  expect(JSON.stringify(before.model)).toContain(raw.slice(prefix, raw.length - suffix));
}

describe('Messages → Anthropic (native) golden fixtures', () => {
  it('has the cases', () => {
    expect(folderNames(ROOT)).toEqual(['claude-code-rewrite', 'no-client-headers', 'same-model']);
  });

  it('is the translator for the anthropic protocol', () => {
    expect(messagesTranslatorFor('anthropic')).toBe(messagesPassthrough);
  });

  describeGoldenCases({
    root: ROOT,
    context: contextOf,
    request: {
      build: (ctx) => {
        const built = messagesPassthrough.buildRequest(ctx);
        expectOnlyModelChanged(ctx.rawBody, built.body, ctx.model);
        return built;
      },
      check: (built: UpstreamRequest) => {
        expect(built.path).toBe('/messages');
        expect(built.droppedParams).toEqual([]);
        expect(Object.keys(built.headers).sort()).not.toContain('x-api-key');
      },
      // The body as the exact text sent: the golden pins every byte.
      golden: (built) => ({ path: built.path, headers: built.headers, body: built.body }),
    },
  });
});

describe('the top-level model scanner', () => {
  const swap = (text: string, model = 'NEW') => withTopLevelModel(text, model);

  it('replaces the top-level value only, whatever the spacing', () => {
    expect(swap('{"model":"a","x":1}')).toBe('{"model":"NEW","x":1}');
    expect(swap('{ "model" : "a" , "x":1}')).toBe('{ "model" : "NEW" , "x":1}');
    expect(swap('\n{\r\n\t"x": 1,\r\n\t"model":\n\t\t"a"\r\n}\n')).toBe(
      '\n{\r\n\t"x": 1,\r\n\t"model":\n\t\t"NEW"\r\n}\n',
    );
  });

  it('skips "model" keys nested in messages, tools and metadata', () => {
    const text =
      '{"messages":[{"role":"user","content":[{"type":"tool_use","input":{"model":"in"}}]}],"metadata":{"model":"m"},"model":"top"}';
    expect(swap(text)).toBe(text.replace('"model":"top"', '"model":"NEW"'));
  });

  it('is not fooled by quotes, braces and "model" inside strings before the key', () => {
    const text = String.raw`{"system":"say \"model\": \"x\" and {\"model\":1} \\","a":["}\"",{"b":"]"}],"model":"top"}`;
    expect(JSON.parse(swap(text))).toEqual({ ...JSON.parse(text), model: 'NEW' });
    expect(swap(text)).toBe(text.replace('"model":"top"', '"model":"NEW"'));
  });

  it('finds a key written with escapes, and every duplicate top-level key', () => {
    expect(swap('{"mod\\u0065l":"a"}')).toBe('{"mod\\u0065l":"NEW"}');
    expect(swap('{"model":"a","x":{"model":"b"},"model":"c"}')).toBe(
      '{"model":"NEW","x":{"model":"b"},"model":"NEW"}',
    );
  });

  it('replaces a value that is not a string, and numbers and literals around it are skipped', () => {
    expect(swap('{"n":-1.5e3,"t":true,"z":null,"model":42}')).toBe(
      '{"n":-1.5e3,"t":true,"z":null,"model":"NEW"}',
    );
  });

  it('writes the new model as a JSON string', () => {
    expect(swap('{"model":"a"}', 'we"ird\\name')).toBe('{"model":"we\\"ird\\\\name"}');
  });

  it('adds the model as the first member when the body has none', () => {
    expect(swap('{"max_tokens":1}')).toBe('{"model":"NEW","max_tokens":1}');
    expect(swap(' { } ')).toBe(' {"model":"NEW" } ');
    expect(topLevelModelSpans('{"messages":[{"model":"x"}]}')).toEqual([]);
  });

  it('leaves text that is not an object alone', () => {
    expect(swap('[1,2]')).toBe('[1,2]');
  });
});

describe('the native error step', () => {
  it("relays an error in Anthropic's shape as it came", () => {
    const body = JSON.stringify({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy',
    });
    expect(messagesPassthrough.parseError(529, body)).toEqual({
      message: 'Overloaded',
      type: 'overloaded_error',
      code: null,
      param: null,
      relay: true,
    });
  });

  it('reads other bodies without relaying them', () => {
    expect(messagesPassthrough.parseError(502, '<html>Bad gateway</html>')).toMatchObject({
      message: '<html>Bad gateway</html>',
    });
    expect(messagesPassthrough.parseError(502, '<html>Bad gateway</html>').relay).toBeUndefined();
    const openAIShaped = JSON.stringify({ error: { message: 'nope', type: 'invalid_request_error' } });
    expect(messagesPassthrough.parseError(400, openAIShaped).relay).toBeUndefined();
  });
});
