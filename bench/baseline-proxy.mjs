// Baseline: the least a JSON-rewriting pass-through proxy must do. ai-proxy is
// judged against this: read body, JSON.parse, set model, JSON.stringify, forward
// on a keep-alive undici Pool, relay status + content-type, pipe the body back.
//
//   node baseline-proxy.mjs --port 8082      (or PORT=8082)
//   upstream: UPSTREAM_BASE_URL, else OPENAI_BASE_URL, else http://127.0.0.1:8081/v1
//
// It also reads OPENAI_BASE_URL and PORT so it can stand in for the gateway
// (BENCH_GATEWAY_CMD) with the gateway's own environment.
import http from 'node:http';
import { Pool } from 'undici';

const base = new URL(
  process.env.UPSTREAM_BASE_URL ?? process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8081/v1',
);
const upstreamPath = `${base.pathname.replace(/\/$/, '')}/chat/completions`;
const upstreamAuth = `Bearer ${process.env.OPENAI_API_KEY ?? 'sk-bench-upstream'}`;
const pool = new Pool(base.origin, {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  keepAliveMaxTimeout: 600_000,
});

function fail(res, status, message) {
  if (res.headersSent) return res.destroy();
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message } }));
}

async function forward(res, raw) {
  let payload;
  try {
    payload = JSON.parse(raw);
  } catch {
    return fail(res, 400, 'invalid JSON');
  }
  // "Rewrite": strip a provider prefix, as any router does before forwarding.
  payload.model = String(payload.model ?? 'gpt-4o-mini').replace(/^openai\//, '');
  let up;
  try {
    up = await pool.request({
      path: upstreamPath,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: upstreamAuth },
      body: JSON.stringify(payload),
    });
  } catch (err) {
    return fail(res, 502, `upstream: ${err.message}`);
  }
  res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
  // .pipe() relays chunk by chunk with backpressure. Not stream.pipeline(): on
  // Node 20 it builds an AbortController and a DOMException per call, ~10% of
  // this proxy's CPU, and the baseline should not carry avoidable cost.
  up.body.on('error', () => res.destroy());
  res.on('close', () => {
    if (!up.body.readableEnded) up.body.destroy(); // client went away mid-stream
  });
  up.body.pipe(res);
}

const server = http.createServer({ keepAlive: true }, (req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return fail(res, 404, 'not found');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => forward(res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

const argPort = process.argv.indexOf('--port');
const port = Number(argPort > 0 ? process.argv[argPort + 1] : (process.env.PORT ?? 8082));
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  console.log(`baseline proxy on http://${host}:${server.address().port} -> ${base.origin}${upstreamPath}`);
});

if (process.send) process.on('disconnect', () => process.exit(0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
