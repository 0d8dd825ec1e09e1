// Anthropic Messages exchanges in the log store: the searchable text of a Messages request and
// answer by who wrote it, and real JSONL lines of /v1/messages records ingested into a partition,
// found by `logs search` (search()) from every part, counted with their cache tokens, and grouped
// into dialogs.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/logs/request-record.js';
import { assignDialogs } from '../../src/logstore/dialogs.js';
import { extractRequestText } from '../../src/logstore/fts-text.js';
import { ingest } from '../../src/logstore/ingest.js';
import { listPartitions } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { search } from '../../src/logstore/search.js';
import { makeTempDir } from '../support/gateway.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Messages request shaped like Claude Code's: system blocks, a tool loop, a signed thinking block. */
const MESSAGES_REQUEST = {
  model: 'claude-sonnet-4-5',
  max_tokens: 4096,
  system: [
    { type: 'text', text: 'You are Claude Code, an interactive CLI tool.' },
    { type: 'text', text: 'Prefer ripgrep over grep.', cache_control: { type: 'ephemeral' } },
  ],
  tools: [{ name: 'read_file', description: 'Reads a file', input_schema: { type: 'object' } }],
  messages: [
    { role: 'user', content: 'Why does the quasar module crash?' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'I should open the nebula file first.', signature: 'c2ln' },
        { type: 'redacted_thinking', data: 'EmwK' },
        { type: 'text', text: 'Let me look at the pulsar source.' },
        { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'src/magnetar.ts' } },
      ],
    },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_1',
          content: [{ type: 'text', text: 'export const blazar = 1;' }],
        },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_2',
          content: 'permission denied for wormhole',
          is_error: true,
        },
        { type: 'text', text: 'Also check the supernova config.' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'galaxy notes' } },
      ],
    },
  ],
};

