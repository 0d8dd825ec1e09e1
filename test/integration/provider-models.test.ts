// /v1/models lists every configured provider's own models, fetched from each provider's list
// endpoint (OpenAI /models, Anthropic /v1/models, Gemini models, Cohere /v1/models, Ollama's tags),
// with the provider as owned_by and the id a client must send; every listed id routes there. An
// unknown id is a 404; a provider whose list fails still routes and /health says its list is stale.
import { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway, writeFiles } from '../support/gateway.js';

const KEYS = {
  openai: 'sk-models-openai-secret-0001',
  anthropic: 'sk-ant-models-secret-0002',
  gemini: 'AIza-models-gemini-secret-0003',
  cohere: 'co-models-cohere-secret-0004',
  groq: 'gsk-models-groq-secret-0005',
};
const HI = [{ role: 'user' as const, content: 'Hi' }];

interface ModelListHealth {
  state: string;
  stale: boolean;
  models: number;
  last_error: string | null;
}

async function health(gw: TestGateway): Promise<Record<string, { model_list: ModelListHealth | null }>> {
  const body = (await (await fetch(`${gw.url}/health`)).json()) as {
    providers: Record<string, { model_list: ModelListHealth | null }>;
  };
  return body.providers;
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('/v1/models with providers configured through the environment', () => {
  const emulators: Record<string, ProviderEmulator> = {};
  let gw: TestGateway;

  beforeAll(async () => {
    for (const name of ['openai', 'anthropic', 'gemini', 'cohere', 'groq', 'ollama']) {
      emulators[name] = await ProviderEmulator.start();
    }
    emulators.openai!.setModelList(['gpt-4o', 'gpt-4o-mini', 'whisper-1']);
    emulators.groq!.setModelList(['llama-3.1-8b-instant', 'gpt-oss-20b']);
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: KEYS.openai,
        OPENAI_BASE_URL: `${emulators.openai!.url}/v1`,
        ANTHROPIC_API_KEY: KEYS.anthropic,
        ANTHROPIC_BASE_URL: `${emulators.anthropic!.url}/v1`,
        GEMINI_API_KEY: KEYS.gemini,
        GEMINI_BASE_URL: `${emulators.gemini!.url}/v1beta`,
        COHERE_API_KEY: KEYS.cohere,
        COHERE_BASE_URL: emulators.cohere!.url,
        GROQ_API_KEY: KEYS.groq,
        GROQ_BASE_URL: `${emulators.groq!.url}/openai/v1`,
        OLLAMA_BASE_URL: emulators.ollama!.url,
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    for (const emulator of Object.values(emulators)) await emulator.close();
  });

  it("lists each provider's models with the provider as owned_by, as a client must send them", async () => {
    const page = await gw.client().models.list();
    const owners = Object.fromEntries(page.data.map((model) => [model.id, model.owned_by]));
    expect(owners).toMatchObject({
      // Families route the bare name to the provider…
      'gpt-4o': 'openai',
      'gpt-4o-mini': 'openai',
      'claude-3-5-haiku-20241022': 'anthropic',
      'claude-sonnet-4-20250514': 'anthropic',
      'claude-opus-4-20250514': 'anthropic',
      'gemini-2.0-flash': 'gemini',
      'gemini-1.5-pro': 'gemini',
      'command-r-plus': 'cohere',
      'command-a-03-2025': 'cohere',
      'embed-english-v3.0': 'cohere',
      // …anything else needs the provider prefix (gpt-oss-20b alone would go to OpenAI).
      'openai:whisper-1': 'openai',
      'gemini:text-embedding-004': 'gemini',
      'groq:llama-3.1-8b-instant': 'groq',
      'groq:gpt-oss-20b': 'groq',
      'ollama:llama3:latest': 'ollama',
      'ollama:qwen2.5:7b': 'ollama',
    });
    // Gemini's generateAnswer-only model and Cohere's rerank model serve nothing here.
    expect(Object.keys(owners)).not.toContain('gemini:aqa');
    expect(Object.keys(owners).some((id) => id.includes('rerank'))).toBe(false);
    for (const model of page.data) {
      expect(model.object).toBe('model');
      expect(Number.isInteger(model.created)).toBe(true);
    }
  });

  it('every listed id routes to the provider that owns it, with the upstream name', async () => {
    const page = await gw.client().models.list();
    const client = gw.client();
    for (const model of page.data) {
      const { response } = await client.chat.completions
        .create({ model: model.id, messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider'), model.id).toBe(model.owned_by);
      const upstream = model.id.startsWith(`${model.owned_by}:`)
        ? model.id.slice(model.owned_by.length + 1)
        : model.id;
      expect(response.headers.get('x-ai-proxy-model'), model.id).toBe(upstream);
    }
  });

  it("asks each provider's own list endpoint with its own auth, paging through every page", () => {
    const openai = emulators.openai!.listRequests;
    expect(openai[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(openai[0]?.headers.authorization).toBe(`Bearer ${KEYS.openai}`);

    const anthropic = emulators.anthropic!.listRequests;
    // Three models at two a page: two pages, the second after the first page's last id.
    expect(anthropic.map((r) => r.path)).toEqual([
      '/v1/models?limit=1000',
      '/v1/models?limit=1000&after_id=claude-sonnet-4-20250514',
    ]);
    expect(anthropic[0]?.headers['x-api-key']).toBe(KEYS.anthropic);
    expect(anthropic[0]?.headers['anthropic-version']).toBe('2023-06-01');

    const gemini = emulators.gemini!.listRequests;
    expect(gemini.map((r) => r.path)).toEqual([
      '/v1beta/models?pageSize=1000',
      '/v1beta/models?pageSize=1000&pageToken=page-2',
    ]);
    expect(gemini[0]?.headers['x-goog-api-key']).toBe(KEYS.gemini);

    const cohere = emulators.cohere!.listRequests;
    expect(cohere.map((r) => r.path)).toEqual([
      '/v1/models?page_size=1000',
      '/v1/models?page_size=1000&page_token=page-2',
    ]);
    expect(cohere[0]?.headers.authorization).toBe(`Bearer ${KEYS.cohere}`);

    expect(emulators.groq!.listRequests[0]).toMatchObject({ path: '/openai/v1/models' });
    expect(emulators.ollama!.listRequests[0]).toMatchObject({ path: '/api/tags' });
    expect(emulators.ollama!.listRequests[0]?.headers.authorization).toBeUndefined();
  });

  it('GET /v1/models/{id}: a listed model is the OpenAI model object, an unknown one a 404', async () => {
    const client = gw.client();
    expect(await client.models.retrieve('gpt-4o')).toEqual({
      id: 'gpt-4o',
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'openai',
    });
    expect(await client.models.retrieve('groq:gpt-oss-20b')).toMatchObject({ owned_by: 'groq' });
    // The other spelling of a listed model is the same model.
    expect(await client.models.retrieve('openai:gpt-4o')).toMatchObject({
      id: 'openai:gpt-4o',
      owned_by: 'openai',
    });
    for (const id of ['nope', 'gpt-does-not-exist', 'claude-none', 'groq:no-such-model']) {
      const error = await client.models.retrieve(id).catch((e: unknown) => e);
      expect(error, id).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).error, id).toMatchObject({
        code: 'model_not_found',
        type: 'invalid_request_error',
      });
    }
    const raw = await fetch(`${gw.baseURL}/models/nope`, {
      headers: { authorization: `Bearer ${gw.client().apiKey}` },
    });
    expect(raw.status).toBe(404);
    expect(Object.keys((await raw.json()) as object)).toEqual(['error']);
  });

  it('/health shows each list as fresh, and no provider key appears in any log or answer', async () => {
    const providers = await health(gw);
    expect(providers.openai?.model_list).toMatchObject({ state: 'ok', stale: false, models: 3 });
    expect(providers.anthropic?.model_list).toMatchObject({ state: 'ok', stale: false, models: 3 });
    expect(providers.gemini?.model_list).toMatchObject({ state: 'ok', models: 3 });
    expect(providers.cohere?.model_list).toMatchObject({ state: 'ok', models: 3 });
    expect(providers.ollama?.model_list).toMatchObject({ state: 'ok', models: 2 });
    // Not configured: nothing fetched.
    expect(providers.openrouter?.model_list).toBeNull();
    const seen = [
      gw.processLog.join('\n'),
      JSON.stringify(providers),
      JSON.stringify(await gw.client().models.list()),
    ].join('\n');
    for (const key of Object.values(KEYS)) expect(seen).not.toContain(key);
  });
});

describe('a provider whose model list fails', () => {
  let openai: ProviderEmulator;
  let anthropic: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    anthropic = await ProviderEmulator.start();
    openai.setModelList(['gpt-4o', 'gpt-4.1']);
    openai.failModelList({ kind: 'error', status: 500 });
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: KEYS.openai,
        OPENAI_BASE_URL: `${openai.url}/v1`,
        ANTHROPIC_API_KEY: KEYS.anthropic,
        ANTHROPIC_BASE_URL: `${anthropic.url}/v1`,
        MODELS_REFRESH_SECONDS: '1',
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await openai?.close();
    await anthropic?.close();
  });

  it('still routes, lists the other providers, and /health says the list is stale', async () => {
    const client = gw.client();
    const ids = (await client.models.list()).data.map((model) => model.id);
    expect(ids).toContain('claude-3-5-haiku-20241022');
    expect(ids).not.toContain('gpt-4o');
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    // Without a list the gateway cannot say a routable model is missing.
    expect(await client.models.retrieve('gpt-4o')).toMatchObject({ owned_by: 'openai' });
    expect((await health(gw)).openai?.model_list).toMatchObject({
      state: 'error',
      stale: true,
      models: 0,
      last_error: 'HTTP 500',
    });
    expect((await health(gw)).anthropic?.model_list).toMatchObject({ state: 'ok', stale: false });
  });

  it('fills in on the next refresh, and keeps the last list (stale) when the list fails again', async () => {
    openai.failModelList(undefined);
    await eventually(async () => (await health(gw)).openai?.model_list?.state === 'ok');
    expect((await gw.client().models.list()).data.map((model) => model.id)).toContain('gpt-4.1');

    openai.failModelList({ kind: 'reset' });
    await eventually(async () => (await health(gw)).openai?.model_list?.state === 'stale');
    expect((await health(gw)).openai?.model_list).toMatchObject({ stale: true, models: 2 });
    const client = gw.client();
    expect((await client.models.list()).data.map((model) => model.id)).toContain('gpt-4.1');
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4.1', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
  });
});

describe('model list keys, time bound and switch', () => {
  it('uses any key of the pool: a refused key gives way to the next', async () => {
    const openai = await ProviderEmulator.start();
    openai.failModelList((req) =>
      req.headers.authorization === 'Bearer sk-refused-key-1' ? { kind: 'error', status: 401 } : undefined,
    );
    const gw = await startTestGateway({
      env: { OPENAI_API_KEY: 'sk-refused-key-1,sk-working-key-2', OPENAI_BASE_URL: `${openai.url}/v1` },
    });
    try {
      expect(openai.listRequests.map((r) => r.headers.authorization)).toEqual([
        'Bearer sk-refused-key-1',
        'Bearer sk-working-key-2',
      ]);
      expect((await health(gw)).openai?.model_list).toMatchObject({ state: 'ok', models: 2 });
      expect(gw.processLog.join('\n')).not.toMatch(/sk-refused-key-1|sk-working-key-2/);
    } finally {
      await gw.stop();
      await openai.close();
    }
  });

  it('a list that never answers holds neither start-up nor stop for long, and the chat still routes', async () => {
    const openai = await ProviderEmulator.start();
    openai.failModelList({ kind: 'stall' });
    const started = Date.now();
    const gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: KEYS.openai,
        OPENAI_BASE_URL: `${openai.url}/v1`,
        TIMEOUT_FIRST_BYTE_MS: '400',
      },
    });
    try {
      expect(Date.now() - started).toBeLessThan(3000);
      const { response } = await gw
        .client()
        .chat.completions.create({ model: 'gpt-4o', messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
      await eventually(async () => (await health(gw)).openai?.model_list?.state === 'error');
      expect((await health(gw)).openai?.model_list?.last_error).toBe('timed out');
    } finally {
      const stopping = Date.now();
      await gw.stop();
      expect(Date.now() - stopping).toBeLessThan(3000);
      await openai.close();
    }
  });

  it("a reload keeps an unchanged provider's list, and fetches again for a changed one", async () => {
    const openai = await ProviderEmulator.start();
    const gw = await startTestGateway({
      env: { OPENAI_API_KEY: KEYS.openai, OPENAI_BASE_URL: `${openai.url}/v1` },
    });
    try {
      expect(openai.listRequests).toHaveLength(1);
      gw.gateway.reload();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(openai.listRequests).toHaveLength(1);
      expect((await health(gw)).openai?.model_list).toMatchObject({ state: 'ok', models: 2 });

      openai.setModelList(['gpt-5']);
      writeFiles(gw.dir, { 'config.yml': 'providers:\n  openai:\n    headers: { X-Title: reloaded }\n' });
      gw.gateway.reload();
      await eventually(async () => (await health(gw)).openai?.model_list?.models === 1);
      expect(openai.listRequests).toHaveLength(2);
      expect(openai.listRequests[1]?.headers['x-title']).toBe('reloaded');
      expect((await gw.client().models.list()).data.map((model) => model.id)).toContain('gpt-5');
    } finally {
      await gw.stop();
      await openai.close();
    }
  });

  it('MODELS_REFRESH_SECONDS=0 fetches nothing', async () => {
    const openai = await ProviderEmulator.start();
    const gw = await startTestGateway({
      env: { OPENAI_API_KEY: KEYS.openai, OPENAI_BASE_URL: `${openai.url}/v1`, MODELS_REFRESH_SECONDS: '0' },
    });
    try {
      expect(openai.listRequests).toHaveLength(0);
      expect((await health(gw)).openai?.model_list).toBeNull();
      expect((await gw.client().models.list()).data.map((model) => model.id)).not.toContain(
        'emulator-model-a',
      );
    } finally {
      await gw.stop();
      await openai.close();
    }
  });
});

