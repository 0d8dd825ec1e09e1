// The remote model catalog (seed 001, SPEC §7) against an emulated catalog host: the list is
// fetched with the OAuth token, catalog models are called at the host plus their handle with the
// same token, each in the protocol its handle names, and the list is refreshed, kept when a
// refresh fails, and never needed for the rest of the gateway to work.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogHealth } from '../../src/catalog/catalog.js';
import { type CatalogEntryJson, CatalogServer } from '../support/emulator/catalog-server.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';
import { SEED_001_MODELS } from '../support/seeds.js';

const TOKEN = 'catalog-oauth-secret-0001';

const MODELS: CatalogEntryJson[] = [
  ...SEED_001_MODELS,
  {
    model_version: 'gemini-1.5-pro',
    model_family: 'gemini',
    handle: '/google/v1beta/models/gemini-1.5-pro:generateContent',
    prompt_price_1k: 0.00125,
    completion_price_1k: 0.005,
  },
  {
    model_version: 'command-r-plus',
    model_family: 'cohere',
    handle: '/cohere/v2/chat',
    prompt_price_1k: 0.0025,
    completion_price_1k: 0.01,
  },
  {
    model_version: 'text-embedding-3-small',
    model_family: 'text-embedding',
    handle: '/openai/v1/embeddings',
    prompt_price_1k: 0.00002,
    completion_price_1k: 0,
  },
  {
    model_version: 'text-embedding-004',
    model_family: 'gemini-embedding',
    handle: '/google/v1beta/models/text-embedding-004:embedContent',
    prompt_price_1k: 0.00001,
    completion_price_1k: 0,
  },
  {
    model_version: 'dall-e-3',
    model_family: 'dall-e-3',
    handle: '/openai/v1/images/generations',
    prompt_price_1k: 0,
    completion_price_1k: 0,
  },
  { model_version: 'retired-model', model_family: 'gpt-4', handle: 'unavailable' },
  { model_version: 'no-handle-model', model_family: 'gpt-4', prompt_price_1k: 1, completion_price_1k: 1 },
  { model_version: 'priced-in-words', handle: '/openai/v1/chat/completions', prompt_price_1k: 'cheap' },
];

interface HealthBody {
  ready: boolean;
  catalog: CatalogHealth | null;
}

async function health(gw: TestGateway): Promise<HealthBody> {
  const response = await fetch(`${gw.url}/health`);
  expect(response.status).toBe(200);
  return (await response.json()) as HealthBody;
}

