// POST /v1/images/generations end to end: the official OpenAI SDK calls the gateway, the emulator
// answers as OpenAI (dall-e-3), Ideogram 3.0 and Recraft do, strict about what they accept, and
// serves the image bytes behind the URLs it returns so b64_json downloads are real.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  emulatorImageBytes,
  IDEOGRAM_CREATED_UNIX,
  parseMultipart,
} from '../support/emulator/images-protocol.js';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

function decoded(b64: string | undefined): string {
  return Buffer.from(b64 ?? '', 'base64').toString('utf8');
}

describe('image generation', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: 'sk-openai-secret-1',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        IDEOGRAM_API_KEY: 'ideogram-secret-1',
        IDEOGRAM_BASE_URL: upstream.url,
        RECRAFT_API_KEY: 'recraft-secret-1',
        RECRAFT_BASE_URL: `${upstream.url}/v1`,
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

  it('passes dall-e-3 through to OpenAI and relays its URL answer', async () => {
    const { data: answer, response } = await gw
      .client()
      .images.generate({
        model: 'dall-e-3',
        prompt: 'A cute baby sea otter',
        size: '1792x1024',
        quality: 'hd',
        style: 'natural',
      })
      .withResponse();
    expect(answer.created).toBe(1_700_000_000);
    expect(answer.data).toHaveLength(1);
    expect(answer.data?.[0]?.url).toMatch(/\/emulator-images\/img-1\.png$/);
    expect(answer.data?.[0]?.revised_prompt).toBe('Revised: A cute baby sea otter');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(response.headers.get('x-ai-proxy-model')).toBe('dall-e-3');
    expect(response.headers.get('x-ai-proxy-key')).toBeTruthy();
    expect(response.headers.get('x-ai-proxy-overhead-ms')).toMatch(/^\d+\.\d\d$/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBeNull();

    const [sent] = upstream.requests;
    expect(sent?.path).toBe('/v1/images/generations');
    expect(sent?.headers.authorization).toBe('Bearer sk-openai-secret-1');
    expect(sent?.body).toEqual({
      model: 'dall-e-3',
      prompt: 'A cute baby sea otter',
      size: '1792x1024',
      quality: 'hd',
      style: 'natural',
    });
  });

  it('rewrites a prefixed model and relays OpenAI base64 as it came', async () => {
    const answer = await gw
      .client()
      .images.generate({ model: 'openai:dall-e-3', prompt: 'A lighthouse', response_format: 'b64_json' });
    expect(decoded(answer.data?.[0]?.b64_json)).toBe(emulatorImageBytes('img-1'));
    expect(answer.data?.[0]?.url).toBeUndefined();
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.body).toMatchObject({ model: 'dall-e-3' });
  });

  it('translates to Ideogram 3.0: multipart form, Api-Key, size mapped, created as unix time', async () => {
    const { data: answer, response } = await gw
      .client()
      .images.generate({ model: 'ideogram:V_3', prompt: 'A poster', n: 2, size: '1024x1792', quality: 'hd' })
      .withResponse();
    expect(answer.created).toBe(IDEOGRAM_CREATED_UNIX);
    expect(answer.data).toHaveLength(2);
    expect(answer.data?.[0]).toEqual({
      url: expect.stringMatching(/\/emulator-images\/ideo-1\.png$/),
      revised_prompt: 'Magic: A poster',
    });
    expect(response.headers.get('x-ai-proxy-provider')).toBe('ideogram');
    expect(response.headers.get('x-ai-proxy-model')).toBe('V_3');

    const [sent] = upstream.requests;
    expect(sent?.path).toBe('/v1/ideogram-v3/generate');
    expect(sent?.headers['api-key']).toBe('ideogram-secret-1');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(parseMultipart(sent?.rawBody ?? '', sent?.headers['content-type'])).toEqual({
      prompt: ['A poster'],
      num_images: ['2'],
      aspect_ratio: ['9x16'],
      rendering_speed: ['QUALITY'],
    });
  });

  it("serves Ideogram's legacy models (V_1 … V_2A_TURBO) through its legacy JSON endpoint", async () => {
    const { data: answer, response } = await gw
      .client()
      .images.generate({ model: 'ideogram:V_2', prompt: 'A lighthouse', n: 2, size: '1792x1024' })
      .withResponse();
    expect(answer.created).toBe(IDEOGRAM_CREATED_UNIX);
    expect(answer.data).toEqual([
      {
        url: expect.stringMatching(/\/emulator-images\/ideo-1\.png$/),
        revised_prompt: 'Magic: A lighthouse',
      },
      {
        url: expect.stringMatching(/\/emulator-images\/ideo-2\.png$/),
        revised_prompt: 'Magic: A lighthouse',
      },
    ]);
    expect(response.headers.get('x-ai-proxy-provider')).toBe('ideogram');
    expect(response.headers.get('x-ai-proxy-model')).toBe('V_2');
    const [sent] = upstream.requests;
    expect(sent?.path).toBe('/generate');
    expect(sent?.headers['api-key']).toBe('ideogram-secret-1');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({
      image_request: { prompt: 'A lighthouse', model: 'V_2', aspect_ratio: 'ASPECT_16_9', num_images: 2 },
    });

    // The other legacy models, one with Ideogram's own fields in extra_body and b64_json.
    for (const model of ['V_2_TURBO', 'V_1', 'V_1_TURBO', 'V_2A', 'V_2A_TURBO']) {
      const image = await gw.client().images.generate({ model: `ideogram:${model}`, prompt: 'A cat' });
      expect(image.data).toHaveLength(1);
    }
    const withExtras = await gw.client().images.generate({
      model: 'ideogram:V_2_TURBO',
      prompt: 'A logo',
      response_format: 'b64_json',
      // @ts-expect-error extra_body is the gateway's own field
      extra_body: { magic_prompt_option: 'OFF', style_type: 'DESIGN' },
    });
    expect(decoded(withExtras.data?.[0]?.b64_json)).toMatch(/^emulator image ideo-\d+$/);
    const last = upstream.requests.filter((r) => r.method === 'POST').at(-1);
    expect(last?.body).toEqual({
      image_request: {
        prompt: 'A logo',
        model: 'V_2_TURBO',
        magic_prompt_option: 'OFF',
        style_type: 'DESIGN',
      },
    });
  });

  it('serves b64_json for Ideogram by downloading each image URL', async () => {
    const { data: answer, response } = await gw
      .client()
      .images.generate({
        model: 'ideogram:V_3',
        prompt: 'A logo',
        n: 2,
        size: '1792x1024',
        response_format: 'b64_json',
        style: 'vivid',
      })
      .withResponse();
    expect(answer.data?.map((image) => decoded(image.b64_json))).toEqual([
      emulatorImageBytes('ideo-1'),
      emulatorImageBytes('ideo-2'),
    ]);
    expect(answer.data?.[0]?.url).toBeUndefined();
    expect(answer.data?.[0]?.revised_prompt).toBe('Magic: A logo');
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBe('style');
    const paths = upstream.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual([
      'POST /v1/ideogram-v3/generate',
      'GET /emulator-images/ideo-1.png',
      'GET /emulator-images/ideo-2.png',
    ]);
    // The provider key never goes to the image host.
    expect(upstream.requests[1]?.headers['api-key']).toBeUndefined();
    const form = parseMultipart(
      upstream.requests[0]?.rawBody ?? '',
      upstream.requests[0]?.headers['content-type'],
    );
    expect(form?.aspect_ratio).toEqual(['16x9']);
  });

  it('sends Recraft the body without DALL·E style, and names it as dropped', async () => {
    const { data: answer, response } = await gw
      .client()
      .images.generate({ model: 'recraft:recraftv3', prompt: 'A fox', size: '1024x1024', style: 'vivid' })
      .withResponse();
    expect(answer.data?.[0]?.url).toMatch(/\/emulator-images\/img-1\.png$/);
    expect(response.headers.get('x-ai-proxy-provider')).toBe('recraft');
    expect(response.headers.get('x-ai-proxy-dropped-params')).toBe('style');
    const [sent] = upstream.requests;
    expect(sent?.headers.authorization).toBe('Bearer recraft-secret-1');
    expect(sent?.body).toEqual({ model: 'recraftv3', prompt: 'A fox', size: '1024x1024' });
  });

  it("forwards Recraft's own style from extra_body", async () => {
    const answer = await gw.client().images.generate({
      model: 'recraft:recraftv3',
      prompt: 'A fox',
      // @ts-expect-error extra_body is the gateway's field, not in the SDK's types
      extra_body: { style: 'digital_illustration' },
    });
    expect(answer.data).toHaveLength(1);
    expect(upstream.requests[0]?.body).toEqual({
      model: 'recraftv3',
      prompt: 'A fox',
      style: 'digital_illustration',
    });
  });

  it('passes an upstream 400 back with its status and message', async () => {
    const call = gw.client().images.generate({ model: 'dall-e-3', prompt: 'Two otters', n: 2 });
    await expect(call).rejects.toMatchObject({
      status: 400,
      error: { message: expect.stringContaining('dall-e-3 supports only n=1') },
    });
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses bad input with a 400 that names the field, without calling upstream', async () => {
    const client = gw.client();
    // @ts-expect-error prompt is required
    await expect(client.images.generate({ model: 'dall-e-3' })).rejects.toMatchObject({
      status: 400,
      error: { param: 'prompt', message: "Missing required parameter: 'prompt'." },
    });
    await expect(
      // @ts-expect-error not a response format
      client.images.generate({ model: 'dall-e-3', prompt: 'x', response_format: 'gif' }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'response_format' } });
    await expect(client.images.generate({ model: 'dall-e-3', prompt: 'x', n: 0 })).rejects.toMatchObject({
      status: 400,
      error: { param: 'n' },
    });
    await expect(client.images.generate({ model: 'ideogram:V_9', prompt: 'x' })).rejects.toMatchObject({
      status: 400,
      error: { param: 'model' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 501 for a provider that cannot make images, naming the operation', async () => {
    const call = gw.client().images.generate({ model: 'anthropic:claude-x', prompt: 'x' });
    await expect(call).rejects.toMatchObject({
      status: 501,
      error: { message: expect.stringContaining('cannot serve image generation') },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('writes a request-log record for the exchange', async () => {
    const { response } = await gw
      .client()
      .images.generate({ model: 'ideogram:V_3', prompt: 'A log entry', response_format: 'b64_json' })
      .withResponse();
    const id = response.headers.get('x-request-id');
    const records = (await gw.requestLog()).filter((r) => r.id === id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      endpoint: '/v1/images/generations',
      method: 'POST',
      model_requested: 'ideogram:V_3',
      model_mapped: 'V_3',
      provider: 'ideogram',
      key_id: expect.any(String),
      status: 200,
      stream: false,
      attempts: [expect.objectContaining({ provider: 'ideogram', outcome: 'ok', status: 200 })],
      request: { model: 'ideogram:V_3', prompt: 'A log entry', response_format: 'b64_json' },
      response: {
        created: IDEOGRAM_CREATED_UNIX,
        data: [
          {
            b64_json: Buffer.from(emulatorImageBytes('ideo-1')).toString('base64'),
            revised_prompt: 'Magic: A log entry',
          },
        ],
      },
    });
    expect(JSON.stringify(records[0])).not.toContain('ideogram-secret-1');
  });

  it('is described in /openapi.json', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: unknown } }>;
    };
    expect(doc.paths['/v1/images/generations']?.post?.requestBody).toBeDefined();
  });
});
