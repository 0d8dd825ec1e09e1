// Canned OpenAI Responses API answers (POST /v1/responses) for the Responses cells: the same short
// reply as the chat answer, precomputed. The Response object has the fields and key order OpenAI
// sends today (echoed request settings, `store`, `text.verbosity`, usage with its details); the
// stream is response.created, response.in_progress, the message item's added / content part /
// 8 output_text deltas (with `obfuscation`, on by default) / done events, and response.completed
// carrying the whole Response, each event numbered by `sequence_number` and written on its own.
const TEXT = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today?'];
const PROMPT_TOKENS = 24;
const CREATED_AT = 1_700_000_000;
const MODEL = 'gpt-4o-mini-2024-07-18';
const RESPONSE_ID = 'resp_0d5c1a36e2f9b7c4006930a1b2c3d48190a4c9e2f1b3d5a7c9';
const MESSAGE_ID = 'msg_0d5c1a36e2f9b7c4006930a1b2d8e48190b7e1f3a5c7d9e1f3';

/** Headers a real Responses answer carries (ids, rate limits), as for chat. */
export const RESPONSES_HEADERS = {
  'x-request-id': 'req_bench_responses',
  'openai-processing-ms': '1',
  'openai-version': '2020-10-01',
  'x-ratelimit-remaining-requests': '9999',
  'x-ratelimit-remaining-tokens': '9999999',
};

const outputText = (text) => ({ type: 'output_text', annotations: [], logprobs: [], text });
const message = (status, content) => ({
  id: MESSAGE_ID,
  type: 'message',
  status,
  content,
  role: 'assistant',
});
const USAGE = {
  input_tokens: PROMPT_TOKENS,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: TEXT.length,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: PROMPT_TOKENS + TEXT.length,
};

// The bench request's settings (instructions, temperature, max_output_tokens) echoed back, as
// OpenAI does; `done` gives the final object, else the one response.created / in_progress carry.
function responseObject(done) {
  return {
    id: RESPONSE_ID,
    object: 'response',
    created_at: CREATED_AT,
    status: done ? 'completed' : 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: 'You are a helpful assistant. Answer briefly.',
    max_output_tokens: 64,
    max_tool_calls: null,
    model: MODEL,
    output: done ? [message('completed', [outputText(TEXT.join(''))])] : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: true,
    temperature: 0.2,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_logprobs: 0,
    top_p: 1,
    truncation: 'disabled',
    usage: done ? USAGE : null,
    user: null,
    metadata: {},
  };
}

export const RESPONSES_JSON = Buffer.from(JSON.stringify(responseObject(true)));

function streamEvents() {
  const frames = [];
  const add = (type, fields) =>
    frames.push(
      Buffer.from(
        `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: frames.length, ...fields })}\n\n`,
      ),
    );
  const at = { item_id: MESSAGE_ID, output_index: 0, content_index: 0 };
  add('response.created', { response: responseObject(false) });
  add('response.in_progress', { response: responseObject(false) });
  add('response.output_item.added', { output_index: 0, item: message('in_progress', []) });
  add('response.content_part.added', { ...at, part: outputText('') });
  // `obfuscation` pads each delta to hide its length (stream_options.include_obfuscation, on by default).
  for (const [i, delta] of TEXT.entries()) {
    add('response.output_text.delta', { ...at, delta, logprobs: [], obfuscation: 'kq3Vb0xZr1'.slice(i) });
  }
  add('response.output_text.done', { ...at, text: TEXT.join(''), logprobs: [] });
  add('response.content_part.done', { ...at, part: outputText(TEXT.join('')) });
  add('response.output_item.done', {
    output_index: 0,
    item: message('completed', [outputText(TEXT.join(''))]),
  });
  add('response.completed', { response: responseObject(true) });
  return frames;
}

export const RESPONSES_SSE = streamEvents();
