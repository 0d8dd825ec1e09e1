// The seed contracts of SPEC §10 that this part of the gateway owns: C000 and C004, each run the
// way its seed's users run it — the real CLI in a fresh folder with the seed's files.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServeProcess, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

describe('C000: API_KEYS and OPENROUTER_API_KEY in .env, a model mapping in config.yml', () => {
  let openrouter: ProviderEmulator;
  let dir: string;
  let server: ServeProcess;

  beforeAll(async () => {
    openrouter = await ProviderEmulator.start();
    dir = makeTempDir('ai-proxy-c000-');
    writeFiles(dir, {
      '.env': [
        'API_KEYS=your-secret-key-1,your-secret-key-2',
        'OPENROUTER_API_KEY=sk-or-v1-c000-secret',
        // Only the test points OpenRouter at the emulator; the seed's users keep the default.
        `OPENROUTER_BASE_URL=${openrouter.url}/api/v1`,
      ].join('\n'),
      'config.yml': 'model_mappings:\n  "gpt-4": "openai/gpt-4"\n',
    });
    server = spawnServe([], { cwd: dir });
    await server.waitForLine((line) => line.includes('ai-proxy listening'));
  });
  afterAll(async () => {
    await server?.stop();
    await openrouter.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on the default port 8123 and writes JSON process logs', () => {
    const listening = server.stdoutLines.find((line) => line.includes('ai-proxy listening'));
    expect(listening).toBeDefined();
    const entry = JSON.parse(listening!) as { port: number; level: string };
    expect(entry.port).toBe(8123);
    expect(entry.level).toBe('info');
    for (const line of server.stdoutLines.filter((l) => l !== ''))
      expect(() => JSON.parse(line)).not.toThrow();
  });

  it('sends model gpt-4 to OpenRouter as openai/gpt-4, as the seed README shows', async () => {
    const client = new OpenAI({
      baseURL: 'http://127.0.0.1:8123/v1',
      apiKey: 'your-secret-key-1',
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
    });
    expect(completion.choices[0]?.message.content).toContain('openai/gpt-4');
    const seen = openrouter.requests.at(-1);
    expect(seen?.path).toBe('/api/v1/chat/completions');
    expect((seen!.body as { model: string }).model).toBe('openai/gpt-4');
    expect(seen?.headers.authorization).toBe('Bearer sk-or-v1-c000-secret');
  });

  it('refuses a key that is not in API_KEYS', async () => {
    const response = await fetch('http://127.0.0.1:8123/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-key' },
      body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('never prints a key in the process log', () => {
    const log = server.stdoutLines.join('\n') + server.stderr();
    expect(log).not.toContain('sk-or-v1-c000-secret');
    expect(log).not.toContain('your-secret-key-1');
  });
});

describe('C004: the seed .env with providers, priority, default models and generated keys', () => {
  const emulators: Record<string, ProviderEmulator> = {};
  let dir: string;
  let server: ServeProcess;
  let port: number;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    for (const name of ['openai', 'groq', 'openrouter', 'ollama'])
      emulators[name] = await ProviderEmulator.start();
    dir = makeTempDir('ai-proxy-c004-');
    const generated = await runCli(['generate-key'], { cwd: dir });
    expect(generated.code).toBe(0);
    key = generated.stdout.trim();
    port = await freePort();
    writeFiles(dir, {
      '.env': [
        'OPENAI_API_KEY=sk-c004-openai',
        'ANTHROPIC_API_KEY=sk-ant-api03-c004',
        'GOOGLE_API_KEY=AI-c004',
        'GROQ_API_KEY=gsk_c004',
        'OPENROUTER_API_KEY=sk-or-v1-c004',
        `OPENAI_BASE_URL=${emulators.openai!.url}/v1`,
        `GROQ_BASE_URL=${emulators.groq!.url}/openai/v1`,
        `OPENROUTER_BASE_URL=${emulators.openrouter!.url}/api/v1`,
        `OLLAMA_BASE_URL=${emulators.ollama!.url}`,
        'PROVIDERS_PRIORITY=groq,openai,anthropic',
        'OPENAI_MODEL=gpt-4o-mini',
        'ANTHROPIC_MODEL=claude-3-haiku-20240307',
        'GOOGLE_MODEL=gemini-1.5-flash',
        'GROQ_MODEL=groq:gemma2-9b-it',
        'OPENROUTER_MODEL=openrouter:openai/gpt-4o-mini',
        'OLLAMA_MODEL=ollama:llama3',
        `FORWARDER_KEY=${key}`,
      ].join('\n'),
    });
    server = spawnServe(['--port', String(port)], { cwd: dir });
    await server.waitForLine((line) => line.includes('ai-proxy listening'));
    client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.stop();
    for (const emulator of Object.values(emulators)) await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generate-key wrote a fwd_ key to keys/forwarder_api_keys.txt with mode 600', () => {
    expect(key).toMatch(/^fwd_[A-Za-z0-9]{32}$/);
    const path = join(dir, 'keys', 'forwarder_api_keys.txt');
    expect(readFileSync(path, 'utf8')).toContain(key);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('routes by prefix: groq:, openrouter:, ollama: and the gpt- family', async () => {
    const ask = (model: string) =>
      client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    await ask('groq:llama3-8b-8192');
    expect(emulators.groq!.requests.at(-1)).toMatchObject({
      path: '/openai/v1/chat/completions',
      body: { model: 'llama3-8b-8192' },
    });
    expect(emulators.groq!.requests.at(-1)?.headers.authorization).toBe('Bearer gsk_c004');
    await ask('openrouter:openai/gpt-4o-mini');
    expect(emulators.openrouter!.requests.at(-1)?.body).toMatchObject({ model: 'openai/gpt-4o-mini' });
    await ask('ollama:llama3');
    expect(emulators.ollama!.requests.at(-1)).toMatchObject({
      path: '/v1/chat/completions',
      body: { model: 'llama3' },
    });
    await ask('gpt-4o-mini');
    expect(emulators.openai!.requests.at(-1)?.headers.authorization).toBe('Bearer sk-c004-openai');
  });

  it('with no model, uses PROVIDERS_PRIORITY and GROQ_MODEL', async () => {
    const raw = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'Give me three fun facts about the ocean.' }],
        temperature: 0.8,
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('x-ai-proxy-provider')).toBe('groq');
    expect(emulators.groq!.requests.at(-1)?.body).toMatchObject({ model: 'gemma2-9b-it', temperature: 0.8 });
  });

  it('a failing first provider falls through to the next in priority', async () => {
    emulators.groq!.setDefault({ kind: 'error', status: 503 });
    try {
      const { data, response } = await client.chat.completions
        .create({
          messages: [{ role: 'user', content: 'hi' }],
        } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
      expect(data.model).toBe('gpt-4o-mini');
    } finally {
      emulators.groq!.reset();
    }
  });

  it('accepts the generated key and refuses others', async () => {
    const bad = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'fwd_wrong', maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401 });
    await expect(client.models.list()).resolves.toBeDefined();
  });

  it('call works with FORWARDER_KEY from .env, with a model, a system prompt and --stream', async () => {
    const server = `http://127.0.0.1:${port}`;
    const plain = await runCli(['call', '--server', server, 'Tell me a joke about APIs.'], { cwd: dir });
    expect(plain.stderr).toContain('[groq / gemma2-9b-it]');
    expect(plain.stdout).toContain('Hello from emulator (model gemma2-9b-it)');
    const pirate = await runCli(
      [
        'call',
        '--server',
        server,
        '-m',
        'groq:llama3-8b-8192',
        '-s',
        'You are a pirate.',
        '-t',
        '0.5',
        '--max-tok',
        '50',
        "What's for dinner?",
      ],
      { cwd: dir },
    );
    expect(pirate.code).toBe(0);
    expect(emulators.groq!.requests.at(-1)?.body).toMatchObject({
      model: 'llama3-8b-8192',
      temperature: 0.5,
      max_tokens: 50,
      messages: [
        { role: 'system', content: 'You are a pirate.' },
        { role: 'user', content: "What's for dinner?" },
      ],
    });
    const streamed = await runCli(['call', '--server', server, '--stream', '-m', 'gpt-4o-mini', 'hi'], {
      cwd: dir,
    });
    expect(streamed.stdout).toContain('Hello from emulator (model gpt-4o-mini)');
    const wrongKey = await runCli(['call', '--server', server, '-k', 'fwd_nope', 'hi'], { cwd: dir });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('HTTP 401');
  });

  it('serves the status page, /docs and /redoc', async () => {
    const home = await fetch(`http://127.0.0.1:${port}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('ai-proxy');
    expect(html).toContain('groq');
    for (const secret of ['sk-c004-openai', 'gsk_c004', key]) expect(html).not.toContain(secret);
    const docs = await fetch(`http://127.0.0.1:${port}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
    const redoc = await fetch(`http://127.0.0.1:${port}/redoc`);
    expect(redoc.status).toBe(200);
    expect(await redoc.text()).toContain('/openapi.json');
  });
});
