// GET /v1/models in Anthropic's shape: with an anthropic-version header (which the Anthropic SDK
// always sends) the list is `{data:[{type, id, display_name, created_at}], has_more, first_id,
// last_id}` in cursor pages, so `anthropic.models.list()` and its auto-paging work over the same
// models, in the same order, as the OpenAI-shaped list, which stays as it was without the header.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const ALIASES = Array.from({ length: 25 }, (_, i) => `alias-${String(i + 1).padStart(2, '0')}`);
const CONFIG = `model_mappings:\n${ALIASES.map((alias) => `  "${alias}": "openai:gpt-4o"`).join('\n')}\n`;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

interface OpenAIModel {
  id: string;
  object: string;
  created: number;
  owned_by: string;
}

describe('GET /v1/models in Anthropic’s shape', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let client: Anthropic;
  let openAIList: OpenAIModel[];

  async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${CLIENT_KEY}`, ...headers } });
  }

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    upstream.setModelList(['gpt-4o', 'gpt-4o-mini', 'whisper-1']);
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: 'sk-models-anthropic-shape', OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.yml': CONFIG },
    });
    client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
    openAIList = ((await (await get('/v1/models')).json()) as { data: OpenAIModel[] }).data;
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it('without anthropic-version the OpenAI shape stays as it was', async () => {
    const res = await get('/v1/models');
    const body = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe('list');
    expect(body.data.length).toBeGreaterThan(25);
    for (const model of body.data)
      expect(Object.keys(model).sort()).toEqual(['created', 'id', 'object', 'owned_by']);
    expect(Object.keys(body).sort()).toEqual(['data', 'object']);
  });

  it('the first page: 20 models, has_more, first_id and last_id', async () => {
    const page = await client.models.list();
    expect(page.data).toHaveLength(20);
    expect(page.has_more).toBe(true);
    expect(page.first_id).toBe(openAIList[0]?.id);
    expect(page.last_id).toBe(openAIList[19]?.id);
    for (const [i, model] of page.data.entries()) {
      const listed = openAIList[i];
      expect(model).toEqual({
        type: 'model',
        id: listed?.id,
        display_name: listed?.id,
        created_at: new Date((listed?.created ?? 0) * 1000).toISOString().replace('.000Z', 'Z'),
      });
      expect(model.created_at).toMatch(RFC3339);
    }
  });

  it('auto-paging walks every model once, in the list’s order', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list({ limit: 7 })) ids.push(model.id);
    expect(ids).toEqual(openAIList.map((model) => model.id));
  });

  it('after_id and before_id page forwards and backwards', async () => {
    const ids = openAIList.map((model) => model.id);
    const after = await client.models.list({ limit: 5, after_id: ids[2] });
    expect(after.data.map((model) => model.id)).toEqual(ids.slice(3, 8));
    expect(after.has_more).toBe(true);

    const before = await client.models.list({ limit: 5, before_id: ids[7] });
    expect(before.data.map((model) => model.id)).toEqual(ids.slice(2, 7));
    expect(before.has_more).toBe(true);
    expect(before.first_id).toBe(ids[2]);

    const backwards: string[] = [];
    for await (const model of client.models.list({ limit: 3, before_id: ids[7] })) backwards.push(model.id);
    expect(backwards.sort()).toEqual(ids.slice(0, 7).sort());

    const last = await client.models.list({ limit: 1000, after_id: ids[ids.length - 2] });
    expect(last.data.map((model) => model.id)).toEqual(ids.slice(-1));
    expect(last.has_more).toBe(false);
  });

  it('retrieve describes one model; an unknown id is a 404 the SDK reads', async () => {
    const model = await client.models.retrieve('alias-03');
    expect(model).toEqual({
      type: 'model',
      id: 'alias-03',
      display_name: 'alias-03',
      created_at: expect.stringMatching(RFC3339),
    });
    const routable = await client.models.retrieve('openai:gpt-4o-mini');
    expect(routable.type).toBe('model');

    const error = await client.models.retrieve('no-such-model-anywhere').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    const res = await get('/v1/models/no-such-model-anywhere', { 'anthropic-version': '2023-06-01' });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { type?: string; error?: { type?: string } };
    expect(body.type).toBe('error');
    expect(body.error?.type).toBe('not_found_error');
  });

  it('bad paging parameters are a 400 naming the parameter', async () => {
    const headers = { 'anthropic-version': '2023-06-01' };
    for (const [query, param] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['after_id=no-such-model', 'after_id'],
      ['after_id=alias-01&before_id=alias-05', 'before_id'],
    ] as const) {
      const res = await get(`/v1/models?${query}`, headers);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error?: { message?: string } };
      expect(body.error?.message, query).toContain(`'${param}'`);
    }
  });
});
