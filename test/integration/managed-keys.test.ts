// Managed client keys against the real gateway with the official openai SDK: allowed models, each
// rate limit and budget hit exactly at its boundary with its error and headers, expiry and
// revocation, a streamed answer settling its real cost, a failed call releasing its reservation,
// and keys from API_KEYS staying unlimited.
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../../src/managed-keys/types.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

// $1 per 1k prompt tokens and $2 per 1k completion tokens: costs are easy to work out by hand.
const CONFIG = `model_mappings:
  cheap: "openai:gpt-4o-mini"
prices:
  gpt-4o-mini: { prompt_1k: 1, completion_1k: 2 }
`;

const ADMIN_KEY = 'admin-key-managed-0123456789';

describe('managed client keys', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: 'sk-upstream-managed-0001',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        API_KEYS: `${CLIENT_KEY},${ADMIN_KEY}`,
        ADMIN_KEYS: ADMIN_KEY,
      },
      files: { 'config.yml': CONFIG },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  async function newKey(
    policy: KeyPolicy,
    expiresAt: number | null = null,
  ): Promise<{ key: string; id: string }> {
    const created = await gw.gateway.runtime.managedKeys.create({ name: 'test', policy, expiresAt });
    return { key: created.key, id: created.record.id };
  }

  /** One chat call's status, headers and error body, without the SDK's retries. */
  async function call(key: string, body: Record<string, unknown> = {}) {
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 10,
        ...body,
      }),
    });
    const json = (await res.json()) as { error?: { code: string; message: string; type: string } };
    return { status: res.status, headers: res.headers, error: json.error };
  }

  it('works like any key, and keys from API_KEYS stay unlimited', async () => {
    const { key } = await newKey({});
    upstream.enqueue({ kind: 'chat', content: 'Hello, managed.' });
    const answer = await gw.client(key).chat.completions.create({
      model: 'cheap',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe('Hello, managed.');
    for (let i = 0; i < 3; i++) upstream.enqueue({ kind: 'chat', content: 'ok' });
    for (let i = 0; i < 3; i++) expect((await call(CLIENT_KEY)).status).toBe(200);
  });

  it('refuses a model outside the allow-list with a 403 naming it; globs match the name sent or provider:model', async () => {
    const { key } = await newKey({ models: ['cheap', 'openai:gpt-4.1-*'] });
    upstream.enqueue({ kind: 'chat', content: 'ok' }, { kind: 'chat', content: 'ok' });
    expect((await call(key, { model: 'cheap' })).status).toBe(200);
    expect((await call(key, { model: 'gpt-4.1-nano' })).status).toBe(200);
    const refused = await call(key, { model: 'gpt-4o' });
    expect(refused.status).toBe(403);
    expect(refused.error).toMatchObject({ code: 'model_not_allowed' });
    expect(refused.error?.message).toContain("'gpt-4o'");
    expect(upstream.requests).toHaveLength(2);
  });

  it('holds rpm exactly at its boundary: the third request of a 2-rpm key is a 429 with Retry-After', async () => {
    const { key } = await newKey({ rpm: 2 });
    upstream.enqueue({ kind: 'chat', content: 'ok' }, { kind: 'chat', content: 'ok' });
    expect((await call(key)).status).toBe(200);
    expect((await call(key)).status).toBe(200);
    const third = await call(key);
    expect(third.status).toBe(429);
    expect(third.error).toMatchObject({ code: 'rate_limit_exceeded' });
    expect(third.error?.message).toContain('2 requests per minute');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(upstream.requests).toHaveLength(2);
  });

  it.each([
    ['rpd', { rpd: 2 }, 2, 'requests per day'],
    ['tpm', { tpm: 0 }, 0, 'tokens per minute'],
    ['tpd', { tpd: 0 }, 0, 'tokens per day'],
  ] as const)('holds %s exactly at its boundary', async (_name, policy, allowed, words) => {
    // Token limits are checked with the request's estimate (its bytes / 4 plus max_tokens): a limit
    // of one request's estimate admits exactly one.
    const tokens =
      Math.ceil(
        JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 })
          .length / 4,
      ) + 10;
    const limit = allowed === 0 ? tokens : allowed;
    const admitted = allowed === 0 ? 1 : allowed;
    const { key } = await newKey({ ...policy, [_name]: limit });
    const usage = { prompt_tokens: tokens - 10, completion_tokens: 10 };
    for (let i = 0; i < admitted; i++) upstream.enqueue({ kind: 'chat', content: 'ok', usage });
    for (let i = 0; i < admitted; i++) {
      expect((await call(key)).status).toBe(200);
      await gw.requestLog();
    }
    const over = await call(key);
    expect(over.status).toBe(429);
    expect(over.error).toMatchObject({ code: 'rate_limit_exceeded' });
    expect(over.error?.message).toContain(`${limit} ${words}`);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(upstream.requests).toHaveLength(admitted);
  });

  it.each([
    ['budgetMonth', 'monthly', /resets at \d{4}-\d{2}-01T00:00:00\.000Z/],
    ['budgetTotal', 'lifetime', /does not reset/],
  ] as const)(
    'holds %s exactly: the request that would pass it is refused naming it',
    async (budget, words, resets) => {
      // Each call really costs 100 × $1/1k + 20 × $2/1k = $0.14; two fill a $0.28 budget exactly.
      const { key } = await newKey({ [budget]: 0.28 });
      const usage = { prompt_tokens: 100, completion_tokens: 20 };
      upstream.enqueue({ kind: 'chat', content: 'ok', usage }, { kind: 'chat', content: 'ok', usage });
      for (let i = 0; i < 2; i++) {
        expect((await call(key)).status).toBe(200);
        await gw.requestLog();
      }
      const over = await call(key);
      expect(over.status).toBe(429);
      expect(over.error).toMatchObject({ code: 'budget_exceeded' });
      expect(over.error?.message).toContain(`${words} budget of $0.2800 is spent`);
      expect(over.error?.message).toMatch(resets);
      expect(upstream.requests).toHaveLength(2);
    },
  );

  it('holds a daily budget exactly: a request that would pass it is a 429 budget_exceeded naming it and its reset', async () => {
    // Each call: "Hi" body ≈ 30 prompt tokens estimated + 10 output → about $0.05 reserved, settled at
    // the real usage: 100 prompt + 20 completion tokens = $0.10 + $0.04 = $0.14.
    const { key } = await newKey({ budgetDay: 0.3 });
    const usage = { prompt_tokens: 100, completion_tokens: 20 };
    upstream.enqueue({ kind: 'chat', content: 'ok', usage }, { kind: 'chat', content: 'ok', usage });
    const first = await call(key);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get('x-ai-proxy-budget-remaining'))).toBeGreaterThan(0);
    await gw.requestLog(); // settles the first call's real cost
    const second = await call(key);
    expect(second.status).toBe(200);
    await gw.requestLog();
    const view = await gw.gateway.runtime.budgets.store.view(
      (await gw.gateway.runtime.managedKeys.list()).at(-1)!.id,
      { budgetDay: 0.3 },
      Date.now(),
    );
    expect(view.spentDay).toBeCloseTo(0.28, 6);
    const third = await call(key);
    expect(third.status).toBe(429);
    expect(third.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
    expect(third.error?.message).toMatch(/daily budget of \$0\.3000 is spent/);
    expect(third.error?.message).toMatch(/resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z/);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.headers.get('x-ai-proxy-budget-remaining')).toBeNull();
    expect(upstream.requests).toHaveLength(2);
  });

  it('settles a streamed answer at its real cost', async () => {
    const { key, id } = await newKey({ budgetTotal: 10 });
    upstream.enqueue({
      kind: 'chat',
      content: 'Streamed.',
      usage: { prompt_tokens: 1000, completion_tokens: 500 },
    });
    const stream = await gw.client(key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _chunk of stream) {
      // drain
    }
    await gw.requestLog();
    const view = await gw.gateway.runtime.budgets.store.view(id, { budgetTotal: 10 }, Date.now());
    // 1000 × $1/1k + 500 × $2/1k = $2.00.
    expect(view.spentTotal).toBeCloseTo(2, 6);
    expect(view.inFlight.requests).toBe(0);
  });

  it('asks the upstream for a stream’s usage when the client did not, so a budgeted stream is counted at its real cost', async () => {
    const { key, id } = await newKey({ budgetTotal: 10 });
    upstream.enqueue({
      kind: 'chat',
      content: 'Counted.',
      usage: { prompt_tokens: 2000, completion_tokens: 0 },
    });
    const stream = await gw.client(key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Stream without asking for usage.' }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // drain
    }
    await gw.requestLog();
    expect((upstream.requests[0]?.body as { stream_options?: unknown } | undefined)?.stream_options).toEqual({
      include_usage: true,
    });
    const view = await gw.gateway.runtime.budgets.store.view(id, { budgetTotal: 10 }, Date.now());
    expect(view.spentTotal).toBeCloseTo(2, 6);
  });

  it('releases the reservation of a failed call', async () => {
    const { key, id } = await newKey({ budgetTotal: 10, tpd: 1_000_000 });
    upstream.enqueue({
      kind: 'error',
      status: 400,
      body: { error: { message: 'bad', type: 'invalid_request_error' } },
    });
    expect((await call(key)).status).toBe(400);
    await gw.requestLog();
    const view = await gw.gateway.runtime.budgets.store.view(
      id,
      { budgetTotal: 10, tpd: 1_000_000 },
      Date.now(),
    );
    expect(view.spentTotal).toBe(0);
    expect(view.tokensDay).toBe(0);
    expect(view.inFlight.requests).toBe(0);
  });

  it('refuses an expired key and a revoked key with a 401 saying so, at once', async () => {
    const expired = await newKey({}, Date.now() + 300);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const old = await call(expired.key);
    expect(old.status).toBe(401);
    expect(old.error?.message).toContain('expired');

    const live = await newKey({});
    upstream.enqueue({ kind: 'chat', content: 'ok' });
    // The same keep-alive client before and after: the socket's memo must not outlive the revocation.
    const client = gw.client(live.key);
    await client.chat.completions.create({ model: 'cheap', messages: [{ role: 'user', content: 'Hi' }] });
    await gw.gateway.runtime.managedKeys.revoke(live.id);
    const revoked = await client.chat.completions
      .create({ model: 'cheap', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((revoked as InstanceType<typeof OpenAI.APIError>).message).toContain('revoked');
  });

  it('refuses a budgeted key a model with no known price', async () => {
    const { key } = await newKey({ budgetDay: 5 });
    const refused = await call(key, { model: 'openai:some-model-without-a-price-xyz' });
    expect(refused.status).toBe(403);
    expect(refused.error?.message).toContain('No price is known');
    expect(upstream.requests).toHaveLength(0);
  });

  it('shows a managed key its own limits, spend and remaining budget in /v1/usage, and an admin key every key', async () => {
    const { key, id } = await newKey({ rpm: 50, budgetMonth: 20 });
    upstream.enqueue({ kind: 'chat', content: 'ok', usage: { prompt_tokens: 1000, completion_tokens: 0 } });
    expect((await call(key)).status).toBe(200);
    await gw.requestLog();
    const own = (await (
      await fetch(`${gw.baseURL}/usage`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      key: {
        id: string;
        spent_month: number;
        limits: { rpm: { used: number } };
        budgets: { month: { remaining: number } };
      };
      clients: Record<string, unknown>;
    };
    expect(own.key.id).toBe(id);
    expect(own.key.spent_month).toBeCloseTo(1, 6);
    expect(own.key.budgets.month.remaining).toBeCloseTo(19, 6);
    expect(own.key.limits.rpm.used).toBe(1);
    expect(Object.keys(own.clients)).toHaveLength(1);

    const admin = (await (
      await fetch(`${gw.baseURL}/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).json()) as { keys: Array<{ id: string }> };
    expect(admin.keys.map((k) => k.id)).toContain(id);
    expect(admin.keys.length).toBeGreaterThan(1);
  });
});
