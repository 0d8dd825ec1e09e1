import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { GatewayError } from '../../src/errors.js';
import { Router, type Target } from '../../src/routing/router.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function router(env: Record<string, string>, configYml?: string): Router {
  const dir = makeTempDir('ai-proxy-router-');
  dirs.push(dir);
  if (configYml !== undefined) writeFiles(dir, { 'config.yml': configYml });
  return new Router(loadConfig({ cwd: dir, env }));
}

const pairs = (targets: Target[]) => targets.map((t) => `${t.provider.name}:${t.model}`);

function routingError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a routing error');
}

describe('routing rules, first rule wins (SPEC §4)', () => {
  const all = {
    OPENAI_API_KEY: 'o',
    ANTHROPIC_API_KEY: 'a',
    GEMINI_API_KEY: 'g',
    COHERE_API_KEY: 'c',
    GROQ_API_KEY: 'q',
    OPENROUTER_API_KEY: 'r',
  };

  it('rule 2: provider:model prefixes, aliases of provider names included', () => {
    const r = router(all);
    expect(pairs(r.resolve('groq:llama3-8b-8192'))).toEqual(['groq:llama3-8b-8192']);
    expect(pairs(r.resolve('openrouter:openai/gpt-4o-mini'))).toEqual(['openrouter:openai/gpt-4o-mini']);
    expect(pairs(r.resolve('gemini:gemini-1.5-pro-latest'))).toEqual(['gemini:gemini-1.5-pro-latest']);
    expect(pairs(r.resolve('google:gemini-1.5-flash'))).toEqual(['gemini:gemini-1.5-flash']);
    expect(r.resolve('groq:llama3-8b-8192')[0]?.rule).toBe('prefix');
  });

  it('rule 3: exact mappings; a bare value goes to the default provider; a list is a chain', () => {
    const r = router(
      all,
      'model_mappings:\n  gpt-4: openai/gpt-4\n  fast: [groq:llama3-8b-8192, "openai:gpt-4o-mini"]\n  "gpt-4o": "*"\n',
    );
    expect(pairs(r.resolve('gpt-4'))).toEqual(['openrouter:openai/gpt-4']);
    expect(pairs(r.resolve('fast'))).toEqual(['groq:llama3-8b-8192', 'openai:gpt-4o-mini']);
    expect(r.resolve('fast')[0]?.rule).toBe('alias');
  });

  it('rule 4: the catalog hook answers before wildcards', () => {
    const config = loadConfig({ cwd: makeTempDir(), env: all });
    const openai = config.providers.get('openai')!;
    const r = new Router(config, {
      catalog: (model) =>
        model === 'cat-model' ? [{ provider: openai, model: 'from-catalog', rule: 'catalog' }] : undefined,
    });
    expect(pairs(r.resolve('cat-model'))).toEqual(['openai:from-catalog']);
  });

  it('rule 5: wildcards in file order, `*` substituted, "*" as catch-all', () => {
    const r = router(
      all,
      'model_mappings:\n  "claude-*": "openrouter:anthropic/claude-*"\n  "my-*-model": ["groq:*", "openai:gpt-*"]\n  "*": "openrouter:*"\n',
    );
    expect(pairs(r.resolve('claude-3-haiku'))).toEqual(['openrouter:anthropic/claude-3-haiku']);
    expect(pairs(r.resolve('my-fast-model'))).toEqual(['groq:fast', 'openai:gpt-fast']);
    expect(pairs(r.resolve('whatever/else'))).toEqual(['openrouter:whatever/else']);
    expect(r.resolve('whatever/else')[0]?.rule).toBe('wildcard');
  });

  it('rule 6: name families for configured providers only', () => {
    const r = router({
      OPENAI_API_KEY: 'o',
      ANTHROPIC_API_KEY: 'a',
      GEMINI_API_KEY: 'g',
      COHERE_API_KEY: 'c',
    });
    expect(pairs(r.resolve('gpt-4o-mini'))).toEqual(['openai:gpt-4o-mini']);
    expect(pairs(r.resolve('o3-mini'))).toEqual(['openai:o3-mini']);
    expect(pairs(r.resolve('chatgpt-4o-latest'))).toEqual(['openai:chatgpt-4o-latest']);
    expect(pairs(r.resolve('text-embedding-3-small'))).toEqual(['openai:text-embedding-3-small']);
    expect(pairs(r.resolve('claude-3-haiku-20240307'))).toEqual(['anthropic:claude-3-haiku-20240307']);
    expect(pairs(r.resolve('gemini-1.5-flash'))).toEqual(['gemini:gemini-1.5-flash']);
    expect(pairs(r.resolve('command-r-plus'))).toEqual(['cohere:command-r-plus']);
    expect(pairs(r.resolve('embed-english-v3.0'))).toEqual(['cohere:embed-english-v3.0']);
    const onlyGroq = router({ GROQ_API_KEY: 'q' });
    expect(routingError(() => onlyGroq.resolve('gpt-4o')).code).toBe('model_not_found');
  });

  it('rule 7: the default provider takes the model as given (seed 003 sends gpt-3.5-turbo:free to OpenRouter)', () => {
    const r = router({ OPENROUTER_API_KEY: 'r' });
    expect(pairs(r.resolve('gpt-3.5-turbo:free'))).toEqual(['openrouter:gpt-3.5-turbo:free']);
    expect(r.resolve('mistralai/mistral-7b')[0]?.rule).toBe('default');
    const explicit = router({ OPENAI_API_KEY: 'o', GROQ_API_KEY: 'q' }, 'default_provider: groq\n');
    expect(pairs(explicit.resolve('llama3-70b'))).toEqual(['groq:llama3-70b']);
  });

  it('no route: 404 model_not_found with a hint on adding a mapping', () => {
    const error = routingError(() => router({ OPENAI_API_KEY: 'o' }).resolve('mystery-model'));
    expect(error.status).toBe(404);
    expect(error.code).toBe('model_not_found');
    expect(error.message).toMatch(/model_mappings/);
  });

  it('a known but unconfigured provider prefix says which variable to set', () => {
    const error = routingError(() => router({ OPENAI_API_KEY: 'o' }).resolve('groq:llama3'));
    expect(error.code).toBe('model_not_found');
    expect(error.message).toMatch(/GROQ_API_KEY/);
  });

  it('no model: the PROVIDERS_PRIORITY chain with each <PROVIDER>_MODEL', () => {
    const r = router({
      GROQ_API_KEY: 'q',
      OPENAI_API_KEY: 'o',
      ANTHROPIC_API_KEY: 'a',
      PROVIDERS_PRIORITY: 'groq,openai,anthropic',
      GROQ_MODEL: 'groq:gemma2-9b-it',
      OPENAI_MODEL: 'gpt-4o-mini',
      ANTHROPIC_MODEL: 'claude-3-haiku-20240307',
    });
    expect(pairs(r.resolveRequest(undefined, undefined))).toEqual([
      'groq:gemma2-9b-it',
      'openai:gpt-4o-mini',
      'anthropic:claude-3-haiku-20240307',
    ]);
    const none = router({ OPENAI_API_KEY: 'o' });
    const error = routingError(() => none.resolveRequest(undefined, undefined));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/PROVIDERS_PRIORITY/);
  });

  it('an OpenRouter-style models array is an explicit chain after model, without duplicates', () => {
    const r = router(all);
    expect(pairs(r.resolveRequest('gpt-4o', ['groq:llama3', 'gpt-4o', 'openrouter:x/y']))).toEqual([
      'openai:gpt-4o',
      'groq:llama3',
      'openrouter:x/y',
    ]);
    expect(pairs(r.resolveRequest(undefined, ['groq:llama3']))).toEqual(['groq:llama3']);
  });

  it('auto-model: the auto-models list in order, providers with headroom first', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    writeFiles(dir, {
      'config.json': JSON.stringify({ 'auto-models': ['gpt-3.5-turbo:free', 'gemini-pro'] }),
    });
    const config = loadConfig({ cwd: dir, env: { OPENROUTER_API_KEY: 'r', GEMINI_API_KEY: 'g' } });
    expect(pairs(new Router(config).resolve('auto-model'))).toEqual([
      'openrouter:gpt-3.5-turbo:free',
      'gemini:gemini-pro',
    ]);
    const busy = new Router(config, { hasHeadroom: (p) => p.name !== 'openrouter' });
    expect(pairs(busy.resolve('auto'))).toEqual(['gemini:gemini-pro', 'openrouter:gpt-3.5-turbo:free']);
  });
});
