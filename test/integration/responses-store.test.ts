// Stored responses through the real gateway and the official OpenAI SDK: GET /v1/responses/{id},
// GET …/input_items and DELETE, for bridged responses (the gateway's own store) and native ones
// (asked of the emulated OpenAI Responses API with the provider key that created them); the 404
// every unknown, deleted or foreign id gets; the SQLite file surviving a restart; two gateways
// sharing Redis, a conversation started on one and continued on the other.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, makeTempDir, startTestGateway, type TestGateway } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();
const OTHER_KEY = 'second-client-key-abcdef012345';
const CONFIG = 'model_mappings:\n  chat-only: "groq:llama-3.3-70b"\n';

/** What the gateway says for an id it does not hand out, in OpenAI's exact words. */
function notFoundBody(id: string) {
  return {
    error: {
      message: `Response with id '${id}' not found.`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

async function call(
  gw: TestGateway,
  method: string,
  path: string,
  key = CLIENT_KEY,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

function textOf(item: unknown): string {
  const content = (item as { content?: { text?: string }[] }).content;
  return `${(item as { role?: string }).role}: ${content?.map((part) => part.text).join('')}`;
}

async function allItems(client: OpenAI, id: string, query: OpenAI.Responses.InputItemListParams = {}) {
  const items: OpenAI.Responses.ResponseItem[] = [];
  for await (const item of client.responses.inputItems.list(id, query)) items.push(item);
  return items;
}

describe('stored responses on one gateway (SQLite)', () => {
  let groq: ProviderEmulator;
  let openai: ProviderEmulator;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    groq = await ProviderEmulator.start();
    openai = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        API_KEYS: `${CLIENT_KEY},${OTHER_KEY}`,
        GROQ_API_KEY: 'gsk-secret-0001',
        GROQ_BASE_URL: `${groq.url}/openai/v1`,
        // Two keys: responses made with one are only visible upstream to that one.
        OPENAI_API_KEY: 'sk-native-key-aaaa,sk-native-key-bbbb',
        OPENAI_BASE_URL: `${openai.url}/v1`,
      },
      files: { 'config.yml': CONFIG },
    });
    client = gw.client();
  });
  afterAll(async () => {
    await gw?.stop();
    await groq?.close();
    await openai?.close();
  });
  beforeEach(() => {
    groq.reset();
    openai.reset();
  });

  describe('bridged (a chat-only upstream)', () => {
    it('retrieves what create answered', async () => {
      groq.enqueue({ kind: 'chat', content: 'Bonjour.', usage: { prompt_tokens: 9, completion_tokens: 2 } });
      const created = await client.responses.create({ model: 'chat-only', input: 'Say hello in French.' });
      const again = await client.responses.retrieve(created.id);
      expect(again.id).toBe(created.id);
      expect(again.output_text).toBe('Bonjour.');
      expect(again.output).toEqual(created.output);
      expect(again.usage).toEqual(created.usage);
      expect(groq.requests).toHaveLength(1);
    });

    it('lists input items with ids, newest first, in pages the SDK walks', async () => {
      groq.enqueue({ kind: 'chat', content: 'Noted.' });
      const created = await client.responses.create({
        model: 'chat-only',
        input: [
          { role: 'user', content: 'one' },
          { role: 'assistant', content: 'two' },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'three' }] },
        ],
      });
      const page = await client.responses.inputItems.list(created.id, { limit: 2 });
      expect(page.data.map(textOf)).toEqual(['user: three', 'assistant: two']);
      expect(page.has_more).toBe(true);
      for (const item of page.data) expect((item as { id: string }).id).toMatch(/^msg_/);
      const asc = await allItems(client, created.id, { order: 'asc', limit: 1 });
      expect(asc.map(textOf)).toEqual(['user: one', 'assistant: two', 'user: three']);
      expect(new Set(asc.map((item) => (item as { id: string }).id)).size).toBe(3);
    });

    it('lists a chained turn with every earlier turn, its answer included', async () => {
      groq.enqueue({ kind: 'chat', content: 'First answer.' }, { kind: 'chat', content: 'Second answer.' });
      const first = await client.responses.create({ model: 'chat-only', input: 'First question' });
      const second = await client.responses.create({
        model: 'chat-only',
        input: 'Second question',
        previous_response_id: first.id,
      });
      const items = await allItems(client, second.id, { order: 'asc' });
      expect(items.map(textOf)).toEqual([
        'user: First question',
        'assistant: First answer.',
        'user: Second question',
      ]);
      // Turn one's own list did not grow.
      expect((await allItems(client, first.id)).map(textOf)).toEqual(['user: First question']);
    });

    it('deletes: OpenAI’s answer, then the id is gone for retrieve, input_items and delete', async () => {
      groq.enqueue({ kind: 'chat', content: 'Short-lived.' });
      const created = await client.responses.create({ model: 'chat-only', input: 'Hi' });
      expect(await call(gw, 'DELETE', `/v1/responses/${created.id}`)).toEqual({
        status: 200,
        body: { id: created.id, object: 'response', deleted: true },
      });
      for (const [method, path] of [
        ['GET', `/v1/responses/${created.id}`],
        ['GET', `/v1/responses/${created.id}/input_items`],
        ['DELETE', `/v1/responses/${created.id}`],
      ] as const) {
        expect(await call(gw, method, path)).toEqual({ status: 404, body: notFoundBody(created.id) });
      }
      await expect(client.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('the SDK’s delete resolves', async () => {
      groq.enqueue({ kind: 'chat', content: 'Bye.' });
      const created = await client.responses.create({ model: 'chat-only', input: 'Hi' });
      await client.responses.delete(created.id);
      await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    });

    it('hides a response from another client key, which can neither read nor delete it', async () => {
      groq.enqueue({ kind: 'chat', content: 'Mine.' });
      const created = await client.responses.create({ model: 'chat-only', input: 'Hi' });
      for (const [method, path] of [
        ['GET', `/v1/responses/${created.id}`],
        ['GET', `/v1/responses/${created.id}/input_items`],
        ['DELETE', `/v1/responses/${created.id}`],
      ] as const) {
        expect(await call(gw, method, path, OTHER_KEY)).toEqual({
          status: 404,
          body: notFoundBody(created.id),
        });
      }
      expect((await client.responses.retrieve(created.id)).output_text).toBe('Mine.');
    });

    it('answers an unknown id with the 404 OpenAI gives', async () => {
      expect(await call(gw, 'GET', '/v1/responses/resp_nothing_here')).toEqual({
        status: 404,
        body: notFoundBody('resp_nothing_here'),
      });
    });

    it('refuses bad list parameters with a 400 naming them', async () => {
      groq.enqueue({ kind: 'chat', content: 'Ok.' });
      const created = await client.responses.create({ model: 'chat-only', input: 'Hi' });
      for (const [query, param] of [
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['order=sideways', 'order'],
        ['after=msg_unknown', 'after'],
      ]) {
        const answer = await call(gw, 'GET', `/v1/responses/${created.id}/input_items?${query}`);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ error: { type: 'invalid_request_error', param } });
      }
    });

    it('needs a client key', async () => {
      const response = await fetch(`${gw.url}/v1/responses/resp_x`);
      expect(response.status).toBe(401);
    });
  });

  describe('native (an upstream that serves the Responses API)', () => {
    /** Creates one response per key (the pool takes turns) and says which key made which. */
    async function createTwo(): Promise<{ id: string; key: string }[]> {
      const made: { id: string; key: string }[] = [];
      for (const text of ['first', 'second']) {
        const response = await client.responses.create({ model: 'gpt-4o-mini', input: text });
        const request = openai.requests.at(-1);
        made.push({ id: response.id, key: request?.headers.authorization ?? '' });
      }
      expect(new Set(made.map((entry) => entry.key))).toEqual(
        new Set(['Bearer sk-native-key-aaaa', 'Bearer sk-native-key-bbbb']),
      );
      return made;
    }

    it('retrieves from the upstream with the key that created each response', async () => {
      const made = await createTwo();
      for (const { id, key } of made) {
        const before = openai.requests.length;
        const again = await client.responses.retrieve(id);
        expect(again.id).toBe(id);
        const asked = openai.requests.slice(before);
        expect(asked.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/responses/${id}`]);
        expect(asked[0]?.headers.authorization).toBe(key);
      }
      expect(groq.requests).toHaveLength(0);
    });

    it('lists input items upstream, passing the query on', async () => {
      const [first] = await createTwo();
      const before = openai.requests.length;
      const page = await client.responses.inputItems.list(first!.id, { limit: 1, order: 'asc' });
      expect(page.data.map(textOf)).toEqual(['user: first']);
      const asked = openai.requests.slice(before);
      expect(asked).toHaveLength(1);
      expect(asked[0]?.path).toMatch(new RegExp(`^/v1/responses/${first!.id}/input_items\\?`));
      expect(asked[0]?.path).toContain('limit=1');
      expect(asked[0]?.path).toContain('order=asc');
      expect(asked[0]?.headers.authorization).toBe(first!.key);
    });

    it('deletes upstream, then forgets it: the next retrieve is answered without the upstream', async () => {
      const [first] = await createTwo();
      const deleted = await call(gw, 'DELETE', `/v1/responses/${first!.id}`);
      expect(deleted).toEqual({ status: 200, body: { id: first!.id, object: 'response', deleted: true } });
      expect(openai.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/v1/responses/${first!.id}` });
      const before = openai.requests.length;
      expect(await call(gw, 'GET', `/v1/responses/${first!.id}`)).toEqual({
        status: 404,
        body: notFoundBody(first!.id),
      });
      expect(openai.requests.length).toBe(before);
    });

    it('relays the upstream’s 404 when it no longer has the response, and forgets it', async () => {
      const [first] = await createTwo();
      openai.responses.delete(first!.id, first!.key.slice('Bearer '.length));
      const relayed = await call(gw, 'GET', `/v1/responses/${first!.id}`);
      expect(relayed.status).toBe(404);
      expect(relayed.body).toMatchObject({ error: { type: 'invalid_request_error' } });
      const before = openai.requests.length;
      expect(await call(gw, 'GET', `/v1/responses/${first!.id}`)).toEqual({
        status: 404,
        body: notFoundBody(first!.id),
      });
      expect(openai.requests.length).toBe(before);
    });

    it('never asks the upstream for another client key', async () => {
      const [first] = await createTwo();
      const before = openai.requests.length;
      expect(await call(gw, 'GET', `/v1/responses/${first!.id}`, OTHER_KEY)).toEqual({
        status: 404,
        body: notFoundBody(first!.id),
      });
      expect(await call(gw, 'DELETE', `/v1/responses/${first!.id}`, OTHER_KEY)).toMatchObject({
        status: 404,
      });
      expect(openai.requests.length).toBe(before);
      expect((await client.responses.retrieve(first!.id)).id).toBe(first!.id);
    });
  });
});

