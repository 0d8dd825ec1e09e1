// OpenAI Responses exchanges in the log store: the searchable text of a Responses request and
// answer by who wrote it, and /v1/responses records written by the request log's own writer
// (a stream assembled into its Response, a Response answer, a follow-up with previous_response_id),
// ingested into a partition, found by `logs search` from every part, counted with their cached
// tokens and grouped into dialogs.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteBuffer } from '../../src/logs/byte-buffer.js';
import { RecordBatch, unpackRecords } from '../../src/logs/record-batch.js';
import { type PendingRecord, writeRecordLine } from '../../src/logs/request-record.js';
import { assignDialogs } from '../../src/logstore/dialogs.js';
import { extractRequestText } from '../../src/logstore/fts-text.js';
import { ingest } from '../../src/logstore/ingest.js';
import { listPartitions } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { search } from '../../src/logstore/search.js';
import { makeTempDir } from '../support/gateway.js';
import { FIXTURES, readText } from '../support/golden.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Responses request shaped like Codex's: instructions, a developer message, a tool loop, reasoning. */
const RESPONSES_REQUEST = {
  model: 'gpt-5-codex',
  instructions: 'You are Codex, a coding agent. Prefer ripgrep over grep.',
  input: [
    {
      type: 'message',
      role: 'developer',
      content: [{ type: 'input_text', text: 'Sandbox: workspace-write.' }],
    },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'Why does the quasar module crash?' },
        { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' },
      ],
    },
    {
      type: 'reasoning',
      id: 'rs_1',
      summary: [{ type: 'summary_text', text: 'I should open the nebula file first.' }],
      encrypted_content: 'gAAAAABencrypted',
    },
    {
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Let me look at the pulsar source.' }],
    },
    {
      type: 'function_call',
      call_id: 'call_1',
      name: 'shell',
      arguments: '{"command":["cat","src/magnetar.ts"]}',
    },
    { type: 'function_call_output', call_id: 'call_1', output: 'export const blazar = 1;' },
    {
      type: 'function_call_output',
      call_id: 'call_2',
      output: [{ type: 'input_text', text: 'permission denied for wormhole' }],
    },
    { role: 'user', content: 'Also check the supernova config.' },
    { type: 'item_reference', id: 'msg_0' },
  ],
  tools: [{ type: 'function', name: 'shell', parameters: { type: 'object' }, strict: false }],
  include: ['reasoning.encrypted_content'],
  store: false,
  stream: true,
};

const RESPONSES_ANSWER = {
  id: 'resp_1',
  object: 'response',
  status: 'completed',
  model: 'gpt-5-codex',
  output: [
    {
      id: 'rs_2',
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: 'The comet import is circular.' }],
    },
    {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [
        { type: 'output_text', annotations: [], text: 'The asteroid import is circular.' },
        { type: 'refusal', refusal: 'I will not touch the eclipse keys.' },
      ],
    },
    {
      id: 'fc_3',
      type: 'function_call',
      status: 'completed',
      call_id: 'call_3',
      name: 'apply_patch',
      arguments: '{"path":"src/meteor.ts"}',
    },
  ],
  usage: {
    input_tokens: 4230,
    input_tokens_details: { cached_tokens: 4000 },
    output_tokens: 90,
    output_tokens_details: { reasoning_tokens: 64 },
    total_tokens: 4320,
  },
};

