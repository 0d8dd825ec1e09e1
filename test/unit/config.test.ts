import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = makeTempDir('ai-proxy-config-');
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('configuration sources and precedence', () => {
  it('defaults to 127.0.0.1:8123 with no file and no environment', () => {
    const config = loadConfig({ cwd: dirWith({}), env: {} });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8123);
    expect(config.configFile).toBeUndefined();
    expect(config.log.level).toBe('info');
    expect(config.log.dir).toMatch(/logs$/);
  });

  it('finds ./config.yml before ./config.json, and CONFIG_PATH or --config over both', () => {
    const dir = dirWith({
      'config.yml': 'port: 9001\n',
      'config.json': '{"port": 9002}',
      'other.yaml': 'port: 9003\n',
    });
    expect(loadConfig({ cwd: dir, env: {} }).port).toBe(9001);
    expect(loadConfig({ cwd: dir, env: { CONFIG_PATH: 'config.json' } }).port).toBe(9002);
    expect(loadConfig({ cwd: dir, env: { CONFIG_PATH: 'config.json' }, configPath: 'other.yaml' }).port).toBe(
      9003,
    );
  });

  it('layers file < .env < environment < flags', () => {
    const dir = dirWith({
      'config.yml': 'port: 9001\nhost: 127.0.0.2\nlog_level: error\n',
      '.env': 'PORT=9002\nHOST=127.0.0.3\n',
    });
    expect(loadConfig({ cwd: dir, env: {} }).port).toBe(9002);
    const fromEnv = loadConfig({ cwd: dir, env: { PORT: '9004' } });
    expect(fromEnv.port).toBe(9004);
    expect(fromEnv.host).toBe('127.0.0.3');
    expect(fromEnv.log.level).toBe('error');
    const fromFlags = loadConfig({
      cwd: dir,
      env: { PORT: '9004', LOG_LEVEL: 'WARNING' },
      flags: { port: 9005, logLevel: 'Debug' },
    });
    expect(fromFlags.port).toBe(9005);
    expect(fromFlags.log.level).toBe('debug');
  });

  it('reads every seed 000 and 004 variable', () => {
    const config = loadConfig({
      cwd: dirWith({}),
      env: {
        API_KEYS: 'k1, k2',
        OPENAI_API_KEY: 'sk-o',
        ANTHROPIC_API_KEY: 'sk-a',
        GOOGLE_API_KEY: 'AI-g',
        GROQ_API_KEY: 'gsk',
        OPENROUTER_API_KEY: 'sk-or',
        OLLAMA_BASE_URL: 'http://127.0.0.1:11434',
        PROVIDERS_PRIORITY: 'groq,openai,google,ollama',
        GROQ_MODEL: 'groq:gemma2-9b-it',
        OPENAI_MODEL: 'gpt-4o-mini',
        GOOGLE_MODEL: 'gemini-1.5-flash',
        OLLAMA_MODEL: 'ollama:llama3',
        LOG_LEVEL: 'CRITICAL',
      },
    });
    expect(config.clientKeys).toEqual(['k1', 'k2']);
    expect(config.providersPriority).toEqual(['groq', 'openai', 'gemini', 'ollama']);
    expect(config.providers.get('groq')?.defaultModel).toBe('gemma2-9b-it');
    expect(config.providers.get('openai')?.defaultModel).toBe('gpt-4o-mini');
    expect(config.providers.get('gemini')?.configured).toBe(true);
    expect(config.providers.get('ollama')?.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(config.providers.get('ollama')?.configured).toBe(true);
    expect(config.providers.get('ollama')?.defaultModel).toBe('llama3');
    expect(config.providers.get('cohere')?.configured).toBe(false);
    expect(config.defaultProvider).toBe('openrouter');
    expect(config.log.level).toBe('critical');
  });

  it('makes a key pool from a comma-separated <PROVIDER>_API_KEY, with ids that reveal nothing', () => {
    const config = loadConfig({ cwd: dirWith({}), env: { OPENAI_API_KEY: 'sk-one,sk-two' } });
    const keys = config.providers.get('openai')?.keys ?? [];
    expect(keys.map((k) => k.key)).toEqual(['sk-one', 'sk-two']);
    for (const key of keys) {
      expect(key.id).toMatch(/^openai-[0-9a-f]{8}$/);
      expect(key.id).not.toContain(key.key);
    }
  });

  it('accepts seed 003 config.json verbatim', () => {
    const seed = {
      access_key: 'your-proxy-access-key',
      model_usage_gap_percentage: 5,
      'auto-models': ['gpt-3.5-turbo:free', 'gemini-pro'],
      provider_keys: [
        {
          provider: 'openrouter',
          key: ['key1', 'key2'],
          max_request_day: 1500,
          max_token_min: 150000,
          max_request_min: 15,
        },
        {
          provider: 'gemini',
          key: ['key1', 'key2'],
          max_request_day: 1500,
          max_token_min: 150000,
          max_request_min: 15,
        },
      ],
    };
    const config = loadConfig({ cwd: dirWith({ 'config.json': JSON.stringify(seed) }), env: {} });
    expect(config.clientKeys).toEqual(['your-proxy-access-key']);
    expect(config.autoModels).toEqual(['gpt-3.5-turbo:free', 'gemini-pro']);
    const openrouter = config.providers.get('openrouter');
    expect(openrouter?.keys.map((k) => k.limits)).toEqual([
      { max_request_day: 1500, max_token_min: 150000, max_request_min: 15 },
      { max_request_day: 1500, max_token_min: 150000, max_request_min: 15 },
    ]);
    expect(config.providers.get('gemini')?.keys).toHaveLength(2);
    expect(config.defaultProvider).toBe('openrouter');
  });

  it('keeps model_mappings in file order, split into exact keys and wildcards', () => {
    const config = loadConfig({
      cwd: dirWith({
        'config.yml':
          'model_mappings:\n  "gpt-4": "openai/gpt-4"\n  "claude-*": "openrouter:anthropic/claude-*"\n  "fast": ["groq:llama3-8b-8192", "openai:gpt-4o-mini"]\n  "*": "openrouter:*"\n',
      }),
      env: {},
    });
    expect([...config.exactMappings]).toEqual([
      ['gpt-4', ['openai/gpt-4']],
      ['fast', ['groq:llama3-8b-8192', 'openai:gpt-4o-mini']],
    ]);
    expect(config.wildcardMappings.map((r) => r.pattern)).toEqual(['claude-*', '*']);
  });

  it('declares custom OpenAI-compatible providers in config, with env overrides by name', () => {
    const config = loadConfig({
      cwd: dirWith({
        'config.yml': 'providers:\n  my-vllm:\n    base_url: http://127.0.0.1:8000/v1\n    models: [qwen]\n',
      }),
      env: { MY_VLLM_API_KEY: 'local-key' },
    });
    const custom = config.providers.get('my-vllm');
    expect(custom).toMatchObject({
      protocol: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
      configured: true,
      builtin: false,
    });
    expect(custom?.keys.map((k) => k.key)).toEqual(['local-key']);
  });
});

