// Bodies nested 100k levels deep, in every field a client controls, on every POST route: a 400 that
// names the nesting limit, and no upstream call (before the limit they gave a 500, some after the
// upstream had been called and billed).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/server/json-depth.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const LEVELS = 100_000;
const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const HI = '"messages":[{"role":"user","content":"hi"}]';

/** Route and body text; each body nests LEVELS deep somewhere. */
const DEEP_BODIES: [string, string, string][] = [
  [
    'chat: message content',
    '/v1/chat/completions',
    `{"model":"gpt-4o","messages":[{"role":"user","content":${deepArray(LEVELS)}}]}`,
  ],
  [
    'chat: tool parameters',
    '/v1/chat/completions',
    `{"model":"gpt-4o",${HI},"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject(LEVELS)}}}]}`,
  ],
  [
    'chat: response_format schema',
    '/v1/chat/completions',
    `{"model":"gpt-4o",${HI},"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${deepObject(LEVELS)}}}}`,
  ],
  [
    'chat streamed: extra_body',
    '/v1/chat/completions',
    `{"model":"gpt-4o","stream":true,${HI},"extra_body":${deepObject(LEVELS)}}`,
  ],
  [
    'chat: a string full of brackets before the deep part',
    '/v1/chat/completions',
    `{"model":"gpt-4o","messages":[{"role":"user","content":"\\"[[[{{{\\\\"}],"metadata":${deepObject(LEVELS)}}`,
  ],
  ['embeddings: input', '/v1/embeddings', `{"model":"text-embedding-3-small","input":${deepArray(LEVELS)}}`],
  [
    'embeddings: an extra field',
    '/v1/embeddings',
    `{"model":"text-embedding-3-small","input":"x","extra":${deepObject(LEVELS)}}`,
  ],
  [
    'images: extra_body',
    '/v1/images/generations',
    `{"model":"dall-e-3","prompt":"x","extra_body":${deepObject(LEVELS)}}`,
  ],
  [
    'images: an extra field',
    '/v1/images/generations',
    `{"model":"dall-e-3","prompt":"x","z":${deepArray(LEVELS)}}`,
  ],
  ['images: the body itself', '/v1/images/generations', deepArray(LEVELS)],
];

interface Answer {
  status: number;
  body: { error?: { message?: string; code?: string } };
}

describe('request body nesting limit', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: 'sk-openai-secret-1', OPENAI_BASE_URL: `${upstream.url}/v1` },
    });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  async function post(path: string, body: string): Promise<Answer> {
    const response = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  function expectNestingRefusal(answer: Answer): void {
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('invalid_request');
    expect(answer.body.error?.message).toContain('nesting limit');
    expect(answer.body.error?.message).toContain(String(MAX_JSON_DEPTH));
  }

  it.each(DEEP_BODIES)('%s: 400 naming the limit, no upstream call', async (_name, path, body) => {
    expectNestingRefusal(await post(path, body));
    expect(upstream.requests).toHaveLength(0);
  });

  it('the Fastify side of the chat route refuses the same bodies', async () => {
    for (const [, path, body] of DEEP_BODIES) {
      const response = await gw.gateway.app.inject({
        method: 'POST',
        url: path,
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        payload: body,
      });
      expectNestingRefusal({ status: response.statusCode, body: response.json() });
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('a body exactly at the limit is served; one level more is refused', async () => {
    // body, tools, the tool, function: 4 levels before the parameters' own.
    const withParameters = (levels: number) =>
      `{"model":"gpt-4o",${HI},"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject(levels)}}}]}`;
    const atLimit = await post('/v1/chat/completions', withParameters(MAX_JSON_DEPTH - 4));
    expect(atLimit.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expectNestingRefusal(await post('/v1/chat/completions', withParameters(MAX_JSON_DEPTH - 3)));
    expect(upstream.requests).toHaveLength(1);
  });

  it('refused bodies are logged as 400s', async () => {
    const records = await gw.requestLog();
    const refused = records.filter(
      (record) => record.status === 400 && JSON.stringify(record.error).includes('nesting limit'),
    );
    expect(refused.length).toBeGreaterThanOrEqual(DEEP_BODIES.length);
  });
});
