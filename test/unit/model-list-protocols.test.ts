// Each provider's model list answer read as the gateway must: ids as a chat call sends them,
// paging cursors, and only models the gateway can serve; a page of the wrong shape is an error.
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { BUILTIN_PROVIDERS } from '../../src/providers/registry.js';
import { modelListProtocolOf } from '../../src/routing/model-list-protocols.js';

function provider(name: string, overrides: Partial<ProviderConfig> = {}): ProviderConfig {
  const descriptor = BUILTIN_PROVIDERS.find((d) => d.name === name)!;
  return {
    name,
    protocol: descriptor.protocol,
    baseUrl: descriptor.baseUrl,
    auth: descriptor.auth,
    headers: {},
    families: [],
    aliases: [],
    keys: [],
    keyOptional: false,
    configured: true,
    defaultModel: undefined,
    models: [],
    builtin: true,
    ...overrides,
  };
}

function protocolOf(name: string) {
  const protocol = modelListProtocolOf(provider(name));
  if (protocol === undefined) throw new Error(`${name} has no list`);
  return protocol;
}

describe('model list protocols', () => {
  it('OpenAI: {base}/models, data[].id with created; bad entries skipped', () => {
    const openai = protocolOf('openai');
    expect(openai.path('/v1', undefined)).toBe('/v1/models');
    expect(
      openai.parse({
        object: 'list',
        data: [
          { id: 'gpt-4o', created: 1_715_367_049 },
          { id: 'bad\nid' },
          { id: '' },
          { id: 42 },
          'nonsense',
          { id: 'o3' },
        ],
      }),
    ).toEqual({ models: [{ id: 'gpt-4o', created: 1_715_367_049 }, { id: 'o3' }], next: undefined });
    expect(() => openai.parse({ models: [] })).toThrow(/"data"/);
    expect(() => openai.parse('<html>')).toThrow(/"data"/);
  });

  it('Anthropic: limit and after_id paging while has_more, created_at as epoch seconds', () => {
    const anthropic = protocolOf('anthropic');
    expect(anthropic.path('/v1', undefined)).toBe('/v1/models?limit=1000');
    expect(anthropic.path('/v1', 'claude-x')).toBe('/v1/models?limit=1000&after_id=claude-x');
    const page = anthropic.parse({
      data: [{ type: 'model', id: 'claude-sonnet-4-20250514', created_at: '2025-05-22T00:00:00Z' }],
      has_more: true,
      last_id: 'claude-sonnet-4-20250514',
    });
    expect(page).toEqual({
      models: [{ id: 'claude-sonnet-4-20250514', created: Date.parse('2025-05-22T00:00:00Z') / 1000 }],
      next: 'claude-sonnet-4-20250514',
    });
    expect(anthropic.parse({ data: [], has_more: false, last_id: null }).next).toBeUndefined();
  });

  it('Gemini: pageToken paging, models/ stripped, only generateContent or embedContent models', () => {
    const gemini = protocolOf('gemini');
    expect(gemini.path('/v1beta', 'tok')).toBe('/v1beta/models?pageSize=1000&pageToken=tok');
    expect(
      gemini.parse({
        models: [
          { name: 'models/gemini-2.5-pro', supportedGenerationMethods: ['generateContent', 'countTokens'] },
          { name: 'models/gemini-embedding-001', supportedGenerationMethods: ['embedContent'] },
          { name: 'models/aqa', supportedGenerationMethods: ['generateAnswer'] },
          { name: 'models/imagen-3.0-generate-002', supportedGenerationMethods: ['predict'] },
          { name: 'models/no-methods' },
        ],
        nextPageToken: 'next-page',
      }),
    ).toEqual({ models: [{ id: 'gemini-2.5-pro' }, { id: 'gemini-embedding-001' }], next: 'next-page' });
  });

  it('Cohere: /v1/models beside /v2, page_token paging, chat and embed models only', () => {
    const cohere = protocolOf('cohere');
    expect(cohere.path('', undefined)).toBe('/v1/models?page_size=1000');
    expect(
      cohere.parse({
        models: [
          { name: 'command-a-03-2025', endpoints: ['generate', 'chat', 'summarize'] },
          { name: 'embed-v4.0', endpoints: ['embed'] },
          { name: 'rerank-v3.5', endpoints: ['rerank'] },
          { name: 'c4ai-aya-vision-8b' },
        ],
        next_page_token: '',
      }),
    ).toEqual({
      models: [{ id: 'command-a-03-2025' }, { id: 'embed-v4.0' }, { id: 'c4ai-aya-vision-8b' }],
      next: undefined,
    });
  });

  it('Ollama: /api/tags at the server root, not under its OpenAI /v1', () => {
    const ollama = modelListProtocolOf(provider('ollama', { baseUrl: 'http://localhost:11434/v1' }))!;
    expect(ollama.path('/v1', undefined)).toBe('/api/tags');
    expect(ollama.path('/proxy/ollama/v1', undefined)).toBe('/proxy/ollama/api/tags');
    expect(
      ollama.parse({ models: [{ name: 'llama3:latest', modified_at: '2024-05-01T10:00:00Z' }] }),
    ).toEqual({
      models: [{ id: 'llama3:latest', created: Date.parse('2024-05-01T10:00:00Z') / 1000 }],
      next: undefined,
    });
  });

  it('no list for Ideogram, Recraft or a catalog entry', () => {
    expect(modelListProtocolOf(provider('ideogram'))).toBeUndefined();
    expect(modelListProtocolOf(provider('recraft'))).toBeUndefined();
    expect(
      modelListProtocolOf(provider('openai', { fixedPath: '/openai/v1/chat/completions' })),
    ).toBeUndefined();
    // A custom OpenAI-protocol server (vLLM, say) lists at {base}/models.
    expect(
      modelListProtocolOf(provider('openai', { name: 'my-vllm', builtin: false }))?.path('/v1', undefined),
    ).toBe('/v1/models');
  });
});
