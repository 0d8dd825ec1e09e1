// The OpenAI → Anthropic translator against golden fixtures (test/fixtures/openai-anthropic/<case>/):
// request.json → upstream-request.json (+ dropped-params.json), upstream-response.json → response.json,
// upstream-stream.txt → expected-chunks.json. Every stream is replayed whole and split in two at every
// byte offset, which must give the same output. UPDATE_GOLDEN=1 rewrites the expected files.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import { SseParser } from '../../src/streaming/sse-parser.js';
import { openAIAnthropic } from '../../src/translators/openai-anthropic.js';
import type { BuildContext, ChatRequestBody } from '../../src/translators/types.js';

const ROOT = join(import.meta.dirname, '../fixtures/openai-anthropic');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

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

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** Compares with the golden file, or writes it when updating. */
function golden(path: string, actual: unknown): void {
  if (UPDATE) writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
  expect(actual).toEqual(readJson(path));
}

/** `created` is the translation time; fixtures hold 0. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalized);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = key === 'created' ? 0 : normalized(inner);
  return out;
}

/** Runs upstream bytes through a fresh stream translator, fed in the given pieces. */
function translateStream(ctx: BuildContext, pieces: Buffer[]): string {
  const translator = openAIAnthropic.createStreamTranslator!(ctx);
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const chunk = translator.push(piece);
    if (chunk !== undefined) out.push(chunk);
  }
  const tail = translator.end();
  if (tail !== undefined) out.push(tail);
  return Buffer.concat(out)
    .toString('utf8')
    .replace(/"created":\d+/g, '"created":0');
}

/** The OpenAI events a client would read: chunk objects, error objects, and "[DONE]". */
function openAIEvents(text: string): unknown[] {
  const parser = new SseParser();
  const events = [...parser.push(text), ...parser.end()];
  for (const event of events) expect(event.event).toBeUndefined();
  return events.map((event) => (event.data === '[DONE]' ? '[DONE]' : JSON.parse(event.data)));
}

const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('OpenAI → Anthropic golden fixtures', () => {
  it('has the cases the translator must cover', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(8);
  });

  describe.each(CASES)('%s', (name) => {
    const dir = join(ROOT, name);
    const request = readJson(join(dir, 'request.json')) as ChatRequestBody;
    const ctx = contextFor(request);

    it('builds the upstream request', () => {
      const built = openAIAnthropic.buildRequest(ctx);
      expect(built.path).toBe('/messages');
      expect(built.headers).toEqual({});
      golden(join(dir, 'upstream-request.json'), JSON.parse(built.body));
      const droppedPath = join(dir, 'dropped-params.json');
      if (UPDATE && built.droppedParams.length > 0) golden(droppedPath, built.droppedParams);
      const expected = existsSync(droppedPath) ? readJson(droppedPath) : [];
      expect(built.droppedParams).toEqual(expected);
    });

    if (existsSync(join(dir, 'upstream-response.json'))) {
      it('translates the upstream answer', () => {
        const upstream = readJson(join(dir, 'upstream-response.json'));
        golden(join(dir, 'response.json'), normalized(openAIAnthropic.translateResponse!(upstream, ctx)));
      });
    }

    if (existsSync(join(dir, 'upstream-stream.txt'))) {
      const bytes = readFileSync(join(dir, 'upstream-stream.txt'));

      it('translates the stream replayed whole', () => {
        golden(join(dir, 'expected-chunks.json'), openAIEvents(translateStream(ctx, [bytes])));
      });

      it('gives the same output split at every byte offset', () => {
        const whole = translateStream(ctx, [bytes]);
        for (let offset = 1; offset < bytes.length; offset++) {
          const split = translateStream(ctx, [bytes.subarray(0, offset), bytes.subarray(offset)]);
          if (split !== whole) expect.fail(`output differs when split at byte ${offset}`);
        }
      });
    }
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
