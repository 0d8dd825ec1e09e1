import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const UPSTREAM_KEY = 'sk-upstream-secret-pages';
const OPENROUTER_KEY = 'sk-or-secret-pages';
const CONFIG_PROVIDER_KEY = 'gsk_config_secret_pages';
const FILE_CLIENT_KEY = 'fwd_file_secret_pages';
const CONFIG_CLIENT_KEY = 'cfg-access-secret-pages';
const SECRETS = [
  UPSTREAM_KEY,
  OPENROUTER_KEY,
  CONFIG_PROVIDER_KEY,
  FILE_CLIENT_KEY,
  CONFIG_CLIENT_KEY,
  CLIENT_KEY,
];

const CONFIG = `access_key: ${CONFIG_CLIENT_KEY}
model_mappings:
  my-alias: "openai:gpt-4o-mini"
  gpt-4: openai/gpt-4
  "evil<script>alert(1)</script>": "openai:gpt-4o"
providers:
  groq:
    keys: [${CONFIG_PROVIDER_KEY}]
`;

const BUILTIN = [
  'openai',
  'anthropic',
  'gemini',
  'cohere',
  'groq',
  'openrouter',
  'ollama',
  'ideogram',
  'recraft',
];

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    url: response.url,
    headers: response.headers,
    text: await response.text(),
  };
}