describe('the searchable text of a Responses exchange', () => {
  it('puts each part where its author belongs', () => {
    expect(extractRequestText(RESPONSES_REQUEST, RESPONSES_ANSWER)).toEqual({
      system_text: 'You are Codex, a coding agent. Prefer ripgrep over grep.\nSandbox: workspace-write.',
      user_text: 'Why does the quasar module crash?\nAlso check the supernova config.',
      assistant_text: 'I should open the nebula file first.\nLet me look at the pulsar source.',
      tool_text: [
        'shell',
        '{"command":["cat","src/magnetar.ts"]}',
        'export const blazar = 1;',
        'permission denied for wormhole',
        'apply_patch',
        '{"path":"src/meteor.ts"}',
      ].join('\n'),
      answer_text:
        'The comet import is circular.\nThe asteroid import is circular.\nI will not touch the eclipse keys.',
    });
  });

  it('reads a plain string input and an answer with only text', () => {
    const text = extractRequestText(
      { model: 'm', instructions: 'Be brief.', input: 'Hello there' },
      {
        object: 'response',
        output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.' }] }],
      },
    );
    expect(text).toMatchObject({ system_text: 'Be brief.', user_text: 'Hello there', answer_text: 'Hi.' });
  });

  it('still reads embeddings inputs (strings, token arrays) as before', () => {
    expect(extractRequestText({ model: 'e', input: ['alpha', 'beta'] }, null).user_text).toBe('alpha\nbeta');
    expect(extractRequestText({ model: 'e', input: [[1, 2], [3]] }, null).user_text).toBe('');
  });
});

/** What the gateway streams to a Responses client: text, then two function calls. */
const STREAM = Buffer.from(readText(join(FIXTURES, 'log-assembly-responses', 'function-calls-stream.txt')));

function pending(id: string, time: string, overrides: Partial<PendingRecord> = {}): PendingRecord {
  return {
    base: {
      id,
      client_request_id: null,
      time,
      server_id: 'srv',
      endpoint: '/v1/responses',
      method: 'POST',
      client_key_hash: 'alice',
      client_ip: '127.0.0.1',
      user_agent: 'codex_cli_rs/0.50.0',
      dialog_id: null,
      model_requested: 'gpt-5-codex',
      model_mapped: 'gpt-5-codex',
      provider: 'openai',
      key_id: 'openai-1',
      status: 200,
      latency_ms: 10,
      ttfb_ms: 2,
      overhead_ms: 0.1,
      stream: true,
      attempts: [],
    },
    rawRequest: JSON.stringify(RESPONSES_REQUEST),
    responseBytes: undefined,
    streamChunks: undefined,
    error: null,
    ...overrides,
  };
}

/** The JSONL lines the request log writes for these records. */
function logLines(records: PendingRecord[]): string {
  const batch = new RecordBatch();
  for (const record of records) batch.add(record);
  const out = new ByteBuffer(64 * 1024);
  for (const record of unpackRecords(batch.bytes, records.length)) writeRecordLine(out, record, true);
  return out.bytes.toString('utf8');
}

