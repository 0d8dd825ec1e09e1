// C001 (SPEC §10) as seed 001's users run it: the real CLI in a fresh folder with a `.env` holding
// MODEL_LIST_URL, MODEL_LIST_AUTH_TOKEN and LOG_LEVEL=NONE, nothing else. The catalog host is the
// emulated one, forwarding model calls to the provider emulator.
import { rmSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, spawnServe, waitForHealth } from '../support/cli.js';
import { type CatalogEntryJson, CatalogServer } from '../support/emulator/catalog-server.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';
import { SEED_001_MODELS } from '../support/seeds.js';

const TOKEN = 'c001-oauth-token';

// The seed's example list, plus the image family it documents.
const SEED_MODELS: CatalogEntryJson[] = [
  ...SEED_001_MODELS,
  {
    model_version: 'dall-e-3',
    model_family: 'dall-e-3',
    handle: '/openai/v1/images/generations',
    prompt_price_1k: 0,
    completion_price_1k: 0,
  },
];

describe('C001: MODEL_LIST_URL and MODEL_LIST_AUTH_TOKEN in .env, LOG_LEVEL=NONE', () => {
  let upstream: ProviderEmulator;
  let catalog: CatalogServer;
  let dir: string;
  let server: ServeProcess;
  let url: string;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    catalog = await CatalogServer.start({ upstream: upstream.url, token: TOKEN, models: SEED_MODELS });
    dir = makeTempDir('ai-proxy-c001-');
    writeFiles(dir, {
      '.env': [
        `MODEL_LIST_URL=${catalog.listUrl}`,
        `MODEL_LIST_AUTH_TOKEN=${TOKEN} # Optional`,
        'LOG_LEVEL=NONE # Optional, defaults to INFO',
      ].join('\n'),
    });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawnServe(['--port', String(port)], { cwd: dir });
    await waitForHealth(server, url);
    // Seed 001 has no client keys: the gateway is open on loopback, so any key is accepted.
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.stop();
    await catalog?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists /v1/models from the catalog, image families left out', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => [model.id, model.owned_by])).toEqual([
      ['gpt-4o-audio-preview-2024-10-01', 'openai'],
      ['accounts/fireworks/models/llama-v3p1-405b-instruct', 'fireworks'],
      ['claude-3-7-sonnet-20250219', 'anthropic'],
    ]);
    expect(catalog.listFetches[0]?.headers.authorization).toBe(`OAuth ${TOKEN}`);
  });

  it('sends a chat to host plus handle with Authorization: OAuth <token>, the body as sent', async () => {
    const completion = await client.chat.completions.create({
      model: 'accounts/fireworks/models/llama-v3p1-405b-instruct',
      messages: [{ role: 'user', content: 'Hello!' }],
      temperature: 0.7,
    });
    expect(completion.choices[0]?.message.content).toContain('llama-v3p1-405b-instruct');
    const call = catalog.calls.at(-1);
    expect(call?.path).toBe('/fireworks/chat/completions');
    expect(call?.headers.authorization).toBe(`OAuth ${TOKEN}`);
    expect(upstream.requests.at(-1)?.body).toEqual({
      model: 'accounts/fireworks/models/llama-v3p1-405b-instruct',
      messages: [{ role: 'user', content: 'Hello!' }],
      temperature: 0.7,
    });
  });

  it('translates a chat for an /anthropic/ handle', async () => {
    const completion = await client.chat.completions.create({
      model: 'claude-3-7-sonnet-20250219',
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe(
      'Hello from emulator (model claude-3-7-sonnet-20250219)',
    );
    expect(catalog.calls.at(-1)?.path).toBe('/anthropic/v1/messages');
    expect(upstream.requests.at(-1)?.body).toMatchObject({ max_tokens: 4096 });
  });

  it('serves the dall-e-3 family on /v1/images/generations', async () => {
    const images = await client.images.generate({
      model: 'dall-e-3',
      prompt: 'A cute baby sea otter',
      n: 1,
      size: '1024x1024',
      quality: 'standard',
      style: 'vivid',
    });
    expect(images.data?.[0]?.url).toMatch(/^https?:\/\//);
    expect(catalog.calls.at(-1)?.path).toBe('/openai/v1/images/generations');
    expect(catalog.calls.at(-1)?.headers.authorization).toBe(`OAuth ${TOKEN}`);
  });

  it('answers /health with the catalog and /docs with Swagger UI', async () => {
    const health = (await (await fetch(`${url}/health`)).json()) as {
      status: string;
      catalog: { state: string; models: number };
    };
    expect(health.status).toBe('ok');
    expect(health.catalog).toMatchObject({ state: 'ok', models: 4 });
    expect(JSON.stringify(health)).not.toContain(TOKEN);
    const docs = await fetch(`${url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });

  it('prints nothing at all with LOG_LEVEL=NONE', () => {
    expect(server.stdoutLines.filter((line) => line !== '')).toEqual([]);
    expect(server.stderr()).toBe('');
  });

  it('`ai-proxy models` shows where each model comes from', async () => {
    writeFiles(dir, { 'config.yml': 'model_mappings:\n  "fast": "claude-3-7-sonnet-20250219"\n' });
    try {
      const table = await runCli(['models'], { cwd: dir });
      expect(table.code).toBe(0);
      const rows = table.stdout.split('\n');
      expect(rows.find((row) => row.startsWith('fast '))).toMatch(/\balias\b/);
      expect(rows.find((row) => row.startsWith('claude-3-7-sonnet-20250219 '))).toMatch(
        /\bcatalog\s+anthropic$/,
      );
      expect(rows.some((row) => row.startsWith('dall-e-3 '))).toBe(false);
      const json = await runCli(['models', '--json'], { cwd: dir });
      const listed = (JSON.parse(json.stdout) as { data: { id: string; source: string }[] }).data;
      expect(listed.find((m) => m.id === 'gpt-4o-audio-preview-2024-10-01')?.source).toBe('catalog');
    } finally {
      rmSync(`${dir}/config.yml`);
    }
  });

  it('`ai-proxy models` still lists the rest when the catalog is down', async () => {
    catalog.setList({ kind: 'status', status: 503 });
    try {
      const result = await runCli(['models'], {
        cwd: dir,
        env: { OPENAI_API_KEY: 'sk-x', OPENAI_MODEL: 'gpt-4o' },
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/openai:gpt-4o\s+provider\s+openai/);
      expect(result.stderr).toContain('unavailable: HTTP 503');
    } finally {
      catalog.setModels(SEED_MODELS);
    }
  });
});
