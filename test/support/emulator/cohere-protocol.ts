import { splitFragments, splitWords } from './openai-protocol.js';
import { type AnswerContext, isRecord, type Protocol, pathEndsWith, type Reply } from './protocol.js';
import { sseData } from './sse.js';
import type { ChatBehaviour, RecordedRequest } from './types.js';

/**
 * Cohere's v2 chat API (shared/reference/wire-formats.md §4.1), as strict as the real service about
 * what a translator gets wrong most easily: OpenAI-only top-level fields (top_p, stop, n, user…),
 * a missing model or messages, roles it does not know, a lower-case or named tool_choice, and tools
 * without parameters. Its refusals are Cohere's `{"id","message"}` errors.
 */

const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'tools',
  'strict_tools',
  'documents',
  'citation_options',
  'response_format',
  'safety_mode',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'k',
  'p',
  'logprobs',
  'tool_choice',
  'thinking',
  'priority',
  'stream',
]);

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

const DEFAULT_USAGE = { input_tokens: 10, output_tokens: 5 };

export function cohereErrorBody(_status: number, message: string): unknown {
  return { id: 'emu-error', message };
}

function refuse(message: string): Reply {
  return { type: 'json', status: 400, headers: {}, body: cohereErrorBody(400, message) };
}

/** The first thing the real API would refuse in this body, or undefined. */
function problemWith(body: Record<string, unknown>): string | undefined {
  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(field))
      return `invalid request: unknown field: parameter ${field} is not a valid field`;
  }
  if (typeof body.model !== 'string') return 'invalid request: model must be a string';
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return 'invalid request: messages must be a non-empty array';
  for (const [index, message] of body.messages.entries()) {
    if (!isRecord(message)) return `invalid request: messages[${index}] must be an object`;
    if (!ROLES.has(String(message.role))) {
      return `invalid request: messages[${index}].role must be one of system, user, assistant, tool`;
    }
    if (message.role === 'tool' && typeof message.tool_call_id !== 'string')
      return `invalid request: messages[${index}].tool_call_id is required`;
  }
  if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 1))
    return 'invalid request: temperature must be between 0 and 1';
  if (body.tool_choice !== undefined && body.tool_choice !== 'REQUIRED' && body.tool_choice !== 'NONE')
    return 'invalid request: tool_choice must be one of REQUIRED, NONE';
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'invalid request: tools must be an array';
    for (const [index, tool] of body.tools.entries()) {
      const fn = isRecord(tool) ? tool.function : undefined;
      if (!isRecord(tool) || tool.type !== 'function' || !isRecord(fn) || !isRecord(fn.parameters))
        return `invalid request: tools[${index}] must be a function with parameters`;
    }
  }
  return undefined;
}

function finishReasonOf(behaviour: ChatBehaviour, hasTools: boolean): string {
  // Scripts speak OpenAI's finish reasons; Cohere's own names pass through as given.
  const mapped: Record<string, string> = {
    stop: 'COMPLETE',
    length: 'MAX_TOKENS',
    tool_calls: 'TOOL_CALL',
  };
  const reason = behaviour.finishReason;
  if (reason === undefined) return hasTools ? 'TOOL_CALL' : 'COMPLETE';
  return mapped[reason] ?? reason;
}

interface ChatAnswer {
  id: string;
  /** With tool calls, the scripted content is Cohere's tool plan. */
  text: string | null;
  tools: Array<{ id: string; name: string; json: string }>;
  finishReason: string;
  usage: { input_tokens: number; output_tokens: number };
}

function plan(body: Record<string, unknown>, ctx: AnswerContext): ChatAnswer {
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const { behaviour } = ctx;
  const tools = (behaviour.toolCalls ?? []).map((call) => ({
    id: call.id ?? `${call.name}_emu${ctx.next('tool-call')}`,
    name: call.name,
    json: call.arguments,
  }));
  const fallback = tools.length > 0 ? null : `Hello from emulator (model ${model})`;
  const usage = behaviour.usage;
  return {
    id: `cohere-emu-${ctx.next('chat')}`,
    text: behaviour.content ?? fallback,
    tools,
    finishReason: finishReasonOf(behaviour, tools.length > 0),
    usage:
      usage === undefined
        ? DEFAULT_USAGE
        : { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens },
  };
}

function usageJson(answer: ChatAnswer): unknown {
  return { billed_units: answer.usage, tokens: answer.usage };
}

function chatJson(answer: ChatAnswer): unknown {
  const message: Record<string, unknown> = { role: 'assistant' };
  if (answer.tools.length > 0) {
    if (answer.text !== null) message.tool_plan = answer.text;
    message.tool_calls = answer.tools.map((tool) => ({
      id: tool.id,
      type: 'function',
      function: { name: tool.name, arguments: tool.json },
    }));
  } else if (answer.text !== null) {
    message.content = [{ type: 'text', text: answer.text }];
  }
  return { id: answer.id, message, finish_reason: answer.finishReason, usage: usageJson(answer) };
}

function chatEvents(answer: ChatAnswer): string[] {
  const event = (data: Record<string, unknown>): string => sseData(data, String(data.type));
  const events = [event({ type: 'message-start', id: answer.id, delta: { message: { role: 'assistant' } } })];
  if (answer.tools.length > 0) {
    for (const tool_plan of splitWords(answer.text ?? '')) {
      events.push(event({ type: 'tool-plan-delta', delta: { message: { tool_plan } } }));
    }
    for (const [index, tool] of answer.tools.entries()) {
      const head = { id: tool.id, type: 'function', function: { name: tool.name, arguments: '' } };
      events.push(event({ type: 'tool-call-start', index, delta: { message: { tool_calls: head } } }));
      for (const args of splitFragments(tool.json)) {
        const tool_calls = { function: { arguments: args } };
        events.push(event({ type: 'tool-call-delta', index, delta: { message: { tool_calls } } }));
      }
      events.push(event({ type: 'tool-call-end', index }));
    }
  } else if (answer.text !== null) {
    const start = { message: { content: { type: 'text', text: '' } } };
    events.push(event({ type: 'content-start', index: 0, delta: start }));
    for (const text of splitWords(answer.text)) {
      events.push(event({ type: 'content-delta', index: 0, delta: { message: { content: { text } } } }));
    }
    events.push(event({ type: 'content-end', index: 0 }));
  }
  events.push(
    event({ type: 'message-end', delta: { finish_reason: answer.finishReason, usage: usageJson(answer) } }),
  );
  return events;
}

function chat(req: RecordedRequest, ctx: AnswerContext): Reply {
  if (!isRecord(req.body)) return refuse('invalid request: the body is not valid JSON');
  const problem = problemWith(req.body);
  if (problem !== undefined) return refuse(problem);
  const answer = plan(req.body, ctx);
  if (req.body.stream !== true) return { type: 'json', status: 200, headers: {}, body: chatJson(answer) };
  return {
    type: 'sse',
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    events: chatEvents(answer),
  };
}

export const cohereProtocol: Protocol = {
  route(method, pathname) {
    return method === 'POST' && pathEndsWith(pathname, '/v2/chat') ? chat : undefined;
  },
  errorBody: cohereErrorBody,
};