describe('Responses records in the log store', () => {
  async function store() {
    const logDir = makeTempDir('ai-proxy-logs-responses-');
    dirs.push(logDir);
    const price = { prompt1k: 0.001, completion1k: 0.002 };
    const base = pending('x', '2026-12-03T10:00:00.000Z').base;
    const lines = logLines([
      // The Codex-like turn, streamed: the log keeps the Response assembled from the stream.
      pending('r-1', '2026-12-03T10:00:00.000Z', {
        streamChunks: [STREAM.subarray(0, 1000), STREAM.subarray(1000)],
        price,
      }),
      // Its follow-up through previous_response_id, answered as one Response object.
      pending('r-2', '2026-12-03T10:05:00.000Z', {
        base: { ...base, id: 'r-2', time: '2026-12-03T10:05:00.000Z', stream: false },
        rawRequest: JSON.stringify({
          model: 'gpt-5-codex',
          previous_response_id: 'resp_1111aaaa2222bbbb3333cccc4444dddd',
          input: [{ type: 'function_call_output', call_id: 'call_Paris01', output: 'zodiac: sunny, 21C' }],
        }),
        responseBytes: Buffer.from(JSON.stringify(RESPONSES_ANSWER)),
        price,
      }),
      // A chat exchange of the same client and model: its own dialog, as each endpoint has.
      pending('c-1', '2026-12-03T10:06:00.000Z', {
        base: { ...base, id: 'c-1', time: '2026-12-03T10:06:00.000Z', endpoint: '/v1/chat/completions' },
        rawRequest: '{"model":"gpt-5-codex","messages":[{"role":"user","content":"hi"}]}',
        responseBytes: Buffer.from(
          '{"choices":[{"index":0,"message":{"role":"assistant","content":"hello"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}',
        ),
      }),
    ]);
    mkdirSync(join(logDir, 'requests'), { recursive: true });
    writeFileSync(join(logDir, 'requests', '2026-12-03.jsonl'), lines);
    const dbRoot = join(logDir, 'db');
    const result = await ingest({ from: logDir, dbRoot, granularity: 'daily', fts: true });
    expect(result.inserted).toBe(3);
    return { dbRoot, lines };
  }

  it('logs a streamed Responses exchange as its Response', async () => {
    const { lines } = await store();
    const first = JSON.parse(lines.split('\n')[0] ?? '{}') as Record<string, unknown>;
    expect(first.endpoint).toBe('/v1/responses');
    expect(first.response).toMatchObject({
      id: 'resp_1111aaaa2222bbbb3333cccc4444dddd',
      object: 'response',
      status: 'completed',
    });
    expect(first.usage).toMatchObject({ input_tokens: 80, output_tokens: 46, total_tokens: 126 });
    // 80 × 0.001 + 46 × 0.002, per 1k
    expect(first.cost).toBe(0.000172);
  });

  it('finds a Responses exchange by a word from each part', async () => {
    const { dbRoot } = await store();
    const ids = (query: string) => search({ dbRoot, query, limit: 10 }).hits.map((hit) => hit.request_id);
    for (const word of [
      'ripgrep', // instructions
      'Sandbox', // a developer message
      'quasar', // user input_text
      'supernova', // a user message with string content
      'nebula', // an earlier reasoning summary
      'pulsar', // an earlier assistant message
      'magnetar', // an earlier function_call's arguments
      'blazar', // a function_call_output string
      'wormhole', // a function_call_output with content parts
      'cities', // the streamed answer's text
      'Rome', // the streamed answer's function call
    ]) {
      expect(ids(word), word).toEqual(['r-1']);
    }
    expect(ids('system_text:ripgrep')).toEqual(['r-1']);
    expect(ids('tool_text:Rome')).toEqual(['r-1']);
    expect(ids('answer_text:cities')).toEqual(['r-1']);
    expect(ids('zodiac')).toEqual(['r-2']); // the follow-up's function_call_output
    expect(ids('asteroid')).toEqual(['r-2']); // its answer
    expect(ids('answer_text:comet')).toEqual(['r-2']); // its answer's reasoning summary
    expect(ids('eclipse')).toEqual(['r-2']); // its answer's refusal
    expect(ids('tool_text:meteor')).toEqual(['r-2']); // its answer's function call
  });

  it('counts Responses usage (cached tokens inside input_tokens) and groups the exchanges into dialogs', async () => {
    const { dbRoot } = await store();
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
          request_id: 'r-1',
          endpoint: '/v1/responses',
          prompt_tokens: 80,
          completion_tokens: 46,
          total_tokens: 126,
          cost: 0.000172,
        },
        {
          request_id: 'r-2',
          endpoint: '/v1/responses',
          prompt_tokens: 4230,
          completion_tokens: 90,
          total_tokens: 4320,
          // 4230 × 0.001 + 90 × 0.002, per 1k
          cost: 0.00441,
        },
        {
          request_id: 'c-1',
          endpoint: '/v1/chat/completions',
          prompt_tokens: 5,
          completion_tokens: 1,
          total_tokens: 6,
          cost: null,
        },
      ]);
      const [r1, r2, c1] = rows.map((row) => row.dialog_id);
      expect(r1).toMatch(/^dlg_/);
      expect(r2).toBe(r1);
      expect(c1).not.toBe(r1);
    } finally {
      db.close();
    }
  });
});