/** GET with a Host header of the test's choosing (fetch does not let one set it). */
function rawGet(port: number, path: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

const auth = { authorization: `Bearer ${CLIENT_KEY}` };

describe('public pages and the model list (OpenAI and OpenRouter configured)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: UPSTREAM_KEY,
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
        OPENROUTER_API_KEY: OPENROUTER_KEY,
        OPENROUTER_BASE_URL: 'http://127.0.0.1:9/v1',
      },
      files: { 'config.yml': CONFIG, 'keys/forwarder_api_keys.txt': `# clients\n${FILE_CLIENT_KEY}\n` },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('GET / is an HTML status page with version, uptime, providers, models and doc links', async () => {
    const page = await get(`${gw.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toMatch(/^<!doctype html>/i);
    expect(page.text).toContain(VERSION);
    expect(page.text).toMatch(/\bup(time)?\b[^<]*\d/i);
    // Providers, each with whether it is configured.
    for (const name of BUILTIN) expect(page.text).toContain(name);
    expect(page.text).toContain('openai</td><td><span class="ok">configured</span>');
    expect(page.text).toContain('anthropic</td><td><span class="off">not configured</span>');
    // Models: aliases from config.
    expect(page.text).toContain('my-alias');
    expect(page.text).toContain('gpt-4');
    for (const link of ['/docs', '/redoc', '/openapi.json']) expect(page.text).toContain(`href="${link}"`);
    // Where to point a client: the port it really listens on (the test asked for any free port).
    expect(page.text).toContain(`<code>http://127.0.0.1:${gw.gateway.port}/v1</code>`);
    expect(page.text).not.toContain('HOST');
  });

  it('GET / names the address the reader used (its Host header), and only a sane one', async () => {
    const port = gw.gateway.port;
    const viaName = await rawGet(port, '/', 'gateway.example:8443');
    expect(viaName).toContain('<code>http://gateway.example:8443/v1</code>');
    // A Host header that is not a host is never echoed: the address reached is shown instead.
    const hostile = await rawGet(port, '/', 'x"><script>alert(1)</script>');
    expect(hostile).not.toContain('<script>alert');
    expect(hostile).toContain(`<code>http://127.0.0.1:${port}/v1</code>`);
  });

  it('GET / draws with plain text and CSS, no emoji (a box without emoji fonts)', async () => {
    const page = await get(`${gw.url}/`);
    // Latin-1 and general punctuation (— …) are in every font; pictographs and dingbats are not.
    const exotic = [...page.text].filter((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      return code > 0x7e && !(code >= 0xa0 && code <= 0xff) && !(code >= 0x2000 && code <= 0x206f);
    });
    expect(exotic).toEqual([]);
  });

  it('GET / escapes names from config', async () => {
    const page = await get(`${gw.url}/`);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('evil&#60;script&#62;');
  });

  it('GET / shows no key of any kind', async () => {
    expectNoSecret((await get(`${gw.url}/`)).text);
  });

  it('GET /health: status, version, uptime and each provider configured or not, no secret', async () => {
    const health = await get(`${gw.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(health.text) as {
      status: string;
      version: string;
      uptime_seconds: number;
      providers: Record<string, { configured: boolean }>;
    };
    expect(body.status).toBe('ok');
    expect(body.version).toBe(VERSION);
    expect(Number.isInteger(body.uptime_seconds)).toBe(true);
    expect(body.uptime_seconds).toBeGreaterThanOrEqual(0);
    for (const name of BUILTIN) expect(typeof body.providers[name]?.configured, name).toBe('boolean');
    expect(body.providers.openai?.configured).toBe(true);
    expect(body.providers.openrouter?.configured).toBe(true);
    expect(body.providers.groq?.configured).toBe(true);
    expect(body.providers.anthropic?.configured).toBe(false);
    expect(body.providers.gemini?.configured).toBe(false);
    expectNoSecret(health.text);
  });

  it('/docs serves Swagger UI whose static assets load from the gateway itself', async () => {
    const docs = await get(`${gw.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expect(docs.text).toContain('swagger-ui');
    const assets = [...docs.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThanOrEqual(3);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const url = new URL(asset, docs.url);
      // Local: same origin, no CDN.
      expect(url.origin, asset).toBe(new URL(gw.url).origin);
      const response = await fetch(url);
      expect(response.status, url.pathname).toBe(200);
      expect((await response.arrayBuffer()).byteLength, url.pathname).toBeGreaterThan(0);
    }
    // The initializer points the UI at a spec the gateway serves.
    const initializer = assets.find((a) => a.includes('swagger-initializer'));
    expect(initializer).toBeDefined();
    const init = await get(new URL(initializer ?? '', docs.url).toString());
    // Swagger UI resolves the spec against the page's URL with a trailing slash.
    const specUrl = /url:\s*resolveUrl\(\s*['"`]([^'"`]+)['"`]/.exec(init.text)?.[1];
    expect(specUrl, init.text).toBeDefined();
    const page = docs.url.endsWith('/') ? docs.url : `${docs.url}/`;
    const spec = await get(new URL(specUrl ?? '', page).toString());
    expect(spec.status).toBe(200);
    expect(JSON.parse(spec.text)).toHaveProperty('openapi');
  });

  it('/redoc is HTML whose scripts the gateway serves itself, with an offline fallback to /docs', async () => {
    const redoc = await get(`${gw.url}/redoc`);
    expect(redoc.status).toBe(200);
    expect(redoc.headers.get('content-type')).toMatch(/^text\/html/);
    expect(redoc.text).toContain('/openapi.json');
    // No script from another host: without internet the page must still do something.
    const sources = [...redoc.text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(src).toMatch(/^\/(?!\/)/);
      const script = await get(new URL(src, `${gw.url}/redoc`).toString());
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
      // It renders the spec with ReDoc when ReDoc loads, and moves on to /docs when it cannot.
      expect(script.text).toContain("Redoc.init('/openapi.json'");
      expect(script.text).toContain("location.replace('/docs')");
      // The script it loads is ReDoc's own standalone bundle, served by the gateway from its package.
      const bundle = /script\.src = "([^"]+)"/.exec(script.text)?.[1] ?? '';
      expect(bundle).toMatch(/^\/(?!\/)/);
      const redocBundle = await get(new URL(bundle, `${gw.url}/redoc`).toString());
      expect(redocBundle.status).toBe(200);
      expect(redocBundle.headers.get('content-type')).toMatch(/javascript/);
      expect(redocBundle.text.length).toBeGreaterThan(500_000);
      expect(redocBundle.text).toMatch(/Redoc/);
    }
    // The fallback works offline: Swagger UI's page and its bundle come from the gateway.
    const docs = await get(`${gw.url}/docs/static/swagger-ui-bundle.js`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/javascript/);
  });

  it('/openapi.json is an OpenAPI 3 document with the chat and model routes', async () => {
    const response = await get(`${gw.url}/openapi.json`);
    expect(response.status).toBe(200);
    const spec = JSON.parse(response.text) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.info.version).toBe(VERSION);
    const chat = spec.paths['/v1/chat/completions']?.post as {
      requestBody: {
        content: Record<string, { schema: { required: string[]; properties: Record<string, unknown> } }>;
      };
    };
    expect(chat).toBeDefined();
    const schema = chat.requestBody.content['application/json']?.schema;
    expect(schema?.required).toContain('messages');
    expect(schema?.properties).toHaveProperty('messages');
    expect(schema?.properties).toHaveProperty('model');
    expect(spec.paths['/v1/models']?.get).toBeDefined();
    // SPEC §3 names it GET /v1/models/{id}; the document should too, with `id` as a path parameter.
    const byId = spec.paths['/v1/models/{id}']?.get as { parameters?: Array<{ name: string; in: string }> };
    expect(byId, `paths: ${Object.keys(spec.paths).join(', ')}`).toBeDefined();
    expect(byId.parameters?.some((p) => p.name === 'id' && p.in === 'path')).toBe(true);
    expectNoSecret(response.text);
  });

  it('the pages need no key, while /v1 does', async () => {
    for (const path of ['/', '/health', '/docs', '/redoc', '/openapi.json']) {
      expect((await get(`${gw.url}${path}`)).status, path).toBe(200);
    }
    expect((await get(`${gw.baseURL}/models`)).status).toBe(401);
  });

  it('GET /v1/models lists the aliases from config with owned_by', async () => {
    const list = await gw.client().models.list();
    const byId = new Map(list.data.map((m) => [m.id, m]));
    expect(byId.get('my-alias')).toMatchObject({ object: 'model', owned_by: 'openai' });
    // A bare target goes to the default provider (OpenRouter when configured).
    expect(byId.get('gpt-4')).toMatchObject({ object: 'model', owned_by: 'openrouter' });
    for (const model of list.data) {
      expect(typeof model.created).toBe('number');
      expect(model.owned_by).toMatch(/\S/);
    }
    const raw = await get(`${gw.baseURL}/models`, auth);
    expect(JSON.parse(raw.text)).toMatchObject({ object: 'list' });
    expectNoSecret(raw.text);
  });

  it('GET /v1/models/{id} for an alias', async () => {
    const model = await gw.client().models.retrieve('my-alias');
    expect(model).toMatchObject({ id: 'my-alias', object: 'model', owned_by: 'openai' });
  });

  it('GET /v1/models/{id} for ids with slashes and colons (OpenRouter configured)', async () => {
    for (const id of [
      'openrouter/openai/gpt-4o',
      'openai/gpt-4o',
      'openrouter:openai/gpt-4o-mini',
      'meta-llama/llama-3-8b-instruct:free',
    ]) {
      const response = await get(`${gw.baseURL}/models/${id}`, auth);
      expect(response.status, id).toBe(200);
      expect(JSON.parse(response.text), id).toMatchObject({ id, object: 'model', owned_by: 'openrouter' });
    }
    // Encoded slashes are the same id.
    const encoded = await get(`${gw.baseURL}/models/${encodeURIComponent('openai/gpt-4o')}`, auth);
    expect(JSON.parse(encoded.text)).toMatchObject({ id: 'openai/gpt-4o' });
    // And through the SDK, however it encodes the path.
    expect(await gw.client().models.retrieve('openai/gpt-4o')).toMatchObject({ id: 'openai/gpt-4o' });
  });

  it('GET /v1/models/{id} decodes the id exactly once', async () => {
    const cases: Array<[string, string]> = [
      ['50%25', '50%'],
      ['a%252Fb', 'a%2Fb'],
      ['%F0%9F%9A%80', '🚀'],
    ];
    for (const [path, id] of cases) {
      const response = await get(`${gw.baseURL}/models/${path}`, auth);
      expect(response.status, path).toBe(200);
      expect(JSON.parse(response.text), path).toMatchObject({ id });
    }
  });

  it('GET /v1/models/ with no id is a 404, not a model named ""', async () => {
    for (const path of ['/models/', '/models/%20']) {
      const response = await get(`${gw.baseURL}${path}`, auth);
      expect(response.status, path).toBe(404);
      expect(JSON.parse(response.text).error).toMatchObject({ code: 'model_not_found' });
    }
  });

  it('a malformed %-escape in the URL is a 400 in the OpenAI shape', async () => {
    const response = await get(`${gw.baseURL}/models/%E0%A4%A`, auth);
    expect(response.status).toBe(400);
    const body = JSON.parse(response.text) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
    expect(response.headers.get('x-request-id')).toMatch(/\S/);
  });
});

describe('the model list without a default provider', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
      files: { 'config.yml': 'model_mappings:\n  my-alias: "openai:gpt-4o-mini"\n' },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('GET /v1/models/{id} is 404 model_not_found for an unknown model', async () => {
    for (const id of ['no-such-model', 'nobody/no-such-model']) {
      const response = await get(`${gw.baseURL}/models/${id}`, auth);
      expect(response.status, id).toBe(404);
      const body = JSON.parse(response.text) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ code: 'model_not_found', type: 'invalid_request_error' });
    }
  });

  it('GET /v1/models/{id} answers for an alias and a routable family model', async () => {
    expect(await gw.client().models.retrieve('my-alias')).toMatchObject({
      id: 'my-alias',
      owned_by: 'openai',
    });
    expect(await gw.client().models.retrieve('gpt-4o')).toMatchObject({ id: 'gpt-4o', owned_by: 'openai' });
  });

  it('/health is ok when a provider is configured', async () => {
    const body = JSON.parse((await get(`${gw.url}/health`)).text) as { status: string };
    expect(body.status).toBe('ok');
  });
});

describe('/health with no provider configured', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('still answers 200 (liveness) and says it is not ready', async () => {
    const health = await get(`${gw.url}/health`);
    expect(health.status).toBe(200);
    const body = JSON.parse(health.text) as {
      status: string;
      providers: Record<string, { configured: boolean }>;
    };
    expect(body.status).not.toBe('ok');
    for (const name of BUILTIN.filter((n) => n !== 'ollama'))
      expect(body.providers[name]?.configured, name).toBe(false);
  });
});
