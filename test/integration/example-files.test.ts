// The shipped .env.example and config.yml, used the way seeds 000 and 004 tell a new user to: copied
// into a fresh folder (`cp .env.example .env`), filled in, and the gateway started from the CLI.
// Fake keys and base URLs point every provider at the emulator.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_TOP_LEVEL_KEYS } from '../../src/config/file-schema.js';
import { loadConfig } from '../../src/config/load.js';
import { runCli, type ServeProcess, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir } from '../support/gateway.js';

const ROOT = new URL('../../', import.meta.url);
const ENV_EXAMPLE = readFileSync(new URL('.env.example', ROOT), 'utf8');
const CONFIG_YML = readFileSync(new URL('config.yml', ROOT), 'utf8');
const README = readFileSync(new URL('README.md', ROOT), 'utf8');

/**
 * Every environment variable the README lists: each backticked NAME (or NAME=value) in its
 * "Environment variables" section, the names in that table's first column (HOST, PORT), and every
 * NAME= line of its ```env blocks. Placeholders such as `<PROVIDER>_API_KEY` are not variables.
 */
function readmeEnvNames(): string[] {
  const names = new Set<string>();
  const section = README.split(/^### Environment variables$/m)[1]?.split(/^#{2,3} /m)[0] ?? '';
  for (const match of section.matchAll(/`([^`\n]+)`/g)) {
    const name = (match[1] ?? '').split('=')[0] ?? '';
    if (/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(name)) names.add(name);
  }
  for (const row of section.split('\n').filter((line) => line.startsWith('| `'))) {
    const firstCell = row.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(match[1] ?? '');
  }
  for (const block of README.matchAll(/^```env\n([\s\S]*?)^```/gm)) {
    for (const match of (block[1] ?? '').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)) names.add(match[1] ?? '');
  }
  return [...names].sort();
}

/** Uncomments `# NAME=…` (or replaces `NAME=…`) with a value; fails when the file lacks the line. */
function setEnv(text: string, name: string, value: string): string {
  const line = new RegExp(`^#?\\s*${name}=.*$`, 'm');
  if (!line.test(text)) throw new Error(`.env.example has no ${name}= line`);
  return text.replace(line, `${name}=${value}`);
}

function fillEnv(values: Record<string, string>): string {
  let text = ENV_EXAMPLE;
  for (const [name, value] of Object.entries(values)) text = setEnv(text, name, value);
  return text;
}

/** The example's commented settings (`# key: …` and their indented lines) made live. */
function uncommentSettings(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/^# ((?: {2})*[a-z_-]+:(?: |$)| {2,}[-a-z{]| {4,}max_)/, '$1'))
    .join('\n');
}

const dirs: string[] = [];
const servers: ServeProcess[] = [];
let upstream: ProviderEmulator;

