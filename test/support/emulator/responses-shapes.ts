import { splitFragments, splitWords } from './openai-protocol.js';
import type { AnswerContext } from './protocol.js';
import type { ResponseItem } from './responses-store.js';
import { sseData } from './sse.js';
import type { UsageSpec } from './types.js';

/**
 * The answer of the emulated OpenAI Responses API, built from a chat behaviour: the Response object
 * (key order and defaults as OpenAI sends them) and its event stream (`event:` + `data:` with
 * `sequence_number`), shaped after a recorded o4-mini stream and the official SDK's types.
 */

// A fixed timestamp keeps answers reproducible between runs.
const CREATED_AT = 1_700_000_000;
const DEFAULT_USAGE: UsageSpec = { prompt_tokens: 10, completion_tokens: 5 };

export interface ResponsesAnswer {
  id: string;
  /** The request body, for the fields a Response echoes. */
  request: Record<string, unknown>;
  model: string;
  /** The final output items: reasoning, then the message, then function calls. */
  output: ResponseItem[];
  status: 'completed' | 'incomplete';
  incompleteReason: string | undefined;
  usage: Record<string, unknown>;
}

function usageOf(spec: UsageSpec | undefined): Record<string, unknown> {
  const usage = spec ?? DEFAULT_USAGE;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}

/** Chat finish reasons in scripts: 'length' and 'content_filter' end a response as incomplete. */
const INCOMPLETE_REASONS: Record<string, string> = {
  length: 'max_output_tokens',
  content_filter: 'content_filter',
};

function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

export function planResponse(request: Record<string, unknown>, ctx: AnswerContext): ResponsesAnswer {
  const model = typeof request.model === 'string' ? request.model : 'unknown';
  const { behaviour } = ctx;
  const incompleteReason =
    behaviour.finishReason === undefined ? undefined : INCOMPLETE_REASONS[behaviour.finishReason];
  const output: ResponseItem[] = [];
  if (behaviour.reasoning !== undefined) {
    output.push({
      id: `rs_emu_${ctx.next('rs')}`,
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: behaviour.reasoning }],
    });
  }
  const calls = behaviour.toolCalls ?? [];
  // A tool-calling turn has no message unless the script asks for both.
  const text = behaviour.content ?? (calls.length > 0 ? undefined : `Hello from emulator (model ${model})`);
  if (text !== undefined) {
    output.push({
      id: `msg_emu_${ctx.next('msg')}`,
      type: 'message',
      status: incompleteReason === undefined ? 'completed' : 'incomplete',
      content: [outputText(text)],
      role: 'assistant',
    });
  }
  for (const call of calls) {
    output.push({
      id: `fc_emu_${ctx.next('fc')}`,
      type: 'function_call',
      status: 'completed',
      arguments: call.arguments,
      call_id: call.id ?? `call_emu_${ctx.next('tool-call')}`,
      name: call.name,
    });
  }
  return {
    id: `resp_emu_${ctx.next('resp')}`,
    request,
    model,
    output,
    status: incompleteReason === undefined ? 'completed' : 'incomplete',
    incompleteReason,
    usage: usageOf(behaviour.usage),
  };
}

function echo(request: Record<string, unknown>, field: string, fallback: unknown): unknown {
  const value = request[field];
  return value === undefined || value === null ? fallback : value;
}

