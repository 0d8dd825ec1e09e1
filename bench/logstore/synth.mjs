// Synthetic request-log records shaped as the gateway writes them (src/logs/request-record.ts).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const WORDS = (
  'time light ship coast rocky night beam signal harbour storm wave captain sea north south river ' +
  'bridge engine cloud server cache token model answer question python typescript error timeout ' +
  'retry latency request response stream chunk key pool provider gateway budget invoice report ' +
  'weather city travel museum painting music guitar piano garden tomato recipe bread flour oven ' +
  'market price stock bond yield rate loan bank credit debit account ledger audit tax law court'
).split(' ');
const RARE = ['zanzibar', 'quokka', 'platypus', 'axolotl', 'narwhal'];
const MODELS = ['gpt-4o-mini', 'claude-3-5-sonnet', 'gemini-1.5-pro', 'llama-3-70b'];

/** A small deterministic PRNG so every run writes the same data. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function sentence(rand, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  if (rand() < 0.001) out.push(RARE[Math.floor(rand() * RARE.length)]);
  return out.join(' ');
}

/**
 * Record number `i` (its id), written at `startMs + at * stepMs`: `at` is its place in its own
 * day file (by default `i`, for a single run of records from `startMs`).
 */
export function record(i, rand, startMs, stepMs, at = i) {
  const model = MODELS[i % MODELS.length];
  return {
    id: `req_${i.toString(36).padStart(10, '0')}`,
    client_request_id: null,
    time: new Date(startMs + at * stepMs).toISOString(),
    server_id: 'srv_bench',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: `k${i % 50}`,
    client_ip: '10.0.0.1',
    user_agent: 'bench',
    dialog_id: null,
    model_requested: model,
    model_mapped: model,
    provider: 'openai',
    key_id: 'openai-0001',
    status: rand() < 0.02 ? 500 : 200,
    latency_ms: Math.round(rand() * 2000) / 10,
    ttfb_ms: 40,
    overhead_ms: 0.4,
    stream: rand() < 0.5,
    attempts: [{ provider: 'openai', key_id: 'openai-0001', status: 200, ms: 120 }],
    usage: { prompt_tokens: 120, completion_tokens: 80, total_tokens: 200 },
    cost: 0.0002,
    request: {
      model,
      messages: [
        { role: 'system', content: sentence(rand, 12) },
        { role: 'user', content: sentence(rand, 40) },
      ],
    },
    response: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: sentence(rand, 60) }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 120, completion_tokens: 80, total_tokens: 200 },
    },
    error: null,
  };
}

/**
 * Writes `count` records into `files` day files (YYYY-MM-DD.jsonl, from 2025-09-01) under dir, each
 * file's records spread over its own day; returns bytes.
 */
export async function writeLogs(dir, count, files, seed = 1) {
  const rand = rng(seed);
  const perFile = Math.ceil(count / files);
  let bytes = 0;
  let i = 0;
  for (let f = 0; f < files; f++) {
    const day = new Date(Date.UTC(2025, 8, 1 + f));
    const out = createWriteStream(`${dir}/${day.toISOString().slice(0, 10)}.jsonl`);
    const stepMs = Math.floor(86_400_000 / perFile);
    for (let n = 0; n < perFile && i < count; n++, i++) {
      const line = `${JSON.stringify(record(i, rand, day.getTime(), stepMs, n))}\n`;
      bytes += line.length;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  return bytes;
}
