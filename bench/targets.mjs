// What gets benchmarked, as data. Each target is:
//   name       row label; also what --targets filters on
//   url        fixed origin (a target the runner does not start), or
//   cmd        argv to start it; '{port}' is replaced by a free port. Started with
//              a minimal environment (PATH, HOME) plus `env`, in `cwd`.
//   env, cwd   extra environment and working directory for cmd
//   ipc        give the child an IPC channel (our own scripts exit when it closes)
//   health     GET path that answers 200 once the target is ready
//   path, headers, body(mode), streamEnd
//              the request and what a complete stream ends with; default: OpenAI
//              chat completions, see openaiChat below
//   compare    name of the target to compare against (% throughput, added p50), or a list of
//              names (the first fills the table's column); the bar applies when that is a
//              baseline ('baseline', 'baseline messages', 'baseline responses')
//   prepare    optional, run once before the target starts (only when it is selected): may
//              change the target, e.g. create the managed key it sends
//
// To add a target later, push another object: e.g. { ...gateway, name: 'ai-proxy redis',
// env: { ...gateway.env, REDIS_URL: 'redis://127.0.0.1:6379' } }, or { ...anthropicMessages,
// ... } for another POST /v1/messages request.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const MODEL = 'gpt-4o-mini';
export const CLAUDE_MODEL = 'claude-3-5-haiku-latest';
export const GATEWAY_KEY = 'bench-key';
// A model the router sends to groq (its provider prefix), an OpenAI-compatible chat-only provider.
export const BRIDGED_MODEL = 'groq:llama-3.1-8b-instant';

