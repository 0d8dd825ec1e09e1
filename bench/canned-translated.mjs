// Canned Anthropic and Gemini answers for the translated targets and the Messages pass-through:
// the same short reply as the OpenAI canned answer, in each provider's own wire format,
// precomputed. The Anthropic bytes follow what the API sends today: a `msg_01…` id, usage with
// the cache counts and service tier, a `ping` after the first block starts, cumulative usage in
// `message_delta`, and the headers of ANTHROPIC_HEADERS.
const TEXT = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today?'];
const PROMPT_TOKENS = 24;

const sseNamed = (event, data) => Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

const ANTHROPIC_ID = 'msg_01QC4g3HwBThD4BaNtBckFDJ';
const ANTHROPIC_MODEL = 'claude-3-5-haiku-20241022';
const cacheCounts = { cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
const anthropicUsage = {
  input_tokens: PROMPT_TOKENS,
  ...cacheCounts,
  output_tokens: TEXT.length,
  service_tier: 'standard',
};

/** Headers a real Messages answer carries that a gateway may look at (the request id, limits). */
export const ANTHROPIC_HEADERS = {
  'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy',
  'anthropic-organization-id': '00000000-0000-0000-0000-000000000000',
  'anthropic-ratelimit-requests-limit': '4000',
  'anthropic-ratelimit-requests-remaining': '3999',
  'anthropic-ratelimit-requests-reset': '2026-12-03T12:00:00Z',
  'anthropic-ratelimit-input-tokens-limit': '400000',
  'anthropic-ratelimit-input-tokens-remaining': '400000',
  'anthropic-ratelimit-output-tokens-limit': '80000',
  'anthropic-ratelimit-output-tokens-remaining': '80000',
};

export const ANTHROPIC_JSON = Buffer.from(
  JSON.stringify({
    id: ANTHROPIC_ID,
    type: 'message',
    role: 'assistant',
    model: ANTHROPIC_MODEL,
    content: [{ type: 'text', text: TEXT.join('') }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage,
  }),
);
export const ANTHROPIC_SSE = [
  sseNamed('message_start', {
    type: 'message_start',
    message: {
      model: ANTHROPIC_MODEL,
      id: ANTHROPIC_ID,
      type: 'message',
      role: 'assistant',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...anthropicUsage, output_tokens: 1 },
    },
  }),
  sseNamed('content_block_start', {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  }),
  sseNamed('ping', { type: 'ping' }),
  ...TEXT.map((text) =>
    sseNamed('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text },
    }),
  ),
  sseNamed('content_block_stop', { type: 'content_block_stop', index: 0 }),
  sseNamed('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { input_tokens: PROMPT_TOKENS, ...cacheCounts, output_tokens: TEXT.length },
  }),
  sseNamed('message_stop', { type: 'message_stop' }),
];

const geminiUsage = {
  promptTokenCount: PROMPT_TOKENS,
  candidatesTokenCount: TEXT.length,
  totalTokenCount: PROMPT_TOKENS + TEXT.length,
};
const geminiCandidate = (text, last) => ({
  content: { role: 'model', parts: [{ text }] },
  index: 0,
  ...(last ? { finishReason: 'STOP' } : {}),
});
export const GEMINI_JSON = Buffer.from(
  JSON.stringify({
    candidates: [geminiCandidate(TEXT.join(''), true)],
    usageMetadata: geminiUsage,
    modelVersion: 'gemini-1.5-flash',
  }),
);
// Gemini frames with CRLF; the last event ends without the blank line.
export const GEMINI_SSE = TEXT.map((text, i) => {
  const last = i === TEXT.length - 1;
  const event = {
    candidates: [geminiCandidate(text, last)],
    ...(last ? { usageMetadata: geminiUsage } : {}),
    modelVersion: 'gemini-1.5-flash',
  };
  return Buffer.from(`data: ${JSON.stringify(event)}${last ? '\r\n' : '\r\n\r\n'}`);
});
