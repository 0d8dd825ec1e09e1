// Canned Anthropic and Gemini answers for the translated-stream targets: the same short reply as
// the OpenAI canned answer, in each provider's own wire format, precomputed.
const TEXT = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today?'];
const PROMPT_TOKENS = 24;

const sseNamed = (event, data) => Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

const anthropicUsage = { input_tokens: PROMPT_TOKENS, output_tokens: TEXT.length };
export const ANTHROPIC_JSON = Buffer.from(
  JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-haiku-20241022',
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
      id: 'msg_bench',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: PROMPT_TOKENS, output_tokens: 1 },
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
    usage: { output_tokens: TEXT.length },
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