describe('stored responses across a restart (SQLite file) and without client keys', () => {
  const dirs: string[] = [];
  let groq: ProviderEmulator;
  beforeAll(async () => {
    groq = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await groq?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a restarted gateway with the same RESPONSES_DB_PATH still has the response', async () => {
    const dir = makeTempDir('ai-proxy-responses-db-');
    dirs.push(dir);
    const env = {
      GROQ_API_KEY: 'gsk-secret-0001',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      RESPONSES_DB_PATH: join(dir, 'responses.sqlite3'),
    };
    const first = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
    let id: string;
    try {
      groq.enqueue({ kind: 'chat', content: 'Kept on disk.' });
      id = (await first.client().responses.create({ model: 'chat-only', input: 'Hi' })).id;
    } finally {
      await first.stop();
    }
    const second = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
    try {
      expect((await second.client().responses.retrieve(id)).output_text).toBe('Kept on disk.');
    } finally {
      await second.stop();
    }
  });

  it('an open gateway (no client keys) keeps and hands back responses', async () => {
    const gw = await startTestGateway({
      noDefaultKey: true,
      env: { GROQ_API_KEY: 'gsk-secret-0001', GROQ_BASE_URL: `${groq.url}/openai/v1` },
      files: { 'config.yml': CONFIG },
    });
    try {
      groq.enqueue({ kind: 'chat', content: 'Open.' });
      const client = gw.client('anything');
      const created = await client.responses.create({ model: 'chat-only', input: 'Hi' });
      expect((await client.responses.retrieve(created.id)).output_text).toBe('Open.');
      await client.responses.delete(created.id);
      await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    } finally {
      await gw.stop();
    }
  });
});

