// Baseline: the least a JSON-rewriting pass-through proxy must do. ai-proxy is
// judged against this: read body, JSON.parse, set model, JSON.stringify, forward
// on a keep-alive undici Pool, relay status + content-type, pipe the body back.
// Three routes, the same work each:
//   POST /v1/chat/completions -> <OpenAI base>/chat/completions    (Authorization: Bearer)
//   POST /v1/responses        -> <OpenAI base>/responses           (Authorization: Bearer)
//   POST /v1/messages         -> <Anthropic base>/messages         (x-api-key, anthropic-version)
//
//   node baseline-proxy.mjs --port 8082      (or PORT=8082)
//   OpenAI upstream:    UPSTREAM_BASE_URL, else OPENAI_BASE_URL, else http://127.0.0.1:8081/v1
//   Anthropic upstream: ANTHROPIC_BASE_URL, else the OpenAI upstream's base
//
// It also reads OPENAI_BASE_URL, ANTHROPIC_BASE_URL, the API key variables and PORT so it
// can stand in for the gateway (BENCH_GATEWAY_CMD) with the gateway's own environment.
import http from 'node:http';
import { Pool } from 'undici';

const env = process.env;
const openaiBase = new URL(env.UPSTREAM_BASE_URL ?? env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8081/v1');
const anthropicBase = new URL(env.ANTHROPIC_BASE_URL ?? openaiBase.href);
const basePath = (base) => base.pathname.replace(/\/$/, '');

// One keep-alive Pool per upstream origin (one in the bench: the canned upstream answers both).
const pools = new Map();
function poolFor(origin) {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, {
      connections: 128,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
    });
    pools.set(origin, pool);
  }
  return pool;
}

const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';
const upstreamAuth = `Bearer ${env.OPENAI_API_KEY ?? 'sk-bench-upstream'}`;
const anthropicKey = env.ANTHROPIC_API_KEY ?? 'sk-ant-bench';

// Per route: where it goes, its upstream headers, and which provider prefix the "rewrite" strips.
const ROUTES = new Map([
  [
    '/v1/chat/completions',
    {
      origin: openaiBase.origin,
      path: `${basePath(openaiBase)}/chat/completions`,
      prefix: /^openai\//,
      defaultModel: 'gpt-4o-mini',
      headers: () => ({ 'content-type': 'application/json', authorization: upstreamAuth }),
    },
  ],
  [
    '/v1/responses',
    {
      origin: openaiBase.origin,
      path: `${basePath(openaiBase)}/responses`,
      prefix: /^openai\//,
      defaultModel: 'gpt-4o-mini',
      headers: () => ({ 'content-type': 'application/json', authorization: upstreamAuth }),
    },
  ],
  [
    '/v1/messages',
    {
      origin: anthropicBase.origin,
      path: `${basePath(anthropicBase)}/messages`,
      prefix: /^anthropic\//,
      defaultModel: 'claude-3-5-haiku-latest',
      // The client's anthropic-version goes on, as any Messages proxy must pass it.
      headers: (req) => ({
        'content-type': 'application/json',
        'x-api-key': anthropicKey,
        'anthropic-version': req.headers['anthropic-version'] ?? DEFAULT_ANTHROPIC_VERSION,
      }),
    },
  ],
]);
for (const route of ROUTES.values()) route.pool = poolFor(route.origin);

function fail(res, status, message) {
  if (res.headersSent) return res.destroy();
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message } }));
}

async function forward(route, req, res, raw) {
  let payload;
  try {
    payload = JSON.parse(raw);
  } catch {
    return fail(res, 400, 'invalid JSON');
  }
  // "Rewrite": strip a provider prefix, as any router does before forwarding.
  payload.model = String(payload.model ?? route.defaultModel).replace(route.prefix, '');
  let up;
  try {
    up = await route.pool.request({
      path: route.path,
      method: 'POST',
      headers: route.headers(req),
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
  const route = req.method === 'POST' ? ROUTES.get(req.url) : undefined;
  if (!route) return fail(res, 404, 'not found');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => forward(route, req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

const argPort = process.argv.indexOf('--port');
const port = Number(argPort > 0 ? process.argv[argPort + 1] : (env.PORT ?? 8082));
const host = env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  const to = [...ROUTES].map(([p, r]) => `${p} -> ${r.origin}${r.path}`);
  console.log(`baseline proxy on http://${host}:${server.address().port}: ${to.join(', ')}`);
});

if (process.send) process.on('disconnect', () => process.exit(0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
