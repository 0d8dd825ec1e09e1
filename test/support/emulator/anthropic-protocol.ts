import { splitFragments, splitWords } from './openai-protocol.js';
import { type AnswerContext, isRecord, type Protocol, pathEndsWith, type Reply } from './protocol.js';
import { sseData } from './sse.js';
import type { ChatBehaviour, RecordedRequest } from './types.js';

/**
 * The Anthropic Messages protocol (shared/reference/wire-formats.md §2), as strict as the real API
 * about what a translator gets wrong most easily: unknown top-level fields, a missing max_tokens,
 * system text inside `messages`, turns that do not alternate, tool results without their tool_use.
 */

const KNOWN_FIELDS = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'stream',
  'service_tier',
  'container',
  'inference_geo',
  'cache_control',
]);

const DEFAULT_USAGE = { input_tokens: 10, output_tokens: 5 };

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function anthropicErrorBody(status: number, message: string): unknown {
  return {
    type: 'error',
    error: { type: errorType(status), message },
    request_id: 'req_emu_error',
  };
}

function refuse(message: string): Reply {
  return { type: 'json', status: 400, headers: {}, body: anthropicErrorBody(400, message) };
}

function toolUseIds(content: unknown): Set<unknown> {
  const ids = new Set<unknown>();
  if (Array.isArray(content)) {
    for (const block of content) if (isRecord(block) && block.type === 'tool_use') ids.add(block.id);
  }
  return ids;
}

/** The first thing the real API would refuse in this body, or undefined. */
function problemWith(body: Record<string, unknown>): string | undefined {
  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(field)) return `${field}: Extra inputs are not permitted`;
  }
  if (typeof body.model !== 'string') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 1))
    return 'temperature: range: 0..1';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  let previous: Record<string, unknown> | undefined;
  for (const [index, message] of body.messages.entries()) {
    if (!isRecord(message)) return `messages.${index}: Input should be an object`;
    if (message.role !== 'user' && message.role !== 'assistant') {
      return `messages.${index}.role: Input should be 'user' or 'assistant'`;
    }
    if (previous?.role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`;
    }
    if (Array.isArray(message.content)) {
      const allowed = toolUseIds(previous?.content);
      for (const block of message.content) {
        if (!isRecord(block)) return `messages.${index}.content: Input should be an object`;
        if (block.type === 'text' && block.text === '')
          return `messages.${index}: text content blocks must be non-empty`;
        if (block.type === 'tool_result' && !allowed.has(block.tool_use_id)) {
          return `messages.${index}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
      }
    }
    previous = message;
  }
  return undefined;
}

function stopReasonOf(behaviour: ChatBehaviour, hasTools: boolean): string {
  // Scripts speak OpenAI's finish reasons; Anthropic's own names pass through as given.
  const mapped: Record<string, string> = {
    stop: 'end_turn',
    length: 'max_tokens',
    tool_calls: 'tool_use',
    content_filter: 'refusal',
  };
  const reason = behaviour.finishReason;
  if (reason === undefined) return hasTools ? 'tool_use' : 'end_turn';
  return mapped[reason] ?? reason;
}

interface MessageAnswer {
  id: string;
  model: string;
  text: string | null;
  tools: Array<{ id: string; name: string; input: unknown; json: string }>;
  stopReason: string;
  usage: { input_tokens: number; output_tokens: number };
}

function plan(body: Record<string, unknown>, ctx: AnswerContext): MessageAnswer {
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const { behaviour } = ctx;
  const tools = (behaviour.toolCalls ?? []).map((call) => ({
    id: call.id ?? `toolu_emu_${ctx.next('tool-call')}`,
    name: call.name,
    input: JSON.parse(call.arguments) as unknown,
    json: call.arguments,
  }));
  const fallback = tools.length > 0 ? null : `Hello from emulator (model ${model})`;
  const usage = behaviour.usage;
  return {
    id: `msg_emu_${ctx.next('message')}`,
    model,
    text: behaviour.content ?? fallback,
    tools,
    stopReason: stopReasonOf(behaviour, tools.length > 0),
    usage:
      usage === undefined
        ? DEFAULT_USAGE
        : { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens },
  };
}

