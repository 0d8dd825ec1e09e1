// GET /v1/usage per client: every client key sees the provider keys' usage (seed 003's overview and
// details, keys by id) but only its own client totals; an admin key (ADMIN_KEYS or the config's
// admin_keys) is a client key too, and sees every client's totals.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerKeyId } from '../../src/config/build-providers.js';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const ALICE = 'client-alice-key-0123456789';
const BOB = 'client-bob-key-0123456789';
const ADMIN = 'admin-key-0123456789abcdef';
const OPENAI_KEY = 'sk-usage-clients-0001';
const HI = [{ role: 'user' as const, content: 'Hi' }];

interface Usage {
  overview: Record<string, { total_requests: number }>;
  details: Record<string, { keys: Record<string, { requests: number }> }>;
  clients: Record<string, { requests: number; tokens: number; cost: number }>;
}

/** The short hash the request log and /v1/usage name a client key by. */
function hashOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

async function usageAs(gw: TestGateway, key: string): Promise<Usage> {
  const response = await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Usage;
}

describe('/v1/usage: own client totals, all of them with an admin key', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    upstream.setDefault({ kind: 'chat', content: 'ok', usage: { prompt_tokens: 2, completion_tokens: 1 } });
    gw = await startTestGateway({
      env: {
        API_KEYS: `${ALICE},${BOB}`,
        ADMIN_KEYS: ADMIN,
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        // Totals without prices: gpt-4o-mini would otherwise be priced from the bundled table.
        PRICE_TABLE: 'false',
      },
    });
    await gw.client(ALICE).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    for (let i = 0; i < 2; i++)
      await gw.client(BOB).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    // Usage is settled when the log writer has read the answers.
    await gw.requestLog();
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it('each client key sees only its own client totals, and every provider key', async () => {
    const keyId = providerKeyId('openai', OPENAI_KEY);
    const alice = await usageAs(gw, ALICE);
    expect(alice.clients).toEqual({ [hashOf(ALICE)]: { requests: 1, tokens: 3, cost: 0 } });
    const bob = await usageAs(gw, BOB);
    expect(bob.clients).toEqual({ [hashOf(BOB)]: { requests: 2, tokens: 6, cost: 0 } });
    for (const usage of [alice, bob]) {
      expect(usage.overview.openai).toMatchObject({ total_requests: 3 });
      expect(usage.details.openai?.keys[keyId]).toMatchObject({ requests: 3 });
    }
  });

  it('the admin key is a client key, and sees every client', async () => {
    await gw.client(ADMIN).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    await gw.requestLog();
    const admin = await usageAs(gw, ADMIN);
    expect(admin.clients).toEqual({
      [hashOf(ALICE)]: { requests: 1, tokens: 3, cost: 0 },
      [hashOf(BOB)]: { requests: 2, tokens: 6, cost: 0 },
      [hashOf(ADMIN)]: { requests: 1, tokens: 3, cost: 0 },
    });
    expect(admin.overview.openai).toMatchObject({ total_requests: 4 });
    expect((await usageAs(gw, ALICE)).clients).toEqual({
      [hashOf(ALICE)]: { requests: 1, tokens: 3, cost: 0 },
    });
  });

  it("admin_keys in the config file, beside seed 003's access_key", async () => {
    const own = await startTestGateway({
      noDefaultKey: true,
      env: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.json': JSON.stringify({ access_key: ALICE, admin_keys: [ADMIN] }) },
    });
    try {
      await own.client(ALICE).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
      await own.client(ADMIN).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
      await own.requestLog();
      expect(Object.keys((await usageAs(own, ALICE)).clients)).toEqual([hashOf(ALICE)]);
      expect(Object.keys((await usageAs(own, ADMIN)).clients).sort()).toEqual(
        [hashOf(ALICE), hashOf(ADMIN)].sort(),
      );
      const refused = await fetch(`${own.url}/v1/usage`, { headers: { authorization: `Bearer ${BOB}` } });
      expect(refused.status).toBe(401);
    } finally {
      await own.stop();
    }
  });
});