describe('stored responses while the store is away', () => {
  it('GET, input_items and DELETE answer 503 response_store_unavailable', async () => {
    // Nothing listens on port 1: the shared store cannot be reached (limits count locally meanwhile).
    const gw = await startTestGateway({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      for (const [method, path] of [
        ['GET', '/v1/responses/resp_1'],
        ['GET', '/v1/responses/resp_1/input_items'],
        ['DELETE', '/v1/responses/resp_1'],
      ] as const) {
        const answer = await call(gw, method, path);
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({
          error: { type: 'api_error', code: 'response_store_unavailable', param: null },
        });
      }
    } finally {
      await gw.stop();
    }
  });
});

describe.runIf(haveRedis)('stored responses shared through Redis by two gateways', () => {
  const prefix = uniquePrefix('responses-two-gateways');
  let groq: ProviderEmulator;
  let one: TestGateway;
  let two: TestGateway;

  beforeAll(async () => {
    groq = await ProviderEmulator.start();
    const env = {
      GROQ_API_KEY: 'gsk-secret-0001',
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
    };
    one = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
    two = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await groq?.close();
    const raw = new Redis(REDIS_URL);
    try {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
    } finally {
      raw.disconnect();
    }
  });
  afterEach(() => groq.reset());

  it('a conversation started on one continues on the other with previous_response_id', async () => {
    groq.enqueue({ kind: 'chat', content: 'Paris.' }, { kind: 'chat', content: 'About two million.' });
    const first = await one.client().responses.create({ model: 'chat-only', input: 'Capital of France?' });
    const second = await two.client().responses.create({
      model: 'chat-only',
      input: 'How many people live there?',
      previous_response_id: first.id,
    });
    expect(second.output_text).toBe('About two million.');
    const sent = JSON.stringify(groq.requests[1]?.body);
    expect(sent).toContain('Capital of France?');
    expect(sent).toContain('Paris.');
    expect(sent).toContain('How many people live there?');
    // Either instance reads and deletes what the other stored.
    expect((await one.client().responses.retrieve(second.id)).output_text).toBe('About two million.');
    await one.client().responses.delete(first.id);
    await expect(two.client().responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
  });
});