function messageJson(answer: MessageAnswer): unknown {
  const content: unknown[] = [];
  if (answer.text !== null) content.push({ type: 'text', text: answer.text });
  for (const tool of answer.tools) {
    content.push({ type: 'tool_use', id: tool.id, name: tool.name, input: tool.input });
  }
  return {
    id: answer.id,
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content,
    stop_reason: answer.stopReason,
    stop_sequence: null,
    usage: {
      ...answer.usage,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: 'standard',
    },
  };
}

function messageEvents(answer: MessageAnswer): string[] {
  const event = (data: Record<string, unknown>): string => sseData(data, String(data.type));
  const start: Record<string, unknown> = {
    ...(messageJson(answer) as Record<string, unknown>),
    content: [],
    stop_reason: null,
    usage: { input_tokens: answer.usage.input_tokens, output_tokens: 1 },
  };
  const events = [event({ type: 'message_start', message: start }), event({ type: 'ping' })];
  let index = 0;
  if (answer.text !== null) {
    events.push(event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    for (const text of splitWords(answer.text)) {
      events.push(event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }));
    }
    events.push(event({ type: 'content_block_stop', index }));
    index += 1;
  }
  for (const tool of answer.tools) {
    const block = { type: 'tool_use', id: tool.id, name: tool.name, input: {} };
    events.push(event({ type: 'content_block_start', index, content_block: block }));
    for (const partial_json of splitFragments(tool.json)) {
      events.push(
        event({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }),
      );
    }
    events.push(event({ type: 'content_block_stop', index }));
    index += 1;
  }
  events.push(
    event({
      type: 'message_delta',
      delta: { stop_reason: answer.stopReason, stop_sequence: null },
      usage: { output_tokens: answer.usage.output_tokens },
    }),
    event({ type: 'message_stop' }),
  );
  return events;
}

function headers(ctx: AnswerContext): Record<string, string> {
  return { 'request-id': `req_emu_${ctx.next('request')}` };
}

function messages(req: RecordedRequest, ctx: AnswerContext): Reply {
  if (!isRecord(req.body)) return refuse('The request body is not valid JSON.');
  const problem = problemWith(req.body);
  if (problem !== undefined) return refuse(problem);
  const answer = plan(req.body, ctx);
  if (req.body.stream !== true) {
    return { type: 'json', status: 200, headers: headers(ctx), body: messageJson(answer) };
  }
  return {
    type: 'sse',
    status: 200,
    headers: { ...headers(ctx), 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    events: messageEvents(answer),
  };
}

/** Every whitespace-separated word of every string in a value (object keys left out). */
export function wordsIn(value: unknown): number {
  if (typeof value === 'string') return value.split(/\s+/).filter((word) => word !== '').length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + wordsIn(item), 0);
  if (isRecord(value)) return Object.values(value).reduce<number>((sum, item) => sum + wordsIn(item), 0);
  return 0;
}

/**
 * A deterministic count: the words of system, messages and tools (role and type names included)
 * plus 7, so a test can work out the number the upstream gave.
 */
export function emulatedTokenCount(body: Record<string, unknown>): number {
  return wordsIn(body.system) + wordsIn(body.messages) + wordsIn(body.tools) + 7;
}

/** POST /v1/messages/count_tokens: refuses what the real API refuses first, else the count. */
function countTokens(req: RecordedRequest, ctx: AnswerContext): Reply {
  if (!isRecord(req.body)) return refuse('The request body is not valid JSON.');
  if (typeof req.body.model !== 'string') return refuse('model: Field required');
  if (!Array.isArray(req.body.messages)) return refuse('messages: Field required');
  for (const [index, message] of req.body.messages.entries()) {
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) {
      return refuse(`messages.${index}.role: Input should be 'user' or 'assistant'`);
    }
  }
  const body = { input_tokens: emulatedTokenCount(req.body) };
  return { type: 'json', status: 200, headers: headers(ctx), body };
}

export const anthropicProtocol: Protocol = {
  route(method, pathname) {
    if (method !== 'POST') return undefined;
    if (pathEndsWith(pathname, '/messages/count_tokens')) return countTokens;
    return pathEndsWith(pathname, '/messages') ? messages : undefined;
  },
  errorBody: anthropicErrorBody,
};