/** The Response object; `inProgress` gives the one response.created / in_progress carry. */
export function responseObject(answer: ResponsesAnswer, inProgress = false): Record<string, unknown> {
  const { request } = answer;
  const reasoning =
    typeof request.reasoning === 'object' && request.reasoning !== null ? request.reasoning : {};
  return {
    id: answer.id,
    object: 'response',
    created_at: CREATED_AT,
    status: inProgress ? 'in_progress' : answer.status,
    background: false,
    error: null,
    incomplete_details:
      inProgress || answer.incompleteReason === undefined ? null : { reason: answer.incompleteReason },
    instructions: echo(request, 'instructions', null),
    max_output_tokens: echo(request, 'max_output_tokens', null),
    max_tool_calls: echo(request, 'max_tool_calls', null),
    model: answer.model,
    output: inProgress ? [] : answer.output,
    parallel_tool_calls: echo(request, 'parallel_tool_calls', true),
    previous_response_id: echo(request, 'previous_response_id', null),
    prompt_cache_key: echo(request, 'prompt_cache_key', null),
    reasoning: { effort: null, summary: null, ...reasoning },
    safety_identifier: echo(request, 'safety_identifier', null),
    service_tier: 'default',
    store: request.store !== false,
    temperature: echo(request, 'temperature', 1),
    text: echo(request, 'text', { format: { type: 'text' }, verbosity: 'medium' }),
    tool_choice: echo(request, 'tool_choice', 'auto'),
    tools: echo(request, 'tools', []),
    top_logprobs: echo(request, 'top_logprobs', 0),
    top_p: echo(request, 'top_p', 1),
    truncation: echo(request, 'truncation', 'disabled'),
    usage: inProgress ? null : answer.usage,
    user: echo(request, 'user', null),
    metadata: echo(request, 'metadata', {}),
  };
}

/** Collects events as complete SSE frames, numbering them as OpenAI does. */
class EventList {
  readonly frames: string[] = [];

  add(type: string, fields: Record<string, unknown>): void {
    this.frames.push(sseData({ type, sequence_number: this.frames.length, ...fields }, type));
  }
}

function reasoningEvents(events: EventList, item: ResponseItem, outputIndex: number): void {
  const summary = Array.isArray(item.summary) ? (item.summary as Array<{ text: string }>) : [];
  events.add('response.output_item.added', { output_index: outputIndex, item: { ...item, summary: [] } });
  summary.forEach(({ text }, summaryIndex) => {
    const at = { item_id: item.id, output_index: outputIndex, summary_index: summaryIndex };
    events.add('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } });
    for (const delta of splitWords(text))
      events.add('response.reasoning_summary_text.delta', { ...at, delta });
    events.add('response.reasoning_summary_text.done', { ...at, text });
    events.add('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text } });
  });
  events.add('response.output_item.done', { output_index: outputIndex, item });
}

function messageEvents(events: EventList, item: ResponseItem, outputIndex: number): void {
  const parts = Array.isArray(item.content) ? (item.content as Array<{ text: string }>) : [];
  const added = { ...item, status: 'in_progress', content: [] };
  events.add('response.output_item.added', { output_index: outputIndex, item: added });
  parts.forEach((part, contentIndex) => {
    const at = { item_id: item.id, output_index: outputIndex, content_index: contentIndex };
    events.add('response.content_part.added', { ...at, part: outputText('') });
    for (const delta of splitWords(part.text)) {
      events.add('response.output_text.delta', { ...at, delta, logprobs: [] });
    }
    events.add('response.output_text.done', { ...at, text: part.text, logprobs: [] });
    events.add('response.content_part.done', { ...at, part });
  });
  events.add('response.output_item.done', { output_index: outputIndex, item });
}

function functionCallEvents(events: EventList, item: ResponseItem, outputIndex: number): void {
  const args = typeof item.arguments === 'string' ? item.arguments : '';
  const added = { ...item, status: 'in_progress', arguments: '' };
  events.add('response.output_item.added', { output_index: outputIndex, item: added });
  const at = { item_id: item.id, output_index: outputIndex };
  for (const delta of splitFragments(args))
    events.add('response.function_call_arguments.delta', { ...at, delta });
  events.add('response.function_call_arguments.done', { ...at, name: item.name, arguments: args });
  events.add('response.output_item.done', { output_index: outputIndex, item });
}

/** The whole stream: created, in_progress, each item's events, then completed (or incomplete). */
export function responseEvents(answer: ResponsesAnswer): string[] {
  const events = new EventList();
  events.add('response.created', { response: responseObject(answer, true) });
  events.add('response.in_progress', { response: responseObject(answer, true) });
  answer.output.forEach((item, outputIndex) => {
    if (item.type === 'reasoning') reasoningEvents(events, item, outputIndex);
    else if (item.type === 'message') messageEvents(events, item, outputIndex);
    else functionCallEvents(events, item, outputIndex);
  });
  const final = answer.status === 'completed' ? 'response.completed' : 'response.incomplete';
  events.add(final, { response: responseObject(answer) });
  return events.frames;
}