describe('configuration errors name the source, the key and what was expected', () => {
  it('a wrong type in the file', () => {
    const dir = dirWith({ 'config.yml': 'timeouts:\n  connect_ms: soon\n' });
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrowError(ConfigError);
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrowError(
      /config\.yml: timeouts\.connect_ms: .*expected number/,
    );
  });

  it('unparseable YAML names the file', () => {
    const dir = dirWith({ 'config.yml': 'model_mappings: [unclosed\n' });
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrowError(/config\.yml: cannot be parsed/);
  });

  it('a bad environment value names the variable', () => {
    expect(() => loadConfig({ cwd: dirWith({}), env: { PORT: 'eighty' } })).toThrowError(
      /environment variable PORT: expected an integer from 0 to 65535, got "eighty"/,
    );
    expect(() => loadConfig({ cwd: dirWith({}), env: { LOG_LEVEL: 'loud' } })).toThrowError(
      /environment variable LOG_LEVEL: expected one of debug, info, warning, error, critical, none/,
    );
    expect(() => loadConfig({ cwd: dirWith({}), env: { OPENAI_BASE_URL: 'not a url' } })).toThrowError(
      /OPENAI_BASE_URL: expected an http\(s\) URL/,
    );
  });

  it('an unknown provider in PROVIDERS_PRIORITY or default_provider', () => {
    expect(() => loadConfig({ cwd: dirWith({}), env: { PROVIDERS_PRIORITY: 'openai,nosuch' } })).toThrowError(
      /PROVIDERS_PRIORITY: unknown provider "nosuch"/,
    );
    expect(() =>
      loadConfig({ cwd: dirWith({ 'config.yml': 'default_provider: nosuch\n' }), env: {} }),
    ).toThrowError(/default_provider: unknown provider "nosuch"/);
  });

  it('a custom provider without a base URL', () => {
    const dir = dirWith({ 'config.yml': 'providers:\n  mine:\n    api_key: x\n' });
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrowError(/providers\.mine\.base_url/);
  });

  it('an explicit config path that does not exist', () => {
    expect(() => loadConfig({ cwd: dirWith({}), env: {}, configPath: 'missing.yml' })).toThrowError(
      /config file missing\.yml: not found/,
    );
  });

  it('warns about unknown top-level keys instead of failing', () => {
    const config = loadConfig({ cwd: dirWith({ 'config.yml': 'modle_mappings: {}\n' }), env: {} });
    expect(config.warnings.join('\n')).toMatch(/unknown key "modle_mappings"/);
  });

  it('reads the keys file relative to the working directory', () => {
    const dir = dirWith({ [join('keys', 'forwarder_api_keys.txt')]: '# team keys\nfwd_a\n\n  fwd_b  \n' });
    expect(loadConfig({ cwd: dir, env: {} }).clientKeys).toEqual(['fwd_a', 'fwd_b']);
  });
});
