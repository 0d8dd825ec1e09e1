// A gateway set up as the console's tests need it: an admin key, a client key, a managed key with
// budgets, two OpenAI keys in a pool with limits, the log store ingesting in the server (FTS and
// dialog grouping on, a short interval) and the provider emulator upstream; then real traffic
// through the openai SDK: plain, streamed, a tool call, a two-turn dialog, an upstream error.
import type OpenAI from 'openai';
import { ProviderEmulator } from './emulator.js';
import { startTestGateway, type TestGateway } from './gateway.js';

export const ADMIN_KEY = 'console-admin-key-0123456789';
export const UPSTREAM_KEYS = ['sk-upstream-console-aaa', 'sk-upstream-console-bbb'];
export const DIALOG_ID = 'trip-to-lisbon';

const CONFIG = `providers:
  openai:
    keys:
      - { key: ${UPSTREAM_KEYS[0]}, id: openai-main, max_request_min: 60, max_request_day: 1000, max_token_min: 100000, max_token_day: 2000000 }
      - { key: ${UPSTREAM_KEYS[1]}, id: openai-spare, max_request_min: 30, max_request_day: 500 }
model_mappings:
  my-alias: "openai:gpt-4o-mini"
`;

export interface ConsoleTraffic {
  upstream: ProviderEmulator;
  gw: TestGateway;
  /** The managed key (a secret the console must never show). */
  managedKey: string;
  ids: { france: string; stream: string; tool: string; failed: string; turn1: string; turn2: string };
  stop(): Promise<void>;
}

async function chatId(
  client: OpenAI,
  messages: OpenAI.Chat.ChatCompletionMessageParam[],
  headers: Record<string, string> = {},
): Promise<string> {
  const { response } = await client.chat.completions
    .create({ model: 'my-alias', messages }, { headers })
    .withResponse();
  return response.headers.get('x-request-id') ?? '';
}

export async function startConsoleTraffic(): Promise<ConsoleTraffic> {
  const upstream = await ProviderEmulator.start();
  const gw = await startTestGateway({
    env: {
      ADMIN_KEYS: ADMIN_KEY,
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      LOGDB_ENABLED: 'true',
      LOGDB_FTS_ENABLED: 'true',
      LOGDB_GROUPING_ENABLED: 'true',
      LOGDB_INGEST_INTERVAL_MS: '100',
      PRICE_TABLE: 'true',
    },
    files: { 'config.yml': CONFIG },
  });
  const client = gw.client();
  const ids = { france: '', stream: '', tool: '', failed: '', turn1: '', turn2: '' };
  const usage = (prompt: number, completion: number) => ({
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  });

  upstream.enqueue({ kind: 'chat', content: 'Paris is the capital of France.', usage: usage(1200, 300) });
  ids.france = await chatId(client, [
    { role: 'system', content: 'You answer briefly.' },
    { role: 'user', content: 'What is the capital city of France?' },
  ]);

  upstream.enqueue({ kind: 'chat', content: 'Quokkas live on Rottnest Island.', usage: usage(800, 120) });
  const stream = await client.chat.completions.create({
    model: 'my-alias',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Tell me about marsupials' }],
  });
  for await (const _chunk of stream) {
    // drained: the log keeps the assembled answer
  }

  upstream.enqueue({
    kind: 'chat',
    toolCalls: [{ name: 'lookup_weather', arguments: '{"city":"Zanzibar"}' }],
    finishReason: 'tool_calls',
    usage: usage(400, 30),
  });
  ids.tool = await chatId(client, [{ role: 'user', content: 'What is the weather like on the island?' }]);

  const turn1: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a travel guide.' },
    { role: 'user', content: 'Plan a day in Lisbon for me.' },
  ];
  upstream.enqueue({
    kind: 'chat',
    content: 'Start at the Belem Tower, then take tram 28.',
    usage: usage(2000, 500),
  });
  ids.turn1 = await chatId(client, turn1, { 'x-dialog-id': DIALOG_ID });
  upstream.enqueue({
    kind: 'chat',
    content: 'Try the custard tarts at Pasteis de Belem.',
    usage: usage(2600, 400),
  });
  ids.turn2 = await chatId(
    client,
    [
      ...turn1,
      { role: 'assistant', content: 'Start at the Belem Tower, then take tram 28.' },
      { role: 'user', content: 'And where should we eat?' },
    ],
    { 'x-dialog-id': DIALOG_ID },
  );

  upstream.enqueue({ kind: 'error', status: 400 });
  await chatId(client, [{ role: 'user', content: 'This one fails upstream' }]).catch(() => undefined);

  // A managed key with budgets and limits, and one call on it.
  const created = await gw.gateway.runtime.managedKeys.create({
    name: 'team-alpha',
    owner: 'alpha@example.com',
    policy: { rpd: 500, tpd: 1_000_000, budgetDay: 5, budgetMonth: 50 },
  });
  upstream.enqueue({ kind: 'chat', content: 'Hello from a managed key.', usage: usage(5000, 1000) });
  await chatId(gw.client(created.key), [{ role: 'user', content: 'Hello from team alpha' }]);

  const records = await gw.requestLog();
  ids.stream = String(records.find((r) => r.stream === true)?.id);
  ids.failed = String(records.find((r) => r.status === 400)?.id);
  return {
    upstream,
    gw,
    managedKey: created.key,
    ids,
    async stop() {
      await gw.stop();
      await upstream.close();
    },
  };
}