describe('catalog models (MODEL_LIST_URL, MODEL_LIST_AUTH_TOKEN)', () => {
  let upstream: ProviderEmulator;
  let catalog: CatalogServer;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    catalog = await CatalogServer.start({ upstream: upstream.url, token: TOKEN, models: MODELS });
    gw = await startTestGateway({
      env: { MODEL_LIST_URL: catalog.listUrl, MODEL_LIST_AUTH_TOKEN: TOKEN },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await catalog?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.reset();
    catalog.calls.length = 0;
  });

  it('fetches the list at start with Authorization: OAuth <token>', () => {
    expect(catalog.listFetches.length).toBeGreaterThanOrEqual(1);
    expect(catalog.listFetches[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
  });

  it('lists catalog models with owned_by from the handle, leaving out image families and bad entries', async () => {
    const page = await gw.client().models.list();
    const byId = new Map(page.data.map((model) => [model.id, model.owned_by]));
    expect(byId.get('gpt-4o-audio-preview-2024-10-01')).toBe('openai');
    expect(byId.get('accounts/fireworks/models/llama-v3p1-405b-instruct')).toBe('fireworks');
    expect(byId.get('claude-3-7-sonnet-20250219')).toBe('anthropic');
    expect(byId.get('gemini-1.5-pro')).toBe('google');
    expect(byId.has('dall-e-3')).toBe(false);
    expect(byId.has('retired-model')).toBe(false);
    expect(byId.has('no-handle-model')).toBe(false);
    expect(byId.has('priced-in-words')).toBe(false);
    const one = await gw.client().models.retrieve('accounts/fireworks/models/llama-v3p1-405b-instruct');
    expect(one.owned_by).toBe('fireworks');
  });

  it('warns about each bad entry by name, and never logs the token', () => {
    const log = gw.processLog.join('');
    const warnings = gw.processLog
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.level === 'warning')
      .map((entry) => entry.msg);
    expect(warnings).toContainEqual(
      expect.stringMatching(/^catalog entry "no-handle-model" skipped: handle/),
    );
    expect(warnings).toContainEqual(
      expect.stringMatching(/^catalog entry "priced-in-words" skipped: prompt_price_1k/),
    );
    expect(log).not.toContain('retired-model');
    expect(log).not.toContain(TOKEN);
  });

  it('sends an OpenAI-protocol chat to host plus handle with the same OAuth header', async () => {
    const { data, response } = await gw
      .client()
      .chat.completions.create({
        model: 'accounts/fireworks/models/llama-v3p1-405b-instruct',
        messages: [{ role: 'user', content: 'Hello!' }],
        temperature: 0.7,
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain('accounts/fireworks/models/llama-v3p1-405b-instruct');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('catalog');
    expect(catalog.calls).toHaveLength(1);
    expect(catalog.calls[0]).toMatchObject({ method: 'POST', path: '/fireworks/chat/completions' });
    expect(catalog.calls[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(upstream.requests[0]?.body).toMatchObject({
      model: 'accounts/fireworks/models/llama-v3p1-405b-instruct',
      messages: [{ role: 'user', content: 'Hello!' }],
      temperature: 0.7,
    });
  });

  it('translates a chat for an /anthropic/ handle, and its stream', async () => {
    const data = await gw.client().chat.completions.create({
      model: 'claude-3-7-sonnet-20250219',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model claude-3-7-sonnet-20250219)');
    const seen = catalog.calls[0];
    expect(seen?.path).toBe('/anthropic/v1/messages');
    expect(seen?.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(seen?.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen?.headers['x-api-key']).toBeUndefined();
    expect(upstream.requests[0]?.body).toEqual({
      model: 'claude-3-7-sonnet-20250219',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4096,
    });

    const stream = await gw.client().chat.completions.create({
      model: 'claude-3-7-sonnet-20250219',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from emulator (model claude-3-7-sonnet-20250219)');
    expect(catalog.calls[1]?.path).toBe('/anthropic/v1/messages');
  });

  it('calls a /google/ handle as Gemini, switching to streamGenerateContent for a stream', async () => {
    const data = await gw.client().chat.completions.create({
      model: 'gemini-1.5-pro',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(data.choices[0]?.message.content).toContain('gemini-1.5-pro');
    expect(catalog.calls[0]?.path).toBe('/google/v1beta/models/gemini-1.5-pro:generateContent');
    expect(catalog.calls[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(catalog.calls[0]?.headers['x-goog-api-key']).toBeUndefined();

    const stream = await gw.client().chat.completions.create({
      model: 'gemini-1.5-pro',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('gemini-1.5-pro');
    expect(catalog.calls[1]?.path).toBe('/google/v1beta/models/gemini-1.5-pro:streamGenerateContent?alt=sse');
  });

  it('calls a /cohere/ handle as Cohere v2', async () => {
    const data = await gw.client().chat.completions.create({
      model: 'command-r-plus',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(data.choices[0]?.message.content).toContain('command-r-plus');
    expect(catalog.calls[0]?.path).toBe('/cohere/v2/chat');
    expect(catalog.calls[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
  });

  it('serves embeddings through a catalog model at its handle', async () => {
    const data = await gw.client().embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one', 'two'],
      encoding_format: 'float',
    });
    expect(data.data).toHaveLength(2);
    expect(Array.isArray(data.data[0]?.embedding)).toBe(true);
    expect(catalog.calls[0]).toMatchObject({ method: 'POST', path: '/openai/v1/embeddings' });
    expect(catalog.calls[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(upstream.requests[0]?.body).toMatchObject({
      model: 'text-embedding-3-small',
      input: ['one', 'two'],
    });
  });

  it('serves Gemini embeddings at a /google/ handle, batch or single', async () => {
    const batch = await gw.client().embeddings.create({ model: 'text-embedding-004', input: ['a', 'b'] });
    expect(batch.data).toHaveLength(2);
    expect(catalog.calls[0]?.path).toBe('/google/v1beta/models/text-embedding-004:batchEmbedContents');
    const single = await gw.client().embeddings.create({ model: 'text-embedding-004', input: 'a' });
    expect(single.data).toHaveLength(1);
    expect(catalog.calls[1]?.path).toBe('/google/v1beta/models/text-embedding-004:embedContent');
    expect(catalog.calls[1]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
  });

  it('serves an image family on /v1/images/generations, though it is not listed', async () => {
    const data = await gw.client().images.generate({
      model: 'dall-e-3',
      prompt: 'A cute baby sea otter',
      n: 1,
      size: '1024x1024',
      quality: 'standard',
      style: 'vivid',
    });
    expect(data.data?.length).toBe(1);
    expect(catalog.calls[0]).toMatchObject({ method: 'POST', path: '/openai/v1/images/generations' });
    expect(catalog.calls[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(upstream.requests[0]?.body).toMatchObject({ model: 'dall-e-3', style: 'vivid' });
  });

  it('refuses a chat for an image family with a 400 that names the images endpoint', async () => {
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dall-e-3', messages: [{ role: 'user', content: 'draw' }] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; param: string } };
    expect(body.error.message).toContain('/v1/images/generations');
    expect(body.error.param).toBe('model');
    expect(catalog.calls).toHaveLength(0);
  });

  it('does not route an entry whose handle is unavailable', async () => {
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'retired-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(404);
    expect(catalog.calls).toHaveLength(0);
  });

  it('records catalog exchanges in the request log under provider catalog', async () => {
    await gw.client().chat.completions.create({
      model: 'gpt-4o-audio-preview-2024-10-01',
      messages: [{ role: 'user', content: 'logged' }],
    });
    const record = (await gw.requestLog()).at(-1) as Record<string, unknown>;
    expect(record.provider).toBe('catalog');
    expect(JSON.stringify(record)).not.toContain(TOKEN);
  });

  it("prices catalog models from the catalog's prices: x-ai-proxy-cost and the record's cost", async () => {
    upstream.setDefault({
      kind: 'chat',
      content: 'priced',
      usage: { prompt_tokens: 2000, completion_tokens: 1000 },
    });
    const { response } = await gw
      .client()
      .chat.completions.create({
        model: 'gpt-4o-audio-preview-2024-10-01',
        messages: [{ role: 'user', content: 'priced' }],
      })
      .withResponse();
    // 2 × 0.0025 + 1 × 0.01
    expect(response.headers.get('x-ai-proxy-cost')).toBe('0.015000');
    const record = (await gw.requestLog()).at(-1) as Record<string, unknown>;
    expect(record.cost).toBe(0.015);
  });

  it('shows the catalog in /health without the token', async () => {
    const body = await health(gw);
    expect(body.ready).toBe(true);
    expect(body.catalog).toMatchObject({
      state: 'ok',
      source: catalog.listUrl,
      models: 8,
      skipped_entries: 2,
      last_error: null,
      refresh_seconds: 300,
    });
    expect(body.catalog?.age_seconds).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(body)).not.toContain(TOKEN);
  });

  it('shows catalog models and the catalog state on the status page', async () => {
    const page = await (await fetch(`${gw.url}/`)).text();
    expect(page).toContain('<code>claude-3-7-sonnet-20250219</code></td><td>anthropic</td><td>catalog</td>');
    expect(page).toContain(`Model catalog <code>${catalog.listUrl}</code>: ok, 8 models`);
    expect(page).not.toContain(TOKEN);
  });

  it('keeps the catalog across a config reload', async () => {
    const fetches = catalog.listFetches.length;
    gw.gateway.reload();
    const data = await gw.client().chat.completions.create({
      model: 'gpt-4o-audio-preview-2024-10-01',
      messages: [{ role: 'user', content: 'after reload' }],
    });
    expect(data.choices[0]?.message.content).toContain('gpt-4o-audio-preview-2024-10-01');
    // Unchanged settings: the same list serves, no refetch.
    expect(catalog.listFetches.length).toBe(fetches);
  });
});

describe('catalog refresh (MODEL_LIST_REFRESH_SECONDS)', () => {
  let upstream: ProviderEmulator;
  let catalog: CatalogServer;
  let gw: TestGateway;
  const first: CatalogEntryJson = {
    model_version: 'first-model',
    model_family: 'gpt-4',
    handle: '/openai/v1/chat/completions',
    prompt_price_1k: 0.001,
    completion_price_1k: 0.002,
  };
  const second: CatalogEntryJson = {
    ...first,
    model_version: 'second-model',
    handle: '/other/chat/completions',
  };

  async function ids(): Promise<string[]> {
    return (await gw.client().models.list()).data.map((model) => model.id);
  }

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    catalog = await CatalogServer.start({ upstream: upstream.url, models: [first] });
    gw = await startTestGateway({
      env: { MODEL_LIST_URL: catalog.listUrl, MODEL_LIST_REFRESH_SECONDS: '1' },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await catalog?.close();
    await upstream?.close();
  });

  it('sends no Authorization header when no token is set', () => {
    expect(catalog.listFetches[0]?.headers.authorization).toBeUndefined();
  });

  it('picks up a changed list on the next refresh', async () => {
    expect(await ids()).toEqual(['first-model']);
    catalog.setModels([second]);
    await catalog.waitForFetches(catalog.listFetches.length + 1, 5_000);
    // The fetch is answered; give the gateway the moment to swap the list in.
    await expect.poll(ids, { timeout: 2_000 }).toEqual(['second-model']);
    await gw.client().chat.completions.create({
      model: 'second-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(catalog.calls.at(-1)?.path).toBe('/other/chat/completions');
    expect(catalog.calls.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('keeps the last good list when a refresh fails, and says so in /health', async () => {
    catalog.setList({ kind: 'status', status: 503 });
    await catalog.waitForFetches(catalog.listFetches.length + 1, 5_000);
    await expect.poll(async () => (await health(gw)).catalog?.state, { timeout: 2_000 }).toBe('stale');
    expect((await health(gw)).catalog).toMatchObject({ models: 1, last_error: 'HTTP 503' });
    expect(await ids()).toEqual(['second-model']);

    catalog.setList({ kind: 'document', body: 'not a catalog' });
    await catalog.waitForFetches(catalog.listFetches.length + 1, 5_000);
    await expect
      .poll(async () => (await health(gw)).catalog?.last_error, { timeout: 2_000 })
      .toMatch(/"models" array/);
    expect(await ids()).toEqual(['second-model']);
    const warned = gw.processLog.filter((line) => line.includes('keeping the last list of 1 models'));
    expect(warned.length).toBeGreaterThanOrEqual(2);

    catalog.setModels([first]);
    await expect.poll(ids, { timeout: 3_000 }).toEqual(['first-model']);
  });
});

describe('a catalog that is down at start', () => {
  let upstream: ProviderEmulator;
  let catalog: CatalogServer;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    catalog = await CatalogServer.start({ upstream: upstream.url });
    catalog.setList({ kind: 'status', status: 500 });
    gw = await startTestGateway({
      env: {
        MODEL_LIST_URL: catalog.listUrl,
        OPENAI_API_KEY: 'sk-openai-test',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await catalog?.close();
    await upstream?.close();
  });

  it('starts anyway: other routes work and /health names the catalog error', async () => {
    const data = await gw.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(data.choices[0]?.message.content).toContain('gpt-4o-mini');
    const body = await health(gw);
    expect(body.ready).toBe(true);
    expect(body.catalog).toMatchObject({
      state: 'error',
      models: 0,
      age_seconds: null,
      last_error: 'HTTP 500',
    });
    expect(gw.processLog.join('')).toContain('model catalog unavailable');
  });

  it('starts without waiting long for a catalog that never answers', async () => {
    const silent = await CatalogServer.start({ upstream: upstream.url });
    silent.setList({ kind: 'stall' });
    const started = Date.now();
    const other = await startTestGateway({ env: { MODEL_LIST_URL: silent.listUrl } });
    try {
      expect(Date.now() - started).toBeLessThan(8_000);
      const body = await health(other);
      expect(body.catalog?.state).toBe('loading');
      expect(body.ready).toBe(false);
    } finally {
      await other.stop();
      await silent.close();
    }
  });
});

describe('LOG_LEVEL=NONE with a catalog', () => {
  it('prints nothing, even for bad entries and a failed refresh', async () => {
    const upstream = await ProviderEmulator.start();
    const catalog = await CatalogServer.start({ upstream: upstream.url, models: MODELS });
    const gw = await startTestGateway({
      env: { MODEL_LIST_URL: catalog.listUrl, MODEL_LIST_REFRESH_SECONDS: '1', LOG_LEVEL: 'NONE' },
    });
    try {
      catalog.setList({ kind: 'reset' });
      await catalog.waitForFetches(2, 5_000);
      const page = await gw.client().models.list();
      expect(page.data.some((model) => model.id === 'claude-3-7-sonnet-20250219')).toBe(true);
      expect(gw.processLog).toEqual([]);
    } finally {
      await gw.stop();
      await catalog.close();
      await upstream.close();
    }
  });
});
