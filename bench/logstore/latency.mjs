// Does the in-server log store slow requests down? The built gateway (`ai-proxy serve`) answers
// chat requests from a canned upstream, one at a time for DURATION seconds, with LOGDB off and
// then on (FTS and dialogs too) while its ingest catches up on RECORDS old request-log records in
// the background. Prints request latency percentiles for both.
//
//   node bench/logstore/latency.mjs [--records 100000] [--duration 10]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeLogs } from './synth.mjs';

const { values: args } = parseArgs({
  options: { records: { type: 'string', default: '100000' }, duration: { type: 'string', default: '10' } },
});
const BIN = fileURLToPath(new URL('../../bin/ai-proxy.js', import.meta.url));
const ANSWER = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
});

const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(ANSWER);
  });
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}/v1`;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(logdb) {
  const root = mkdtempSync(join(tmpdir(), 'logstore-latency-'));
  mkdirSync(join(root, 'logs', 'requests'), { recursive: true });
  await writeLogs(join(root, 'logs', 'requests'), Number(args.records), 4);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      API_KEYS: 'bench-key',
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: upstreamUrl,
      LOG_DIR: join(root, 'logs'),
      LOG_LEVEL: 'error',
      LOGDB_ENABLED: String(logdb),
      LOGDB_FTS_ENABLED: 'true',
      LOGDB_GROUPING_ENABLED: 'true',
      LOGDB_INGEST_INTERVAL_MS: '200',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const body = JSON.stringify({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  const times = [];
  const until = performance.now() + Number(args.duration) * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
      body,
    });
    await response.text();
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    times.push(performance.now() - t0);
  }
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  rmSync(root, { recursive: true, force: true });
  times.sort((a, b) => a - b);
  return {
    logdb: logdb ? 'on, catching up (FTS + dialogs)' : 'off',
    requests: times.length,
    p50_ms: percentile(times, 50).toFixed(2),
    p99_ms: percentile(times, 99).toFixed(2),
    p999_ms: percentile(times, 99.9).toFixed(2),
    max_ms: times[times.length - 1].toFixed(2),
  };
}

const rows = [await measure(false), await measure(true)];
upstream.close();
console.log(`\n| LOGDB | requests in ${args.duration} s | p50 ms | p99 ms | p99.9 ms | max ms |`);
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.logdb} | ${r.requests} | ${r.p50_ms} | ${r.p99_ms} | ${r.p999_ms} | ${r.max_ms} |`);
}
