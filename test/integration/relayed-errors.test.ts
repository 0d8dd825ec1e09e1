// An OpenAI-protocol provider's error goes back as it came: its status, its body byte for byte
// (`param`, Groq's `failed_generation`, OpenRouter's `metadata` and anything else it holds), with
// the provider named in x-ai-proxy-provider, and only secrets redacted. Golden cases in
// test/fixtures/openai-errors/<case>/: case.json (provider, model, status), upstream-body.txt (the
// bytes the provider sends) and expected-body.txt (the bytes the client must get).
import { join } from 'node:path';
import { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';
import { FIXTURES, folderNames, readJson, readText } from '../support/golden.js';

const SUITE = join(FIXTURES, 'openai-errors');
/** The key the provider echoes in openai-echoed-key; its id is in that case's expected body. */
const OPENAI_KEY = 'sk-golden-relay-key-0123456789';

interface Case {
  provider: string;
  model: string;
  status: number;
}

describe('relayed OpenAI-protocol provider errors (golden)', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        GROQ_API_KEY: 'gsk-golden-relay-0123456789',
        GROQ_BASE_URL: `${upstream.url}/openai/v1`,
        OPENROUTER_API_KEY: 'sk-or-golden-relay-0123456789',
        OPENROUTER_BASE_URL: `${upstream.url}/api/v1`,
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  for (const name of folderNames(SUITE)) {
    const spec = readJson(join(SUITE, name, 'case.json')) as Case;
    const sent = readText(join(SUITE, name, 'upstream-body.txt'));
    const expected = readText(join(SUITE, name, 'expected-body.txt'));
    const answer = (): void =>
      upstream.enqueue({
        kind: 'raw',
        status: spec.status,
        headers: { 'content-type': 'application/json' },
        body: sent,
      });

    it(`${name}: the client gets the body as expected, byte for byte`, async () => {
      answer();
      const response = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: spec.model, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(response.status).toBe(spec.status);
      expect(response.headers.get('x-ai-proxy-provider')).toBe(spec.provider);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.text()).toBe(expected);
      expect(upstream.requests).toHaveLength(1);
      // The request log keeps the error as it was relayed.
      const record = (await gw.requestLog()).at(-1);
      expect(record).toMatchObject({ status: spec.status, provider: spec.provider });
      expect(record?.error).toEqual((JSON.parse(expected) as { error: unknown }).error);
    });

    it(`${name}: the openai SDK's APIError holds every field of it`, async () => {
      answer();
      let caught: unknown;
      try {
        await gw.client().chat.completions.create({
          model: spec.model,
          messages: [{ role: 'user', content: 'Hi' }],
          stream: true,
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(APIError);
      const error = caught as APIError;
      const body = JSON.parse(expected) as { error: Record<string, unknown> };
      expect(error.status).toBe(spec.status);
      expect(error.error).toEqual(body.error);
      expect(error.param ?? null).toBe(body.error.param ?? null);
      expect(error.message).toContain(String(body.error.message));
      expect(error.headers?.get('x-ai-proxy-provider')).toBe(spec.provider);
    });
  }
});
