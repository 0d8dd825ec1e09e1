// POST /v1/embeddings end to end: the official OpenAI SDK talks to the gateway, the emulator
// answers as OpenAI, Gemini (embedContent / batchEmbedContents) and Cohere (/v2/embed) do, and
// checks what it got. The SDK asks for base64 unless told otherwise and decodes it itself, so the
// default calls also prove the gateway's float32 encoding for providers that answer with floats.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vectorFor } from '../support/emulator/openai-protocol.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const OPENAI_KEY = 'sk-openai-embed-secret';
const GEMINI_KEY = 'AIza-gemini-embed-secret';
const COHERE_KEY = 'co-cohere-embed-secret';

/** float32 round trip: what survives base64 is the vector to about 7 digits. */
function expectClose(actual: number[] | undefined, expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  for (const [i, value] of expected.entries()) expect(actual?.[i]).toBeCloseTo(value, 6);
}

describe('POST /v1/embeddings', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        GEMINI_API_KEY: GEMINI_KEY,
        GEMINI_BASE_URL: `${upstream.url}/v1beta`,
        COHERE_API_KEY: COHERE_KEY,
        COHERE_BASE_URL: upstream.url,
        ANTHROPIC_API_KEY: 'sk-ant-embed',
        ANTHROPIC_BASE_URL: `${upstream.url}/v1`,
      },
    });
    client = gw.client();
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${gw.baseURL}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('passes OpenAI through: the SDK asks for base64 and reads floats back', async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: ['hello world', 'bye'] })
      .withResponse();
    expect(data.object).toBe('list');
    expect(data.model).toBe('text-embedding-3-small');
    expect(data.data.map((item) => item.index)).toEqual([0, 1]);
    expectClose(data.data[0]?.embedding, vectorFor('hello world', 8));
    expectClose(data.data[1]?.embedding, vectorFor('bye', 8));
    expect(data.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(response.headers.get('x-ai-proxy-model')).toBe('text-embedding-3-small');
    expect(response.headers.get('x-ai-proxy-key')).not.toContain(OPENAI_KEY);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1/embeddings');
    expect(seen?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(seen?.body).toEqual({
      model: 'text-embedding-3-small',
      input: ['hello world', 'bye'],
      encoding_format: 'base64',
    });
  });

  it('rewrites a provider-prefixed model and relays explicit floats', async () => {
    const data = await client.embeddings.create({
      model: 'openai:text-embedding-3-large',
      input: 'x',
      dimensions: 4,
      encoding_format: 'float',
    });
    expect(data.data[0]?.embedding).toEqual(vectorFor('x', 4));
    expect(upstream.requests[0]?.body).toMatchObject({ model: 'text-embedding-3-large', dimensions: 4 });
  });

  it('embeds one input with Gemini embedContent, the key in x-goog-api-key', async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'gemini:text-embedding-004', input: 'Hello world', encoding_format: 'float' })
      .withResponse();
    expect(data).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: vectorFor('Hello world', 8) }],
      model: 'text-embedding-004',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('gemini');
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1beta/models/text-embedding-004:embedContent');
    expect(seen?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.body).toEqual({
      model: 'models/text-embedding-004',
      content: { parts: [{ text: 'Hello world' }] },
    });
  });

  it('embeds a batch with Gemini batchEmbedContents, base64-encoded for the SDK', async () => {
    const data = await client.embeddings.create({
      model: 'gemini:text-embedding-004',
      input: ['first', 'second', 'third'],
      dimensions: 5,
    });
    expect(data.data).toHaveLength(3);
    for (const [i, text] of ['first', 'second', 'third'].entries()) {
      expect(data.data[i]?.index).toBe(i);
      expectClose(data.data[i]?.embedding, vectorFor(text, 5));
    }
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(seen?.body).toEqual({
      requests: ['first', 'second', 'third'].map((text) => ({
        model: 'models/text-embedding-004',
        content: { parts: [{ text }] },
        outputDimensionality: 5,
      })),
    });
  });

  it('returns base64 strings as is when the client asks for base64 itself', async () => {
    const data = await client.embeddings.create({
      model: 'gemini:text-embedding-004',
      input: ['only'],
      encoding_format: 'base64',
    });
    const encoded = data.data[0]?.embedding as unknown as string;
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(encoded, 'base64');
    const floats = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expectClose(floats, vectorFor('only', 8));
  });

  it('embeds a batch with Cohere /v2/embed as search documents, usage from billed units', async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'embed-english-v3.0', input: ['hello there', 'goodbye'], encoding_format: 'float' })
      .withResponse();
    expect(data).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: vectorFor('hello there', 8) },
        { object: 'embedding', index: 1, embedding: vectorFor('goodbye', 8) },
      ],
      model: 'embed-english-v3.0',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('cohere');
    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v2/embed');
    expect(seen?.headers.authorization).toBe(`Bearer ${COHERE_KEY}`);
    expect(seen?.body).toEqual({
      model: 'embed-english-v3.0',
      texts: ['hello there', 'goodbye'],
      input_type: 'search_document',
      embedding_types: ['float'],
    });
  });

  it('decodes Cohere floats sent as base64 by the SDK default', async () => {
    const data = await client.embeddings.create({ model: 'embed-english-v3.0', input: ['a b c'] });
    expectClose(data.data[0]?.embedding, vectorFor('a b c', 8));
  });

  it("passes an upstream 400 back with its status and the provider's message", async () => {
    upstream.enqueue({
      kind: 'error',
      status: 400,
      body: { error: { message: 'This model does not support dimensions.', type: 'invalid_request_error' } },
    });
    const error = await client.embeddings
      .create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 3 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    // Relayed as it came (no provider prefix); x-ai-proxy-provider names the provider.
    const badRequest = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(badRequest.error).toEqual({
      message: 'This model does not support dimensions.',
      type: 'invalid_request_error',
    });
    expect(badRequest.headers?.get('x-ai-proxy-provider')).toBe('openai');
    expect(upstream.requests).toHaveLength(1);
  });

  it("passes Cohere's own refusal back as a 400 naming cohere", async () => {
    const { status, json } = await post({ model: 'embed-english-v3.0', input: 'x', input_type: 'bogus' });
    expect(status).toBe(400);
    expect((json.error as Record<string, unknown>).message).toMatch(/^cohere: invalid request: input_type/);
  });

  it.each([
    [{ input: 'x' }, 'model'],
    [{ model: 'text-embedding-3-small' }, 'input'],
    [{ model: 'text-embedding-3-small', input: 5 }, 'input'],
    [{ model: 'text-embedding-3-small', input: [] }, 'input'],
    [{ model: 'text-embedding-3-small', input: 'x', dimensions: 0 }, 'dimensions'],
    [{ model: 'text-embedding-3-small', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
  ])('refuses %j with a 400 naming %s', async (body, param) => {
    const { status, json } = await post(body);
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ type: 'invalid_request_error', param });
    expect((json.error as Record<string, unknown>).message).toContain(param);
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses token ids for a provider that embeds text only', async () => {
    const { status, json } = await post({ model: 'gemini:text-embedding-004', input: [[1, 2, 3]] });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ param: 'input' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 501 for a provider whose protocol has no embeddings', async () => {
    const { status, json } = await post({ model: 'claude-3-5-haiku-latest', input: 'x' });
    expect(status).toBe(501);
    expect((json.error as Record<string, unknown>).message).toContain('cannot serve embeddings');
  });

  it('writes a complete request-log record', async () => {
    await client.embeddings.create({
      model: 'cohere:embed-english-v3.0',
      input: ['one two', 'three'],
      encoding_format: 'float',
    });
    const records = await gw.requestLog();
    const record = records.findLast((r) => r.endpoint === '/v1/embeddings' && r.status === 200);
    expect(record).toMatchObject({
      method: 'POST',
      model_requested: 'cohere:embed-english-v3.0',
      model_mapped: 'embed-english-v3.0',
      provider: 'cohere',
      stream: false,
      usage: { prompt_tokens: 3, total_tokens: 3 },
      request: { model: 'cohere:embed-english-v3.0', input: ['one two', 'three'] },
      error: null,
    });
    expect(record?.key_id).toEqual(expect.any(String));
    expect(record?.attempts).toEqual([
      expect.objectContaining({
        provider: 'cohere',
        model: 'embed-english-v3.0',
        status: 200,
        outcome: 'ok',
      }),
    ]);
    expect(record?.response).toMatchObject({ object: 'list' });
    expect(JSON.stringify(records)).not.toContain(COHERE_KEY);
  });

  it('cancels the upstream call when the client goes away, and logs it as 499', async () => {
    upstream.enqueue({ kind: 'stall' });
    const controller = new AbortController();
    const call = fetch(`${gw.baseURL}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'gone', user: 'leaver' }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await upstream.waitForRequests(1);
    controller.abort();
    expect(await call).toBeInstanceOf(Error);
    await expect.poll(() => upstream.abortedCount).toBe(1);
    await expect
      .poll(async () =>
        (await gw.requestLog()).find((r) => (r.request as { user?: string })?.user === 'leaver'),
      )
      .toMatchObject({ status: 499, provider: 'openai', endpoint: '/v1/embeddings' });
    // Nothing went wrong on the gateway's side: no error or warning lines in the process log.
    const levels = gw.processLog.map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels.filter((level) => level >= 40)).toEqual([]);
  });

  it('is published in /openapi.json with its schema', async () => {
    const spec = (await (await fetch(`${gw.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: unknown } }>;
    };
    expect(spec.paths['/v1/embeddings']?.post?.requestBody).toBeDefined();
  });
});