// A realistic small chat request: system + user message, a couple of options.
function openaiChatBody(mode) {
  const body = {
    model: MODEL,
    messages: [
      { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
      { role: 'user', content: 'Say hello and offer to help, in one short sentence.' },
    ],
    temperature: 0.2,
    max_tokens: 64,
  };
  if (mode === 'stream') Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  return body;
}

export const openaiChat = {
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_KEY}` },
  body: openaiChatBody,
  streamEnd: 'data: [DONE]',
};

// The same request as an Anthropic Messages body: system + user message, max_tokens 64 (which
// Messages requires). Stream mode adds `stream: true`; Anthropic has no stream_options, usage
// comes in message_start and message_delta.
function anthropicMessagesBody(mode, model = CLAUDE_MODEL) {
  const body = {
    model,
    max_tokens: 64,
    system: 'You are a helpful assistant. Answer briefly.',
    messages: [{ role: 'user', content: 'Say hello and offer to help, in one short sentence.' }],
    temperature: 0.2,
  };
  if (mode === 'stream') body.stream = true;
  return body;
}

// As the Anthropic SDKs call it: x-api-key and anthropic-version. A complete stream's last event
// is message_stop, written whole (the load tool looks for the marker in the last bytes).
export const anthropicMessages = {
  path: '/v1/messages',
  headers: {
    'content-type': 'application/json',
    'x-api-key': GATEWAY_KEY,
    'anthropic-version': '2023-06-01',
  },
  body: (mode) => anthropicMessagesBody(mode),
  streamEnd: 'event: message_stop\ndata: {"type":"message_stop"}',
};

// The chat request's counterpart for POST /v1/responses, as the OpenAI SDKs send it: instructions,
// the user turn as an input message, max_output_tokens; `store` left out, so it is on (OpenAI's
// default), and the gateway keeps a record of every response as it does for a client that omits it.
function openaiResponsesBody(mode, model = MODEL) {
  const body = {
    model,
    instructions: 'You are a helpful assistant. Answer briefly.',
    input: [{ role: 'user', content: 'Say hello and offer to help, in one short sentence.' }],
    temperature: 0.2,
    max_output_tokens: 64,
  };
  if (mode === 'stream') body.stream = true;
  return body;
}

// A complete Responses stream ends with a whole response.completed event carrying the whole
// Response. Its bytes differ between the native relay and the bridge (the bridge makes its own id
// and timestamps), so every Responses cell checks the last event as an event, not as fixed bytes.
export const openaiResponses = {
  path: '/v1/responses',
  headers: openaiChat.headers,
  body: (mode) => openaiResponsesBody(mode),
  streamEnd: { event: 'response.completed' },
};

/**
 * A managed key for a target (issue 15), made with the built CLI in the target's own cwd and
 * environment (SQLite at ./data/keys.sqlite3, or Redis with REDIS_URL), with a budget and rpm/tpm
 * limits far above what a run can reach: every request is checked, reserved and settled, and none
 * is refused. The printed key becomes the target's Bearer key.
 */
function withManagedKey(rootDir) {
  return (t) => {
    const out = execFileSync(
      process.execPath,
      [
        path.join(rootDir, 'bin/ai-proxy.js'),
        'keys',
        'create',
        '--name',
        'bench',
        '--budget-total',
        '1000000',
        '--rpm',
        '100000000',
        '--tpm',
        '100000000000',
        '--json',
      ],
      {
        cwd: t.cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...t.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const { key } = JSON.parse(out.toString('utf8'));
    if (typeof key !== 'string') throw new Error(`${t.name}: keys create printed no key`);
    t.headers = { ...t.headers, authorization: `Bearer ${key}` };
  };
}

/**
 * @param {object} ctx
 * @param {string} ctx.benchDir, ctx.rootDir
 * @param {string} ctx.upstreamUrl   origin of the canned upstream
 * @param {string} ctx.logDir        LOG_DIR for the gateway (request logging on)
 * @param {string} ctx.gatewayCwd    empty dir, so no config.yml / .env is picked up
 * @param {string} [ctx.gatewayCmd]  BENCH_GATEWAY_CMD override (shell, run in benchDir)
 * @param {string} ctx.redisUrl      Redis for the 'ai-proxy redis' target (REDIS_URL)
 */
export function defineTargets(ctx) {
  const node = process.execPath;
  const gatewayEnv = {
    NODE_ENV: 'production',
    API_KEYS: GATEWAY_KEY,
    OPENAI_API_KEY: 'sk-bench-upstream',
    OPENAI_BASE_URL: `${ctx.upstreamUrl}/v1`,
    LOG_LEVEL: 'error',
    LOG_DIR: ctx.logDir,
  };
  const gateway = {
    ...openaiChat,
    name: 'ai-proxy',
    cmd: [
      node,
      path.join(ctx.rootDir, 'bin/ai-proxy.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '{port}',
    ],
    env: gatewayEnv,
    cwd: ctx.gatewayCwd,
    health: '/health',
    compare: 'baseline',
    isGateway: true, // needs the root build (../dist)
  };
  if (ctx.gatewayCmd) {
    // `exec` so that the pid we hold (and kill) is the server, not the shell.
    Object.assign(gateway, {
      cmd: ['/bin/sh', '-c', `exec ${ctx.gatewayCmd}`],
      env: { ...gatewayEnv, PORT: '{port}' },
      cwd: ctx.benchDir,
      isGateway: false,
    });
  }
  // The same OpenAI request through a translating provider: the gateway turns it into Anthropic
  // Messages or Gemini generateContent and the answer (and stream) back, against canned answers.
  const translated = (name, model, env) => ({
    ...gateway,
    name,
    body: (mode) => ({ ...openaiChatBody(mode), model }),
    env: { ...gateway.env, ...env },
    compare: 'ai-proxy',
  });
  const anthropic = translated('ai-proxy anthropic', 'claude-3-5-haiku-latest', {
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    ANTHROPIC_BASE_URL: `${ctx.upstreamUrl}/v1`,
  });
  const gemini = translated('ai-proxy gemini', 'gemini-1.5-flash', {
    GEMINI_API_KEY: 'gemini-bench',
    GEMINI_BASE_URL: `${ctx.upstreamUrl}/v1beta`,
  });
  // POST /v1/messages (issue 13). The native pass-through: a Claude model to the Anthropic
  // provider (the canned upstream's /v1/messages), compared with the baseline's own Messages
  // route. And Messages in, OpenAI out: the same body with the chat target's model (routed to
  // openai as the chat target's is), translated to chat and back, compared with the chat relay.
  const anthropicEnv = { ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: `${ctx.upstreamUrl}/v1` };
  const messages = {
    ...gateway,
    ...anthropicMessages,
    name: 'ai-proxy messages',
    env: { ...gateway.env, ...anthropicEnv },
    compare: 'baseline messages',
  };
  const messagesOpenai = {
    ...gateway,
    ...anthropicMessages,
    name: 'ai-proxy messages→openai',
    body: (mode) => anthropicMessagesBody(mode, MODEL),
    compare: 'ai-proxy',
  };
  // The key-pool limiter with limits that never bind (so every request is served), in memory mode
  // and in Redis mode, against the same gateway with an unlimited key.
  const limitsCwd = path.join(path.dirname(ctx.gatewayCwd), 'cwd-limits');
  fs.mkdirSync(limitsCwd, { recursive: true });
  fs.writeFileSync(
    path.join(limitsCwd, 'config.yml'),
    `providers:
  openai:
    keys:
      - key: sk-bench-upstream
        max_request_min: 100000000
        max_request_day: 1000000000
        max_token_min: 100000000000
`,
  );
  const limited = (name, env) => ({
    ...gateway,
    name,
    cwd: limitsCwd,
    env: { ...gatewayEnv, OPENAI_API_KEY: '', ...env },
    compare: 'ai-proxy',
  });
  const limits = limited('ai-proxy limits', {});
  const redis = limited('ai-proxy redis', {
    REDIS_URL: ctx.redisUrl,
    REDIS_KEY_PREFIX: `ai-proxy-bench:${process.pid}:`,
    REDIS_FAIL_MODE: 'closed',
  });
  // POST /v1/responses (issue 14). The native pass-through: gpt-4o-mini to the openai provider
  // (`responses: true`, the canned upstream's /v1/responses), compared with the baseline's own
  // Responses route. And the bridge: the same body for a model routed to groq, an OpenAI-compatible
  // provider without the Responses API (GROQ_BASE_URL at the canned upstream's chat route):
  // Responses → chat request, chat answer or stream → Response and its events, against the chat relay.
  const responses = {
    ...gateway,
    ...openaiResponses,
    name: 'ai-proxy responses',
    compare: 'baseline responses',
  };
  const responsesChat = {
    ...gateway,
    ...openaiResponses,
    name: 'ai-proxy responses→chat',
    body: (mode) => openaiResponsesBody(mode, BRIDGED_MODEL),
    env: { ...gateway.env, GROQ_API_KEY: 'gsk-bench-upstream', GROQ_BASE_URL: `${ctx.upstreamUrl}/v1` },
    compare: 'ai-proxy',
  };
  // Managed-key enforcement (issue 15): the chat request with a managed key that has a budget and
  // rpm/tpm limits that never bind, against the plain gateway with its unlimited API_KEYS key.
  // Memory mode: the key in ./data/keys.sqlite3 of its own cwd, counters in memory. Redis mode: key,
  // counters and budget in Redis (a fresh prefix), also compared with 'ai-proxy redis'.
  const keysCwd = (name) => {
    const dir = path.join(path.dirname(ctx.gatewayCwd), name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  const budgeted = {
    ...gateway,
    name: 'ai-proxy budgeted key',
    cwd: keysCwd('cwd-keys'),
    compare: 'ai-proxy',
    prepare: withManagedKey(ctx.rootDir),
  };
  const budgetedRedis = {
    ...budgeted,
    name: 'ai-proxy budgeted key redis',
    cwd: keysCwd('cwd-keys-redis'),
    env: {
      ...gateway.env,
      REDIS_URL: ctx.redisUrl,
      REDIS_KEY_PREFIX: `ai-proxy-bench:${process.pid}:keys:`,
      REDIS_FAIL_MODE: 'closed',
    },
    compare: ['ai-proxy', 'ai-proxy redis'],
  };
  const baselineCmd = {
    cmd: [node, path.join(ctx.benchDir, 'baseline-proxy.mjs'), '--port', '{port}'],
    env: { UPSTREAM_BASE_URL: `${ctx.upstreamUrl}/v1` },
    cwd: ctx.benchDir,
    ipc: true,
    health: '/health',
  };
  // Issue 16: the same chat relay with /metrics off (METRICS_ENABLED=false); the default has it on
  // and traces off, so 'ai-proxy' against this cell is the cost of metrics.
  const metricsOff = {
    ...gateway,
    name: 'ai-proxy metrics off',
    env: { ...gateway.env, METRICS_ENABLED: 'false' },
    compare: 'ai-proxy',
  };
  return [
    { ...openaiChat, name: 'direct', url: ctx.upstreamUrl },
    { ...openaiChat, ...baselineCmd, name: 'baseline' },
    { ...anthropicMessages, ...baselineCmd, name: 'baseline messages' },
    { ...openaiResponses, ...baselineCmd, name: 'baseline responses' },
    gateway,
    messages,
    responses,
    // A stand-in gateway (BENCH_GATEWAY_CMD) gets the pass-throughs only: it cannot translate, and
    // it has no managed keys.
    ...(ctx.gatewayCmd
      ? []
      : [
          messagesOpenai,
          responsesChat,
          anthropic,
          gemini,
          limits,
          redis,
          budgeted,
          budgetedRedis,
          metricsOff,
        ]),
  ];
}
