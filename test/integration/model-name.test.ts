// Model names at the boundary: names with CR/LF, NUL, other control characters, unpaired surrogates
// or past the length limit are a 400 naming `model` before any upstream call, on every route that
// takes one; valid names in any script are served, and the gateway's headers carry them
// percent-encoded (they used to break x-ai-proxy-model with a 500 after the billed upstream call).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_MODEL_NAME_LENGTH } from '../../src/server/model-name.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const UNICODE_ALIAS = '模型-α';
const UNICODE_UPSTREAM = 'модель-😀';
const CONFIG = `model_mappings:\n  "${UNICODE_ALIAS}": "openai:${UNICODE_UPSTREAM}"\n`;

const INVALID_NAMES: [string, string][] = [
  ['CR/LF', 'gpt-4o\r\nx-injected: 1'],
  ['LF', 'gpt-4o\n'],
  ['NUL', 'gpt\u0000-4o'],
  ['tab', 'gpt\t4o'],
  ['DEL', 'gpt-4o\u007f'],
  ['C1 control', 'gpt-4o\u0085'],
  ['unpaired surrogate', 'gpt-4o\ud800'],
  ['100k characters', 'g'.repeat(100_000)],
  ['one past the length limit', 'g'.repeat(MAX_MODEL_NAME_LENGTH + 1)],
  ['100k CJK characters', '模'.repeat(100_000)],
];

type Shape = 'chat' | 'chat streamed' | 'embeddings' | 'images';
const SHAPES: Shape[] = ['chat', 'chat streamed', 'embeddings', 'images'];

function requestFor(shape: Shape, fields: Record<string, unknown>): [string, Record<string, unknown>] {
  const messages = [{ role: 'user', content: 'hi' }];
  switch (shape) {
    case 'chat':
      return ['/v1/chat/completions', { messages, ...fields }];
    case 'chat streamed':
      return ['/v1/chat/completions', { messages, stream: true, ...fields }];
    case 'embeddings':
      return ['/v1/embeddings', { input: 'hi', ...fields }];
    case 'images':
      return ['/v1/images/generations', { prompt: 'an otter', ...fields }];
  }
}

/** Visible ASCII and space only: what every HTTP client reads back byte for byte. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('model names at the boundary', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      files: { 'config.yml': CONFIG },
      env: {
        OPENAI_API_KEY: 'sk-openai-secret-1',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        ANTHROPIC_API_KEY: 'sk-ant-secret-1',
        ANTHROPIC_BASE_URL: `${upstream.url}/v1`,
      },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  function post(path: string, body: unknown): Promise<Response> {
    return fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function expectRefused(response: Response, param: string): Promise<void> {
    const body = (await response.json()) as { error: { code: string; param: string; message: string } };
    expect(response.status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.param).toBe(param);
    expect(body.error.message).toContain(`'${param}'`);
    // The message never echoes the name back (it may be 100k characters).
    expect(body.error.message.length).toBeLessThan(300);
  }

  describe.each(SHAPES)('%s', (shape) => {
    it.each(INVALID_NAMES)('model with %s: 400 naming model, no upstream call', async (_name, model) => {
      const [path, body] = requestFor(shape, { model });
      await expectRefused(await post(path, body), 'model');
      expect(upstream.requests).toHaveLength(0);
    });
  });

  it.each(['chat', 'images'] as const)('%s: a bad name in `models` is a 400 naming it', async (shape) => {
    const [path, body] = requestFor(shape, { model: 'gpt-4o', models: ['gpt-4o-mini', 'bad\r\nname'] });
    await expectRefused(await post(path, body), 'models[1]');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a name at the length limit is not refused for its length', async () => {
    const response = await post('/v1/chat/completions', {
      model: `openai:${'g'.repeat(MAX_MODEL_NAME_LENGTH - 'openai:'.length)}`,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ai-proxy-model')).toBe('g'.repeat(MAX_MODEL_NAME_LENGTH - 7));
  });

  function expectEncodedModel(response: Response, model: string): void {
    const header = response.headers.get('x-ai-proxy-model');
    expect(header).toMatch(PRINTABLE_ASCII);
    expect(decodeURIComponent(header ?? '')).toBe(model);
  }

  it('a non-Latin-1 alias from model_mappings: 200 with a parseable, percent-encoded header', async () => {
    const response = await post('/v1/chat/completions', {
      model: UNICODE_ALIAS,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    expectEncodedModel(response, UNICODE_UPSTREAM);
    const answer = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]?.message.content).toContain(UNICODE_UPSTREAM);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.body).toMatchObject({ model: UNICODE_UPSTREAM });
  });

  it('the same alias streamed: 200, encoded header, the stream runs to [DONE]', async () => {
    const response = await post('/v1/chat/completions', {
      model: UNICODE_ALIAS,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    expectEncodedModel(response, UNICODE_UPSTREAM);
    expect(await response.text()).toContain('data: [DONE]');
  });

  it('the official SDK reads the encoded header too', async () => {
    const { response } = await gw
      .client()
      .chat.completions.create({ model: UNICODE_ALIAS, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expectEncodedModel(response, UNICODE_UPSTREAM);
  });

  it.each(['embeddings', 'images'] as const)(
    '%s with a CJK/emoji name: 200, encoded header',
    async (shape) => {
      const model = `openai:${UNICODE_UPSTREAM}`;
      const [path, body] = requestFor(shape, { model });
      const response = await post(path, body);
      expect(response.status).toBe(200);
      expectEncodedModel(response, UNICODE_UPSTREAM);
    },
  );

  it('a dropped parameter whose name has CR/LF is named percent-encoded, not a 500', async () => {
    const response = await post('/v1/chat/completions', {
      model: 'anthropic:claude-3-5-sonnet-latest',
      messages: [{ role: 'user', content: 'hi' }],
      'bad\r\nname': 1,
      ключ: true,
    });
    expect(response.status).toBe(200);
    const header = response.headers.get('x-ai-proxy-dropped-params') ?? '';
    expect(header).toMatch(PRINTABLE_ASCII);
    expect(decodeURIComponent(header)).toBe('bad\r\nname,ключ');
  });
});