beforeAll(async () => {
  upstream = await ProviderEmulator.start();
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop('SIGKILL');
  upstream.reset();
});
afterAll(async () => {
  await upstream.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder with the shipped files copied in, as `cp .env.example .env` leaves it. */
function checkout(): string {
  const dir = makeTempDir('ai-proxy-example-');
  dirs.push(dir);
  copyFileSync(new URL('.env.example', ROOT), join(dir, '.env.example'));
  copyFileSync(new URL('config.yml', ROOT), join(dir, 'config.yml'));
  return dir;
}

/** `ai-proxy serve` (seed 004's `run-server` is its alias) in the folder, on a free port. */
async function serve(dir: string): Promise<string> {
  const port = await freePort();
  const server = spawnServe(['--port', String(port)], { cwd: dir, env: { LOG_DIR: join(dir, 'logs') } });
  servers.push(server);
  await server.waitForLine((line) => line.includes('ai-proxy listening'));
  return `http://127.0.0.1:${port}`;
}

describe('the shipped example files', () => {
  it('.env.example names every environment variable the README lists, with no live value', () => {
    const names = readmeEnvNames();
    expect(names.length).toBeGreaterThan(40);
    const missing = names.filter((name) => !new RegExp(`^#?\\s*${name}=`, 'm').test(ENV_EXAMPLE));
    expect(missing).toEqual([]);
    // Everything is commented out: copying it changes nothing until a line is filled in.
    const live = ENV_EXAMPLE.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(live).toEqual([]);
    // Seed 004's groups, in its order.
    const groups = [...ENV_EXAMPLE.matchAll(/^# --- (.+?) -+$/gm)].map((m) => m[1]);
    expect(groups.slice(0, 4)).toEqual([
      'Backend API keys (required for forwarding)',
      'Backend base URLs (optional)',
      'Provider fallback (optional)',
      'Forwarder security',
    ]);
  });

  it('config.yml is found by default, validates, and holds the seeds’ mappings', () => {
    const dir = checkout();
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.configFile).toBe(join(dir, 'config.yml'));
    expect(config.warnings).toEqual([]);
    expect(Object.fromEntries(config.exactMappings)).toEqual({
      'gpt-4': ['openai:gpt-4', 'openai/gpt-4'],
      'gemini-pro': ['gemini:gemini-1.5-pro-latest'],
    });
    expect(config.wildcardMappings).toEqual([
      { pattern: 'claude-*', targets: ['anthropic:claude-*', 'anthropic/claude-*'] },
    ]);
  });

  it('config.yml shows every config file key, and its commented settings validate when made live', () => {
    // auto_models is another spelling of auto-models, named in that line's comment.
    const missing = [...KNOWN_TOP_LEVEL_KEYS].filter(
      (key) => key !== 'auto_models' && !new RegExp(`^(# )?"?${key}"?:`, 'm').test(CONFIG_YML),
    );
    expect(missing).toEqual([]);
    const dir = checkout();
    writeFileSync(join(dir, 'config.yml'), uncommentSettings(CONFIG_YML));
    const config = loadConfig({ cwd: dir, env: { OPENROUTER_API_KEY: 'sk-or-fake' } });
    expect(config.warnings).toEqual([]);
    expect(config.providersPriority).toEqual(['groq', 'openai', 'anthropic']);
    expect(config.providers.get('my-vllm')?.baseUrl).toBe('http://10.0.0.5:8000/v1');
    expect(config.timeouts.totalMs).toBe(600_000);
  });
});

describe('the seeds’ set-ups from the shipped files', () => {
  it('seed 000: OpenRouter with aliases (gpt-4 → openai/gpt-4, a wildcard) and seed 002’s gemini-pro', async () => {
    const dir = checkout();
    writeFileSync(
      join(dir, '.env'),
      fillEnv({
        API_KEYS: 'your-secret-key-1,your-secret-key-2',
        OPENROUTER_API_KEY: 'sk-or-v1-fake',
        OPENROUTER_BASE_URL: `${upstream.url}/openrouter/v1`,
        GEMINI_API_KEY: 'AI-fake-gemini',
        GEMINI_BASE_URL: `${upstream.url}/v1beta`,
      }),
    );
    const url = await serve(dir);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'your-secret-key-1', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

    await client.chat.completions.create({ model: 'gpt-4', messages });
    await client.chat.completions.create({ model: 'claude-3-haiku-20240307', messages });
    await client.chat.completions.create({ model: 'gemini-pro', messages });
    const [gpt4, claude, gemini] = await upstream.waitForRequests(3);
    expect(gpt4?.path).toBe('/openrouter/v1/chat/completions');
    expect(gpt4?.body).toMatchObject({ model: 'openai/gpt-4' });
    expect(claude?.path).toBe('/openrouter/v1/chat/completions');
    expect(claude?.body).toMatchObject({ model: 'anthropic/claude-3-haiku-20240307' });
    expect(gemini?.path).toBe('/v1beta/models/gemini-1.5-pro-latest:generateContent');
  });

  it('seed 004: many providers, priority fallback, a generated key and `call`', async () => {
    const dir = checkout();
    const generated = await runCli(['generate-key'], { cwd: dir });
    expect(generated.code).toBe(0);
    const key = generated.stdout.trim().split('\n')[0] ?? '';
    expect(key).toMatch(/^fwd_/);
    writeFileSync(
      join(dir, '.env'),
      fillEnv({
        OPENAI_API_KEY: 'sk-fake-openai',
        OPENAI_BASE_URL: `${upstream.url}/openai/v1`,
        GROQ_API_KEY: 'gsk_fake',
        GROQ_BASE_URL: `${upstream.url}/groq/v1`,
        PROVIDERS_PRIORITY: 'groq,openai',
        GROQ_MODEL: 'groq:gemma2-9b-it',
        OPENAI_MODEL: 'gpt-4o-mini',
        FORWARDER_KEY: key,
      }),
    );
    const url = await serve(dir);

    // No model: the priority chain, groq first, with the key from .env's FORWARDER_KEY.
    const call = await runCli(['call', '--server', url, 'Tell me a joke about APIs.'], { cwd: dir });
    expect(call.code).toBe(0);
    const [first] = await upstream.waitForRequests(1);
    expect(first?.path).toBe('/groq/v1/chat/completions');
    expect(first?.body).toMatchObject({ model: 'gemma2-9b-it' });

    // gpt-4 goes to OpenAI itself when it has a key (the example mapping's first target).
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'Hi' }] });
    const [, second] = await upstream.waitForRequests(2);
    expect(second?.path).toBe('/openai/v1/chat/completions');
    expect(second?.body).toMatchObject({ model: 'gpt-4' });
  });
});
