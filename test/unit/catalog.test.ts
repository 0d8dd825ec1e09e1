// The catalog's pure parts: entry validation, what a handle says, the fixed-path rule, and the
// Catalog's own state (prices, listing, kept list) against a real HTTP catalog host on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { CatalogFormatError, parseCatalog } from '../../src/catalog/catalog-entry.js';
import { catalogProvider } from '../../src/catalog/catalog-provider.js';
import { isImageFamily, ownerOfHandle, protocolForHandle } from '../../src/catalog/handle.js';
import { fixedUpstreamPath } from '../../src/providers/fixed-path.js';
import { CatalogServer } from '../support/emulator/catalog-server.js';

describe('parseCatalog', () => {
  it('keeps good entries, skips unavailable ones quietly and names each bad one', () => {
    const parsed = parseCatalog({
      models: [
        {
          model_version: 'a',
          model_family: 'gpt-4',
          handle: '/openai/v1/chat/completions',
          prompt_price_1k: 0.1,
          completion_price_1k: 0.2,
        },
        { model_version: 'gone', model_family: 'gpt-4', handle: 'unavailable' },
        { model_version: 'b', handle: 'openai/v1/chat/completions' },
        { model_version: 'c', handle: '/x/../admin' },
        { model_version: 'd', handle: '/ok', prompt_price_1k: -1 },
        { handle: '/no/version' },
        'not an object',
        { model_version: 'a', handle: '/dup' },
        { model_version: 'e', handle: '/free', prompt_price_1k: null },
      ],
    });
    expect(parsed.entries.map((e) => e.modelVersion)).toEqual(['a', 'e']);
    expect(parsed.entries[0]).toEqual({
      modelVersion: 'a',
      family: 'gpt-4',
      handle: '/openai/v1/chat/completions',
      promptPrice1k: 0.1,
      completionPrice1k: 0.2,
    });
    expect(parsed.unavailable).toBe(1);
    expect(parsed.skipped).toHaveLength(6);
    expect(parsed.skipped[0]).toMatch(
      /^catalog entry "b" skipped: handle: expected a path starting with "\/"/,
    );
    expect(parsed.skipped[1]).toMatch(/^catalog entry "c" skipped: handle: must not contain "\.\."/);
    expect(parsed.skipped[2]).toMatch(/^catalog entry "d" skipped: prompt_price_1k/);
    expect(parsed.skipped[3]).toMatch(/^catalog entry #5 skipped: model_version/);
    expect(parsed.skipped[4]).toMatch(/^catalog entry #6 skipped/);
    expect(parsed.skipped[5]).toBe('catalog entry "a" skipped: listed twice, the first kept');
  });

  it('refuses a document that is not {"models": [...]}, or whose every entry is broken', () => {
    expect(() => parseCatalog([])).toThrow(CatalogFormatError);
    expect(() => parseCatalog({ data: [] })).toThrow(/"models" array/);
    expect(() => parseCatalog({ models: [{ model_version: 'x' }] })).toThrow(/no usable entry/);
    expect(parseCatalog({ models: [] }).entries).toEqual([]);
  });
});

describe('what a handle says', () => {
  it.each([
    ['/anthropic/v1/messages', 'anthropic'],
    ['/google/v1beta/models/gemini-pro:generateContent', 'gemini'],
    ['/gemini/v1beta/models/x:generateContent', 'gemini'],
    ['/cohere/v2/chat', 'cohere'],
    ['/openai/v1/chat/completions', 'openai'],
    ['/fireworks/chat/completions', 'openai'],
    ['/gigachat/api/v1/chat/completions', 'openai'],
  ])('%s speaks %s', (handle, protocol) => {
    expect(protocolForHandle(handle)).toBe(protocol);
  });

  it('names the owner by the first segment', () => {
    expect(ownerOfHandle('/fireworks/chat/completions')).toBe('fireworks');
    expect(ownerOfHandle('/OpenAI/v1/chat/completions')).toBe('openai');
    expect(ownerOfHandle('/')).toBe('catalog');
  });

  it('knows the image families', () => {
    expect(isImageFamily('dall-e-3')).toBe(true);
    expect(isImageFamily('Ideogram')).toBe(true);
    expect(isImageFamily('recraft')).toBe(true);
    expect(isImageFamily('gpt-4')).toBe(false);
    expect(isImageFamily(undefined)).toBe(false);
  });

  it('becomes a provider at the catalog origin with the handle as its exact path and OAuth auth', () => {
    const provider = catalogProvider(
      {
        modelVersion: 'c',
        family: undefined,
        handle: '/anthropic/v1/messages',
        promptPrice1k: undefined,
        completionPrice1k: undefined,
      },
      'https://catalog.test',
      { id: 'catalog-1', key: 'tok', limits: {} },
    );
    expect(provider).toMatchObject({
      name: 'catalog',
      protocol: 'anthropic',
      baseUrl: 'https://catalog.test',
      fixedPath: '/anthropic/v1/messages',
      auth: { header: 'authorization', prefix: 'OAuth ' },
      headers: { 'anthropic-version': '2023-06-01' },
      configured: true,
      imagesOnly: false,
    });
  });

  it('makes image families image-only providers, Ideogram with its own protocol', () => {
    const entry = (family: string, handle: string) =>
      catalogProvider(
        { modelVersion: family, family, handle, promptPrice1k: undefined, completionPrice1k: undefined },
        'https://catalog.test',
        undefined,
      );
    expect(entry('ideogram', '/ideogram/v1/ideogram-v3/generate')).toMatchObject({
      protocol: 'ideogram',
      imagesOnly: true,
    });
    expect(entry('recraft', '/recraft/v1/images/generations')).toMatchObject({
      protocol: 'openai',
      imagesOnly: true,
    });
    expect(entry('dall-e-3', '/openai/v1/images/generations')).toMatchObject({
      protocol: 'openai',
      imagesOnly: true,
    });
  });
});

describe('fixedUpstreamPath', () => {
  it('uses a handle as it stands when the translator has no custom method', () => {
    expect(fixedUpstreamPath('/openai/v1/chat/completions', '/chat/completions')).toBe(
      '/openai/v1/chat/completions',
    );
    expect(fixedUpstreamPath('/anthropic/v1/messages', '/messages')).toBe('/anthropic/v1/messages');
    expect(fixedUpstreamPath('/x/chat?api-version=2', '/chat/completions')).toBe('/x/chat?api-version=2');
  });

  it("lets Gemini's method follow the request", () => {
    const handle = '/google/v1beta/models/gemini-pro:generateContent';
    expect(fixedUpstreamPath(handle, '/models/gemini-pro:generateContent')).toBe(handle);
    expect(fixedUpstreamPath(handle, '/models/gemini-pro:streamGenerateContent?alt=sse')).toBe(
      '/google/v1beta/models/gemini-pro:streamGenerateContent?alt=sse',
    );
    expect(
      fixedUpstreamPath('/google/v1beta/models/emb:embedContent', '/models/emb:batchEmbedContents'),
    ).toBe('/google/v1beta/models/emb:batchEmbedContents');
  });

  it('appends the method to a handle without one, and keeps the handle query', () => {
    expect(fixedUpstreamPath('/gemini/v1beta/models/g', '/models/g:generateContent')).toBe(
      '/gemini/v1beta/models/g:generateContent',
    );
    expect(
      fixedUpstreamPath(
        '/gemini/models/g:generateContent?tenant=a',
        '/models/g:streamGenerateContent?alt=sse',
      ),
    ).toBe('/gemini/models/g:streamGenerateContent?alt=sse&tenant=a');
  });
});

describe('Catalog', () => {
  let host: CatalogServer;
  const silent = { info() {}, warn() {}, debug() {} };

  beforeAll(async () => {
    host = await CatalogServer.start({
      upstream: 'http://127.0.0.1:9',
      token: 'tok',
      models: [
        {
          model_version: 'm1',
          model_family: 'gpt-4',
          handle: '/openai/v1/chat/completions',
          prompt_price_1k: 0.5,
          completion_price_1k: 1.5,
        },
        { model_version: 'm2', model_family: 'fireworks', handle: '/fireworks/chat/completions' },
        {
          model_version: 'img',
          model_family: 'dall-e-3',
          handle: '/openai/v1/images/generations',
          prompt_price_1k: 0,
          completion_price_1k: 0.04,
        },
      ],
    });
  });
  afterAll(() => host.close());

  it('serves prices, listing and targets from one fetch', async () => {
    const catalog = new Catalog(silent);
    expect(catalog.health()).toBeNull();
    catalog.configure({ url: host.listUrl, authToken: 'tok', refreshSeconds: 300 });
    expect(catalog.health()?.state).toBe('loading');
    expect(await catalog.refresh()).toBe(true);
    catalog.close();
    expect(catalog.priceOf('m1')).toEqual({ prompt1k: 0.5, completion1k: 1.5 });
    expect(catalog.priceOf('m2')).toBeUndefined();
    expect(catalog.priceOf('img')).toEqual({ prompt1k: 0, completion1k: 0.04 });
    expect(catalog.priceOf('nope')).toBeUndefined();
    expect(catalog.listed()).toEqual([
      { id: 'm1', ownedBy: 'openai' },
      { id: 'm2', ownedBy: 'fireworks' },
    ]);
    const [target] = catalog.targetsFor('img') ?? [];
    expect(target).toMatchObject({
      model: 'img',
      rule: 'catalog',
      provider: { fixedPath: '/openai/v1/images/generations' },
    });
    expect(target?.provider.keys[0]?.key).toBe('tok');
    expect(catalog.targetsFor('m3')).toBeUndefined();
  });

  it('reports a refused token as an error, with no list', async () => {
    const catalog = new Catalog(silent);
    catalog.configure({ url: host.listUrl, authToken: 'wrong', refreshSeconds: 300 });
    expect(await catalog.refresh()).toBe(false);
    catalog.close();
    expect(catalog.health()).toMatchObject({ state: 'error', models: 0, last_error: 'HTTP 401' });
    expect(catalog.listed()).toEqual([]);
  });

  it('keeps its list on a reconfigure with the same settings, and fetches again on changed ones', async () => {
    const catalog = new Catalog(silent);
    const settings = { url: host.listUrl, authToken: 'tok', refreshSeconds: 300 };
    catalog.configure(settings);
    await catalog.refresh();
    const fetches = host.listFetches.length;
    catalog.configure({ ...settings });
    expect(catalog.health()?.state).toBe('ok');
    catalog.configure({ ...settings, refreshSeconds: 100 });
    expect(catalog.health()?.state).toBe('loading');
    await catalog.refresh();
    catalog.close();
    expect(host.listFetches.length).toBe(fetches + 1);
    expect(catalog.health()).toMatchObject({ state: 'ok', refresh_seconds: 100, models: 3 });
  });

  it('a reconfigure to no catalog drops the list', async () => {
    const catalog = new Catalog(silent);
    catalog.configure({ url: host.listUrl, authToken: 'tok', refreshSeconds: 300 });
    await catalog.refresh();
    expect(catalog.listed()).toHaveLength(2);
    catalog.configure(undefined);
    expect(catalog.health()).toBeNull();
    expect(catalog.targetsFor('m1')).toBeUndefined();
  });
});