describe('listed ids under aliases, wildcards and a default provider', () => {
  const emulators: Record<string, ProviderEmulator> = {};
  let gw: TestGateway;

  beforeAll(async () => {
    for (const name of ['openai', 'anthropic', 'groq', 'openrouter']) {
      emulators[name] = await ProviderEmulator.start();
    }
    emulators.openai!.setModelList(['gpt-4o', 'gpt-4.1']);
    emulators.groq!.setModelList(['llama-3.1-8b-instant']);
    emulators.openrouter!.setModelList(['meta-llama/llama-3-8b-instruct:free', 'anthropic/claude-3.5-haiku']);
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: KEYS.openai,
        OPENAI_BASE_URL: `${emulators.openai!.url}/v1`,
        ANTHROPIC_API_KEY: KEYS.anthropic,
        ANTHROPIC_BASE_URL: `${emulators.anthropic!.url}/v1`,
        GROQ_API_KEY: KEYS.groq,
        GROQ_BASE_URL: `${emulators.groq!.url}/openai/v1`,
        OPENROUTER_API_KEY: 'sk-or-models-secret-0006',
        OPENROUTER_BASE_URL: `${emulators.openrouter!.url}/api/v1`,
      },
      // gpt-4o is an alias for another model, every claude-* goes to OpenRouter, and OpenRouter is
      // the default provider (configured, no DEFAULT_PROVIDER): bare names route elsewhere.
      files: {
        'config.yml': [
          'model_mappings:',
          '  gpt-4o: "openai:gpt-4.1"',
          '  "claude-*": "openrouter:anthropic/claude-*"',
        ].join('\n'),
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    for (const emulator of Object.values(emulators)) await emulator.close();
  });

  it('prefixes exactly the models whose bare name would route elsewhere, and every id routes', async () => {
    const page = await gw.client().models.list();
    const owners = Object.fromEntries(page.data.map((model) => [model.id, model.owned_by]));
    expect(owners).toMatchObject({
      'gpt-4o': 'openai', // the alias
      'openai:gpt-4o': 'openai', // OpenAI's own gpt-4o, which the alias hides
      'gpt-4.1': 'openai',
      'anthropic:claude-3-5-haiku-20241022': 'anthropic', // claude-* goes to OpenRouter
      'groq:llama-3.1-8b-instant': 'groq', // a bare name goes to the default provider
      'meta-llama/llama-3-8b-instruct:free': 'openrouter', // the default provider itself
      'anthropic/claude-3.5-haiku': 'openrouter',
    });
    expect(owners).not.toHaveProperty('claude-3-5-haiku-20241022');
    const client = gw.client();
    for (const model of page.data) {
      const { response } = await client.chat.completions
        .create({ model: model.id, messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider'), model.id).toBe(model.owned_by);
      const prefix = `${model.owned_by}:`;
      if (model.id.startsWith(prefix)) {
        expect(response.headers.get('x-ai-proxy-model'), model.id).toBe(model.id.slice(prefix.length));
      }
    }
  });
});
