// The console's API on a real gateway after real traffic (test/support/console-traffic.ts): who may
// call it (admin key as a session cookie or a bearer; no key 401, a client or managed key 403),
// usage history and pool state by value, the live tail, search with filters and paging, one
// exchange, one dialog, managed keys with spend against budget, and no key in any answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  type ConsoleTraffic,
  DIALOG_ID,
  startConsoleTraffic,
  UPSTREAM_KEYS,
} from '../support/console-traffic.js';
import { CLIENT_KEY } from '../support/gateway.js';

describe('console API (/ui/api)', () => {
  let t: ConsoleTraffic;
  let cookie = '';
  const bodies: string[] = [];

  /** A GET with the session cookie; every answer is kept to check for keys at the end. */
  async function get(path: string, headers: Record<string, string> = { cookie }) {
    const res = await fetch(`${t.gw.url}/ui/api/${path}`, { headers });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
  }

  /** Polls until the log store has ingested (and indexed) every exchange. */
  async function ingested(count: number) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { body } = await get('logs/search?limit=100');
      if ((body.hits as unknown[]).length >= count) return;
      if (Date.now() > deadline)
        throw new Error(`log store has ${(body.hits as unknown[]).length} of ${count}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    t = await startConsoleTraffic();
    const login = await fetch(`${t.gw.url}/ui/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: ADMIN_KEY }),
    });
    expect(login.status).toBe(200);
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    await ingested(7);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('logs in with an admin key only, as an HTTP-only SameSite=Strict cookie', async () => {
    const post = (key: string) =>
      fetch(`${t.gw.url}/ui/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key }),
      });
    const ok = await post(ADMIN_KEY);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^ai_proxy_console=\d+\.[\w-]{43}; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    expect(setCookie).not.toContain(ADMIN_KEY);
    const client = await post(CLIENT_KEY);
    expect(client.status).toBe(403);
    expect(((await client.json()) as { error: { code: string } }).error.code).toBe('admin_key_required');
    const managed = await post(t.managedKey);
    expect(managed.status).toBe(403);
    expect((await post('nope')).status).toBe(401);
    const out = await fetch(`${t.gw.url}/ui/api/logout`, { method: 'POST' });
    expect(out.headers.get('set-cookie')).toMatch(/^ai_proxy_console=; .*Max-Age=0/);
  });

  it('refuses the API without a session, with a client key or a forged cookie; takes a bearer admin key', async () => {
    expect((await get('usage', {})).status).toBe(401);
    const client = await get('usage', { authorization: `Bearer ${CLIENT_KEY}` });
    expect(client.status).toBe(403);
    expect(client.body).toMatchObject({ error: { code: 'admin_key_required' } });
    expect((await get('keys', { authorization: `Bearer ${t.managedKey}` })).status).toBe(403);
    const [expires] = cookie.split('=')[1]!.split('.');
    const forged = `ai_proxy_console=${Number(expires) + 1000}.${cookie.split('.')[1]}`;
    expect((await get('usage', { cookie: forged })).status).toBe(401);
    expect((await get('session', { authorization: `Bearer ${ADMIN_KEY}` })).status).toBe(200);
    expect((await get('session')).status).toBe(200);
  });

  it('usage: totals by hour, provider, model and client, and the key pools', async () => {
    const { status, body } = await get('usage?hours=24');
    expect(status).toBe(200);
    const history = body.history as {
      bucket: string;
      totals: Record<string, number>;
      series: Record<string, number>[];
      by_provider: Record<string, unknown>[];
      by_model: Record<string, unknown>[];
      by_client: Record<string, unknown>[];
    };
    expect(history.bucket).toBe('hour');
    expect(history.series).toHaveLength(24);
    // 7 exchanges: 6 answered (1200+800+400+2000+2600+5000 prompt tokens), one upstream 400.
    expect(history.totals).toMatchObject({
      requests: 7,
      errors: 1,
      prompt_tokens: 12_000,
      completion_tokens: 2_350,
    });
    expect(history.totals.cost).toBeGreaterThan(0);
    const lastHour = history.series[history.series.length - 1]!;
    expect(lastHour.requests).toBe(7);
    expect(history.by_provider).toEqual([
      expect.objectContaining({ name: 'openai', requests: 7, errors: 1 }),
    ]);
    expect(history.by_model).toEqual([expect.objectContaining({ name: 'gpt-4o-mini', requests: 7 })]);
    const names = body.client_names as Record<string, string>;
    const managedHash = Object.keys(names).find((hash) => names[hash] === 'team-alpha')!;
    expect(history.by_client).toEqual([
      expect.objectContaining({ requests: 6, prompt_tokens: 7_000 }),
      expect.objectContaining({ name: managedHash, requests: 1, prompt_tokens: 5_000 }),
    ]);
    const pools = body.pools as {
      details: Record<string, { keys: Record<string, Record<string, unknown>> }>;
    };
    const keys = pools.details.openai!.keys;
    expect(Object.keys(keys).sort()).toEqual(['openai-main', 'openai-spare']);
    const requests = Object.values(keys).reduce((n, k) => n + (k.requests as number), 0);
    expect(requests).toBe(7);
    expect(keys['openai-main']!.rate_limits).toEqual({
      max_request_min: 60,
      max_request_day: 1000,
      max_token_min: 100000,
      max_token_day: 2000000,
    });

    const daily = await get('usage?hours=720&bucket=day');
    expect((daily.body.history as { series: unknown[] }).series.length).toBeGreaterThanOrEqual(30);
    expect((await get('usage?bucket=week')).status).toBe(400);
    expect((await get('usage?hours=0')).status).toBe(400);
  });

  it('live tail: the newest exchanges from the request log, newest first', async () => {
    const { body } = await get('logs/recent?limit=3');
    const data = body.data as Record<string, unknown>[];
    expect(data).toHaveLength(3);
    expect(data[0]).toMatchObject({ status: 200, provider: 'openai', snippet: 'Hello from team alpha' });
    expect(data[1]).toMatchObject({ status: 400, snippet: 'This one fails upstream' });
    expect(data[2]).toMatchObject({ dialog_id: DIALOG_ID, snippet: 'And where should we eat?' });
  });

  it('search: FTS5 words, prefixes and NEAR, with filters, marked snippets and paging', async () => {
    const paris = await get('logs/search?q=paris');
    const hits = paris.body.hits as Record<string, unknown>[];
    expect(hits.map((h) => h.request_id)).toEqual([t.ids.france]);
    expect(hits[0]!.snippet).toContain('\u0002Paris\u0003');
    expect(hits[0]).toMatchObject({
      status: 200,
      provider: 'openai',
      model: 'my-alias',
      prompt_tokens: 1200,
    });
    const prefix = await get('logs/search?q=quokk*');
    expect((prefix.body.hits as { request_id: string }[]).map((h) => h.request_id)).toEqual([t.ids.stream]);
    const near = await get(`logs/search?q=${encodeURIComponent('capital NEAR/3 france')}`);
    expect(near.body.hits).toHaveLength(1);
    expect((await get('logs/search?q=zanzibar')).body.hits).toHaveLength(1);
    // Filters without text: status, dialog, provider, client, dates.
    const failed = await get('logs/search?status=400');
    expect((failed.body.hits as { request_id: string }[]).map((h) => h.request_id)).toEqual([t.ids.failed]);
    const dialog = await get(`logs/search?dialog=${DIALOG_ID}`);
    expect((dialog.body.hits as { request_id: string }[]).map((h) => h.request_id)).toEqual([
      t.ids.turn2,
      t.ids.turn1,
    ]);
    expect((await get('logs/search?q=lisbon&provider=nobody')).body.hits).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(`logs/search?since=${today}&to=${today}`)).body.hits).toHaveLength(7);
    expect((await get('logs/search?since=2001-01-01&to=2001-01-02')).body.hits).toEqual([]);
    // Pages of 3: 3 + 3 + 1, no overlap, no empty last page.
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 3; page++) {
      const { body } = await get(`logs/search?limit=3${cursor === '' ? '' : `&cursor=${cursor}`}`);
      seen.push(...(body.hits as { request_id: string }[]).map((h) => h.request_id));
      cursor = String(body.next_cursor);
      if (page < 2) expect(body.next_cursor).not.toBeNull();
      else expect(body.next_cursor).toBeNull();
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    // Bad input is a 400 naming it.
    const bad = await get(`logs/search?q=${encodeURIComponent('"unclosed')}`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/bad search query/);
    expect((await get('logs/search?since=2024-02-30')).status).toBe(400);
    expect((await get('logs/search?cursor=zzz')).status).toBe(400);
    expect((await get('logs/search?status=99')).status).toBe(400);
  });

  it('one exchange in full and a dialog in order', async () => {
    const { status, body } = await get(`logs/exchange/${t.ids.tool}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      request_id: t.ids.tool,
      status_code: 200,
      provider: 'openai',
      stream: false,
    });
    const message = (body.response as { choices: { message: { tool_calls: unknown[] } }[] }).choices[0]!
      .message;
    expect(message.tool_calls).toEqual([
      expect.objectContaining({ function: { name: 'lookup_weather', arguments: '{"city":"Zanzibar"}' } }),
    ]);
    expect((body.attempts as unknown[]).length).toBe(1);
    expect((await get('logs/exchange/req_missing')).status).toBe(404);

    const dialog = await get(`logs/dialog/${DIALOG_ID}`);
    const exchanges = dialog.body.exchanges as { request_id: string; response: unknown }[];
    expect(exchanges.map((e) => e.request_id)).toEqual([t.ids.turn1, t.ids.turn2]);
    expect(JSON.stringify(exchanges[1]!.response)).toContain('Pasteis de Belem');
    expect((await get('logs/dialog/nothing-here')).status).toBe(404);
  });

  it('keys: managed keys with spend against budget, by id and hash, never the key', async () => {
    const { body } = await get('keys');
    const data = body.data as Record<string, unknown>[];
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({
      name: 'team-alpha',
      owner: 'alpha@example.com',
      status: 'active',
      usage: {
        requests_day: 1,
        limits: { rpd: { limit: 500, used: 1 } },
        budgets: { day: { limit: 5 }, month: { limit: 50 } },
      },
    });
    const spent = (data[0]!.usage as { budgets: { day: { spent: number } } }).budgets.day.spent;
    expect(spent).toBeGreaterThan(0);
  });

  it('serves the page and its assets with a strict CSP, and no answer ever holds a key', async () => {
    const page = await fetch(`${t.gw.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('/ui/assets/console.js');
    const script = await fetch(`${t.gw.url}/ui/assets/console.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${t.gw.url}/ui/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${t.gw.url}/ui/assets/nothing.js`)).status).toBe(404);
    const all = bodies.join('\n');
    for (const secret of [ADMIN_KEY, CLIENT_KEY, t.managedKey, ...UPSTREAM_KEYS])
      expect(all).not.toContain(secret);
  });
});
