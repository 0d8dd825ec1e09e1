// Rebuilds one chat.completion from the chunks of an OpenAI stream, for the request log: content,
// tool calls (arguments joined per index), finish reasons and usage. Runs after the response.
import { SseParser } from './sse-parser.js';

interface ToolCallAcc {
  id?: string;
  type: string;
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  index: number;
  role: string;
  content: string | null;
  refusal: string | null;
  toolCalls: Map<number, ToolCallAcc>;
  finishReason: string | null;
}

export interface AssembledStream {
  completion: Record<string, unknown> | undefined;
  usage: unknown;
  error: unknown;
  done: boolean;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function choiceAcc(choices: Map<number, ChoiceAcc>, index: number): ChoiceAcc {
  let acc = choices.get(index);
  if (acc === undefined) {
    acc = {
      index,
      role: 'assistant',
      content: null,
      refusal: null,
      toolCalls: new Map(),
      finishReason: null,
    };
    choices.set(index, acc);
  }
  return acc;
}

function applyDelta(acc: ChoiceAcc, delta: Record<string, unknown>): void {
  if (typeof delta.role === 'string') acc.role = delta.role;
  if (typeof delta.content === 'string') acc.content = (acc.content ?? '') + delta.content;
  if (typeof delta.refusal === 'string') acc.refusal = (acc.refusal ?? '') + delta.refusal;
  if (!Array.isArray(delta.tool_calls)) return;
  for (const raw of delta.tool_calls) {
    const call = asRecord(raw);
    if (call === undefined) continue;
    const index = typeof call.index === 'number' ? call.index : acc.toolCalls.size;
    let tool = acc.toolCalls.get(index);
    if (tool === undefined) {
      tool = { type: 'function', function: { name: '', arguments: '' } };
      acc.toolCalls.set(index, tool);
    }
    if (typeof call.id === 'string') tool.id = call.id;
    if (typeof call.type === 'string') tool.type = call.type;
    const fn = asRecord(call.function);
    if (typeof fn?.name === 'string') tool.function.name += fn.name;
    if (typeof fn?.arguments === 'string') tool.function.arguments += fn.arguments;
  }
}

/**
 * Every data payload parsed: all in one JSON.parse of an array when they are all JSON (one call
 * instead of one per event, a measured saving on the log path), else one by one, skipping the bad.
 */
function parsePayloads(payloads: string[]): unknown[] {
  if (payloads.length === 0) return [];
  try {
    return JSON.parse(`[${payloads.join(',')}]`) as unknown[];
  } catch {
    const parsed: unknown[] = [];
    for (const payload of payloads) {
      try {
        parsed.push(JSON.parse(payload));
      } catch {
        // a payload that is not JSON carries nothing to assemble
      }
    }
    return parsed;
  }
}

/**
 * The data payloads of a whole stream. Most streams are plain `data: …` events split by blank
 * lines (LF only, no comments or other fields): those are cut with indexOf, several times faster
 * than the general parser, which takes anything else.
 */
function dataPayloads(text: string): string[] {
  const payloads: string[] = [];
  if (text.indexOf('\r') === -1) {
    let start = 0;
    let plain = true;
    while (start < text.length) {
      let end = text.indexOf('\n\n', start);
      if (end === -1) end = text.length;
      const block = text.slice(start, end);
      if (!block.startsWith('data: ') || block.indexOf('\n') !== -1) {
        plain = false;
        break;
      }
      payloads.push(block.slice(6));
      start = end + 2;
    }
    if (plain) return payloads;
    payloads.length = 0;
  }
  const parser = new SseParser();
  const events = parser.push(text);
  events.push(...parser.end());
  for (const event of events) payloads.push(event.data);
  return payloads;
}

export function assembleChatStream(chunks: readonly Buffer[]): AssembledStream {
  // The whole stream is here: decode it once rather than chunk by chunk.
  const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const choices = new Map<number, ChoiceAcc>();
  let head: Record<string, unknown> | undefined;
  let usage: unknown;
  let error: unknown;
  let done = false;

  const payloads: string[] = [];
  for (const data of dataPayloads(whole.toString('utf8'))) {
    if (data === '[DONE]') done = true;
    else payloads.push(data);
  }
  for (const parsed of parsePayloads(payloads)) {
    const chunk = asRecord(parsed);
    if (chunk === undefined) continue;
    if (chunk.error !== undefined) {
      error = chunk.error;
      continue;
    }
    head ??= chunk;
    if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) continue;
    for (const rawChoice of chunk.choices) {
      const choice = asRecord(rawChoice);
      if (choice === undefined) continue;
      const acc = choiceAcc(choices, typeof choice.index === 'number' ? choice.index : 0);
      const delta = asRecord(choice.delta);
      if (delta !== undefined) applyDelta(acc, delta);
      if (typeof choice.finish_reason === 'string') acc.finishReason = choice.finish_reason;
    }
  }

  const completion =
    head === undefined
      ? undefined
      : {
          id: head.id,
          object: 'chat.completion',
          created: head.created,
          model: head.model,
          choices: [...choices.values()]
            .sort((a, b) => a.index - b.index)
            .map((acc) => {
              const message: Record<string, unknown> = { role: acc.role, content: acc.content };
              if (acc.refusal !== null) message.refusal = acc.refusal;
              if (acc.toolCalls.size > 0) {
                message.tool_calls = [...acc.toolCalls.entries()]
                  .sort(([a], [b]) => a - b)
                  .map(([, call]) => call);
              }
              return { index: acc.index, message, finish_reason: acc.finishReason };
            }),
          ...(usage === undefined ? {} : { usage }),
        };
  return { completion, usage, error, done };
}
