// Canned upstream: answers POST /v1/chat/completions (OpenAI), POST /v1/responses (OpenAI
// Responses), POST /v1/messages (Anthropic) and POST /v1beta/models/… (Gemini) with fixed bytes, as fast as node:http allows, so that the
// benchmark measures the proxy, not the upstream.
//
//   node canned-upstream.mjs --port 8081      (or PORT=8081; port 0 picks a free one)
//
// Also GET /health -> 200, for the runner's readiness check.
import http from 'node:http';
import { RESPONSES_HEADERS, RESPONSES_JSON, RESPONSES_SSE } from './canned-responses.mjs';
import {
  ANTHROPIC_HEADERS,
  ANTHROPIC_JSON,
  ANTHROPIC_SSE,
  GEMINI_JSON,
  GEMINI_SSE,
} from './canned-translated.mjs';

const MODEL = 'gpt-4o-mini-2024-07-18';
const CREATED = 1_700_000_000;
const TOKENS = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today?'];
const USAGE = { prompt_tokens: 24, completion_tokens: TOKENS.length, total_tokens: 24 + TOKENS.length };

// Headers a real OpenAI answer carries that a gateway may look at (ids, rate limits).
const COMMON_HEADERS = {
  'x-request-id': 'req_bench',
  'openai-processing-ms': '1',
  'x-ratelimit-remaining-requests': '9999',
  'x-ratelimit-remaining-tokens': '9999999',
};

const JSON_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: CREATED,
    model: MODEL,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: TOKENS.join(''), refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: USAGE,
  }),
);
const JSON_HEADERS = {
  ...COMMON_HEADERS,
  'content-type': 'application/json',
  'content-length': String(JSON_BODY.length),
};
const SSE_HEADERS = { ...COMMON_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' };

// One Buffer per SSE event. With include_usage OpenAI adds "usage":null to every
// chunk and a final chunk with empty choices carrying the usage; we mirror that.
function sseEvents(includeUsage) {
  const chunk = (delta, finish) => ({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: MODEL,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events = [
    chunk({ role: 'assistant', content: '', refusal: null }, null),
    ...TOKENS.map((content) => chunk({ content }, null)),
    chunk({}, 'stop'),
  ];
  if (includeUsage) events.push({ ...chunk({}, null), choices: [], usage: USAGE });
  return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'].map((s) =>
    Buffer.from(s),
  );
}
const SSE = sseEvents(false);
const SSE_USAGE = sseEvents(true);

const STREAM_KEY = Buffer.from('"stream"');

function handle(req, res) {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/v1/messages')) {
    answerTranslated(req, res, 'anthropic');
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/v1beta/models/')) {
    answerTranslated(req, res, 'gemini');
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/v1/responses')) {
    answerTranslated(req, res, 'responses');
    return;
  }
  if (req.method !== 'POST' || !req.url.startsWith('/v1/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
    return;
  }
  // The body must be consumed for keep-alive to work; parse it only when it
  // mentions "stream", so non-stream requests cost no JSON.parse here.
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    let stream = false;
    let includeUsage = false;
    if (raw.includes(STREAM_KEY)) {
      try {
        const body = JSON.parse(raw);
        stream = body.stream === true;
        includeUsage = body.stream_options?.include_usage === true;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
        return;
      }
    }
    if (!stream) {
      res.writeHead(200, JSON_HEADERS).end(JSON_BODY);
      return;
    }
    // One write per event (not one big buffer) so the proxy sees the events as
    // separate chunks, closer to a real upstream; all in one tick, so no added delay.
    res.writeHead(200, SSE_HEADERS);
    for (const ev of includeUsage ? SSE_USAGE : SSE) res.write(ev);
    res.end();
  });
}

// Anthropic (/v1/messages, stream when the body says so), OpenAI Responses (/v1/responses, the
// same) and Gemini (/v1beta/models/…, stream for :streamGenerateContent), for the translated
// targets and the Messages and Responses pass-throughs.
const ANTHROPIC_JSON_HEADERS = {
  ...ANTHROPIC_HEADERS,
  'content-type': 'application/json',
  'content-length': String(ANTHROPIC_JSON.length),
};
const ANTHROPIC_SSE_HEADERS = {
  ...ANTHROPIC_HEADERS,
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};
const GEMINI_JSON_HEADERS = {
  'content-type': 'application/json',
  'content-length': String(GEMINI_JSON.length),
};
const GEMINI_SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8' };
const RESPONSES_JSON_HEADERS = {
  ...RESPONSES_HEADERS,
  'content-type': 'application/json',
  'content-length': String(RESPONSES_JSON.length),
};
const RESPONSES_SSE_HEADERS = { ...RESPONSES_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' };
// Per provider: [JSON headers, JSON body, SSE headers, SSE events].
const CANNED = {
  anthropic: [ANTHROPIC_JSON_HEADERS, ANTHROPIC_JSON, ANTHROPIC_SSE_HEADERS, ANTHROPIC_SSE],
  gemini: [GEMINI_JSON_HEADERS, GEMINI_JSON, GEMINI_SSE_HEADERS, GEMINI_SSE],
  responses: [RESPONSES_JSON_HEADERS, RESPONSES_JSON, RESPONSES_SSE_HEADERS, RESPONSES_SSE],
};

function answerTranslated(req, res, provider) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    let stream = false;
    if (provider === 'gemini') stream = req.url.includes(':streamGenerateContent');
    else if (raw.includes(STREAM_KEY)) {
      try {
        stream = JSON.parse(raw).stream === true;
      } catch {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"type":"error","error":{"type":"invalid_request_error","message":"bad json"}}');
        return;
      }
    }
    const [jsonHeaders, json, sseHeaders, events] = CANNED[provider];
    if (!stream) {
      res.writeHead(200, jsonHeaders).end(json);
      return;
    }
    // One write per event, as for the OpenAI stream.
    res.writeHead(200, sseHeaders);
    for (const ev of events) res.write(ev);
    res.end();
  });
}

const argPort = process.argv.indexOf('--port');
const port = Number(argPort > 0 ? process.argv[argPort + 1] : (process.env.PORT ?? 8081));
const host = process.env.HOST ?? '127.0.0.1';

const server = http.createServer({ keepAlive: true }, handle);
server.keepAliveTimeout = 65_000; // outlive the clients' idle timeouts between runs
server.headersTimeout = 66_000;
server.listen(port, host, () => {
  console.log(`canned upstream on http://${host}:${server.address().port}`);
});

// Started by the runner with an IPC channel: exit when the runner goes away,
// even if it was killed too hard to clean up.
if (process.send) process.on('disconnect', () => process.exit(0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
