// A managed key's budget under `serve --workers 2` without Redis: the workers count on one SQLite
// file, so 200 concurrent requests spread over both spend the budget and not a cent more. With
// BUDGET_STORE=memory (each worker counting on its own, as before the SQLite store) the same burst
// is let through past the budget: the test measures the hole it closes.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteBudgetStore } from '../../src/managed-keys/budget-sqlite-store.js';
import { runCli, type ServeProcess, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir } from '../support/gateway.js';

const CONFIG = `prices:
  gpt-4o-mini: { prompt_1k: 1, completion_1k: 2 }
`;
const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 10,
});
/** The gateway's estimate of this body: a token per 4 bytes, plus max_tokens of output. */
const PROMPT_ESTIMATE = Math.ceil(BODY.length / 4);
const ESTIMATED_COST = (PROMPT_ESTIMATE * 1 + 10 * 2) / 1000;
/** Room for exactly 25 requests at their (exact) estimate. */
const BUDGET = ESTIMATED_COST * 25;

const dirs: string[] = [];
let upstream: ProviderEmulator;

beforeAll(async () => {
  upstream = await ProviderEmulator.start();
  upstream.setDefault({
    kind: 'chat',
    content: 'ok',
    usage: { prompt_tokens: PROMPT_ESTIMATE, completion_tokens: 10 },
  });
});
afterAll(async () => {
  await upstream?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder with the prices and one managed key with the budget; the gateway on 2 workers. */
async function start(env: Record<string, string>): Promise<{
  dir: string;
  url: string;
  key: string;
  id: string;
  server: ServeProcess;
}> {
  const dir = makeTempDir('ai-proxy-budget-workers-');
  dirs.push(dir);
  writeFileSync(join(dir, 'config.yml'), CONFIG);
  const created = await runCli(
    ['keys', 'create', '--name', 'workers', '--budget-total', String(BUDGET), '--json'],
    {
      cwd: dir,
    },
  );
  expect(created.code, created.stderr).toBe(0);
  const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
  const port = await freePort();
  const server = spawnServe(['--workers', '2', '--port', String(port)], {
    cwd: dir,
    env: {
      OPENAI_API_KEY: 'sk-budget-workers-0001',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      USAGE_STATE_FILE: join(dir, 'state', 'key-usage.json'),
      ...env,
    },
  });
  const deadline = Date.now() + 20_000;
  while (server.stdoutLines.filter((line) => line.includes('ai-proxy listening on')).length < 2) {
    if (Date.now() > deadline || server.child.exitCode !== null) {
      await server.stop('SIGKILL');
      throw new Error(`the workers did not come up; stderr: ${server.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { dir, url: `http://127.0.0.1:${port}`, key, id, server };
}

async function burst(url: string, key: string): Promise<{ admitted: number; refused: number }> {
  const results = await Promise.all(
    Array.from({ length: 200 }, async () => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: BODY,
      });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code };
    }),
  );
  return {
    admitted: results.filter((r) => r.status === 200).length,
    refused: results.filter((r) => r.code === 'budget_exceeded').length,
  };
}

describe('a managed key’s budget under serve --workers 2 without Redis', () => {
  it('200 concurrent requests over both workers spend the budget and not a cent more', async () => {
    const { dir, url, key, id, server } = await start({});
    try {
      const { admitted, refused } = await burst(url, key);
      // The settlements land after each answer's log record is written: wait for them in the file.
      const store = new SqliteBudgetStore({ path: join(dir, 'state', 'client-budgets.sqlite3') });
      const deadline = Date.now() + 5000;
      let view = store.view(id, { budgetTotal: BUDGET }, Date.now());
      while (view.inFlight.requests > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        view = store.view(id, { budgetTotal: BUDGET }, Date.now());
      }
      await store.close();
      console.log(
        `serve --workers 2, SQLite budgets: budget $${BUDGET.toFixed(4)}, ${admitted} admitted, ${refused} refused, spent $${view.spentTotal.toFixed(6)}`,
      );
      expect(admitted).toBe(25);
      expect(refused).toBe(175);
      expect(view.inFlight.requests).toBe(0);
      expect(view.spentTotal).toBeCloseTo(BUDGET, 9);
      expect(server.stderr()).toContain('client-key budgets are shared through client-budgets.sqlite3');
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('with BUDGET_STORE=memory each worker counts alone, and the same burst overspends', async () => {
    const { url, key, server } = await start({ BUDGET_STORE: 'memory' });
    try {
      const { admitted } = await burst(url, key);
      console.log(`serve --workers 2, BUDGET_STORE=memory: ${admitted} admitted against room for 25`);
      expect(admitted).toBeGreaterThan(25);
      expect(admitted).toBeLessThanOrEqual(50);
      expect(server.stderr()).toContain('provider-key limits and client-key budgets on its own');
    } finally {
      await server.stop();
    }
  }, 60_000);
});