const MESSAGES_ANSWER = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'The comet import is circular.', signature: 'c2ln' },
    { type: 'text', text: 'The asteroid import is circular.' },
    { type: 'tool_use', id: 'toolu_3', name: 'edit_file', input: { path: 'src/meteor.ts' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: {
    input_tokens: 30,
    cache_creation_input_tokens: 200,
    cache_read_input_tokens: 4000,
    output_tokens: 90,
  },
};

describe('the searchable text of a Messages exchange', () => {
  it('puts each part where its author belongs', () => {
    const text = extractRequestText(MESSAGES_REQUEST, MESSAGES_ANSWER);
    expect(text).toEqual({
      system_text: 'You are Claude Code, an interactive CLI tool.\nPrefer ripgrep over grep.',
      user_text: 'Why does the quasar module crash?\nAlso check the supernova config.\ngalaxy notes',
      assistant_text: 'I should open the nebula file first.\nLet me look at the pulsar source.',
      tool_text: [
        'read_file',
        '{"path":"src/magnetar.ts"}',
        'export const blazar = 1;',
        'permission denied for wormhole',
        'edit_file',
        '{"path":"src/meteor.ts"}',
      ].join('\n'),
      answer_text: 'The comet import is circular.\nThe asteroid import is circular.',
    });
  });

  it('reads a system string and plain string contents', () => {
    const text = extractRequestText(
      { system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there' }] },
      { type: 'message', content: [{ type: 'text', text: 'Hi.' }] },
    );
    expect(text).toMatchObject({ system_text: 'Be brief.', user_text: 'Hello there', answer_text: 'Hi.' });
  });

  it('reads OpenAI chat exchanges as before', () => {
    const text = extractRequestText(
      {
        messages: [
          { role: 'system', content: 'Sys' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'x' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          { role: 'tool', tool_call_id: 'c', content: 'result' },
        ],
      },
      { choices: [{ index: 0, message: { role: 'assistant', content: 'done' } }] },
    );
    expect(text).toEqual({
      system_text: 'Sys',
      user_text: 'look',
      assistant_text: '',
      tool_text: 'f\n{"a":1}\nresult',
      answer_text: 'done',
    });
  });
});

function record(id: string, time: string, over: Partial<RequestRecord>): RequestRecord {
  return {
    id,
    client_request_id: null,
    time,
    server_id: 'srv',
    endpoint: '/v1/messages',
    method: 'POST',
    client_key_hash: 'alice',
    client_ip: '127.0.0.1',
    user_agent: 'claude-cli/2.0',
    dialog_id: null,
    model_requested: 'claude-sonnet-4-5',
    model_mapped: 'claude-sonnet-4-5',
    provider: 'anthropic',
    key_id: 'anthropic-1',
    status: 200,
    latency_ms: 10,
    ttfb_ms: 2,
    overhead_ms: 0.1,
    stream: true,
    attempts: [],
    usage: MESSAGES_ANSWER.usage,
    cost: 0.0042,
    request: MESSAGES_REQUEST,
    response: MESSAGES_ANSWER,
    error: null,
    ...over,
  };
}

describe('Messages records in the log store', () => {
  async function store() {
    const logDir = makeTempDir('ai-proxy-logs-messages-');
    dirs.push(logDir);
    const lines = [
      record('m-1', '2026-12-03T10:00:00.000Z', {}),
      record('m-2', '2026-12-03T10:05:00.000Z', {
        request: {
          ...MESSAGES_REQUEST,
          system: 'Short answers.',
          messages: [{ role: 'user', content: 'Thanks, now the zodiac' }],
        },
        response: { ...MESSAGES_ANSWER, content: [{ type: 'text', text: 'Done.' }] },
      }),
      // A chat exchange of the same client and model: its own dialog, as each endpoint has.
      record('c-1', '2026-12-03T10:06:00.000Z', {
        endpoint: '/v1/chat/completions',
        request: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] },
        response: { choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }] },
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      }),
    ];
    mkdirSync(join(logDir, 'requests'), { recursive: true });
    writeFileSync(
      join(logDir, 'requests', '2026-12-03.jsonl'),
      `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`,
    );
    const dbRoot = join(logDir, 'db');
    const result = await ingest({ from: logDir, dbRoot, granularity: 'daily', fts: true });
    expect(result.inserted).toBe(3);
    return dbRoot;
  }

  it('finds a Messages exchange by a word from each part', async () => {
    const dbRoot = await store();
    const ids = (query: string) => search({ dbRoot, query, limit: 10 }).hits.map((hit) => hit.request_id);
    for (const word of [
      'ripgrep', // system block
      'quasar', // user text
      'supernova', // user text block beside tool results
      'galaxy', // a plain-text document
      'nebula', // assistant thinking
      'pulsar', // assistant text
      'magnetar', // tool_use input
      'blazar', // tool_result blocks
      'wormhole', // tool_result string
      'asteroid', // the answer's text
      'comet', // the answer's thinking
      'meteor', // the answer's tool call
    ]) {
      expect(ids(word), word).toEqual(['m-1']);
    }
    expect(ids('system_text:ripgrep')).toEqual(['m-1']);
    expect(ids('tool_text:magnetar')).toEqual(['m-1']);
    expect(ids('answer_text:asteroid')).toEqual(['m-1']);
    expect(ids('zodiac')).toEqual(['m-2']);
  });

  it('counts the prompt with its cache reads and writes, and groups the exchanges into dialogs', async () => {
    const dbRoot = await store();
    const [partition] = listPartitions(dbRoot);
    assignDialogs({ dbRoot, windowMinutes: 30 });
    const db = openPartition(partition!.path, { readonly: true });
    try {
      const rows = db
        .prepare(
          'SELECT request_id, endpoint, prompt_tokens, completion_tokens, total_tokens, cost, dialog_id FROM requests ORDER BY ts',
        )
        .all() as Array<Record<string, unknown>>;
      expect(rows.map(({ dialog_id: _, ...rest }) => rest)).toEqual([
        {
          request_id: 'm-1',
          endpoint: '/v1/messages',
          prompt_tokens: 4230,
          completion_tokens: 90,
          total_tokens: 4320,
          cost: 0.0042,
        },
        {
          request_id: 'm-2',
          endpoint: '/v1/messages',
          prompt_tokens: 4230,
          completion_tokens: 90,
          total_tokens: 4320,
          cost: 0.0042,
        },
        {
          request_id: 'c-1',
          endpoint: '/v1/chat/completions',
          prompt_tokens: 5,
          completion_tokens: 1,
          total_tokens: 6,
          cost: 0.0042,
        },
      ]);
      const [m1, m2, c1] = rows.map((row) => row.dialog_id);
      expect(m1).toMatch(/^dlg_/);
      expect(m2).toBe(m1);
      expect(c1).not.toBe(m1);
    } finally {
      db.close();
    }
  });
});
