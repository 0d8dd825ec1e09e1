// Rebuilds one Response object from an OpenAI Responses event stream, for the request log. A
// stream that ended as the protocol ends one (response.completed, response.incomplete,
// response.failed) carries the whole Response in that last event: it is the record's answer and
// nothing else is parsed, the deltas before it being repeats of its text. A stream without one
// (cut, or a truncated log copy that lost it) is rebuilt from the item and delta events: output
// items by output_index, message parts with their text, function-call arguments, reasoning summaries,
// on the latest response snapshot (response.created / in_progress). An `error` event or a failed
// response's error is the record's error. Runs after the response, in the log writer.
import type { AssembledStream } from './assemble-chat.js';
import { type Payload, payloadsOf } from './assemble-messages.js';

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parse(data: string): Record<string, unknown> | undefined {
  try {
    return asRecord(JSON.parse(data));
  } catch {
    // a payload that is not JSON (a half event of a truncated copy, a [DONE]) carries nothing
    return undefined;
  }
}

const TYPE_PREFIX = '{"type":"';

/** An event's type without parsing it: its `event:` name, else a leading "type" field. */
function typeOf(payload: Payload): string | undefined {
  if (payload.event !== undefined) return payload.event;
  const { data } = payload;
  if (!data.startsWith(TYPE_PREFIX)) return undefined;
  const end = data.indexOf('"', TYPE_PREFIX.length);
  return end === -1 ? undefined : data.slice(TYPE_PREFIX.length, end);
}

/** The record's error from an `error` event: OpenAI's flat fields, or a nested `error` object. */
function errorOf(event: Record<string, unknown>): unknown {
  const nested = asRecord(event.error);
  if (nested !== undefined) return nested;
  const { type: _type, sequence_number: _sequence, ...fields } = event;
  return fields;
}

/**
 * The last `"usage":{…}` object in the text with token counts, for a stream whose terminal event was
 * cut from a truncated log copy but whose end (where the usage sits) was kept.
 */
function lastUsage(text: string): Record<string, unknown> | undefined {
  const marker = '"usage":{';
  let at = text.lastIndexOf(marker);
  while (at !== -1) {
    const start = at + marker.length - 1;
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34 /* " */) {
        i += 1;
        while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      } else if (c === 123 /* { */) depth += 1;
      else if (c === 125 /* } */) {
        depth -= 1;
        if (depth === 0) {
          const usage = parse(text.slice(start, i + 1));
          if (usage?.input_tokens !== undefined || usage?.output_tokens !== undefined) return usage;
          break;
        }
      }
    }
    at = at === 0 ? -1 : text.lastIndexOf(marker, at - 1);
  }
  return undefined;
}

interface ItemAcc {
  item: Record<string, unknown>;
  /** Set by output_item.done: the item as final, nothing to apply. */
  final: boolean;
  parts: Map<number, Record<string, unknown>>;
  summary: Map<number, Record<string, unknown>>;
  args: string | undefined;
}

/** The item a delta belongs to when its output_item.added was not in the copy: its likely shape. */
function impliedItem(type: string, itemId: unknown): Record<string, unknown> {
  const id = typeof itemId === 'string' ? { id: itemId } : {};
  if (type.startsWith('response.function_call_arguments'))
    return { ...id, type: 'function_call', status: 'in_progress', arguments: '' };
  if (type.startsWith('response.reasoning')) return { ...id, type: 'reasoning', summary: [] };
  return { ...id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
}

function indexOf(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

function finishItem(acc: ItemAcc): Record<string, unknown> {
  if (acc.final) return acc.item;
  const item = { ...acc.item };
  const byIndex = (parts: Map<number, Record<string, unknown>>) =>
    [...parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
  if (acc.parts.size > 0) item.content = byIndex(acc.parts);
  if (acc.summary.size > 0) item.summary = byIndex(acc.summary);
  if (acc.args !== undefined) item.arguments = acc.args;
  return item;
}

/** The Response as far as the events went, for a stream without its terminal event. */
function rebuild(payloads: Payload[]): Record<string, unknown> | undefined {
  const items = new Map<number, ItemAcc>();
  let head: Record<string, unknown> | undefined;

  const itemAt = (event: Record<string, unknown>, type: string): ItemAcc => {
    const index = indexOf(event.output_index);
    let acc = items.get(index);
    if (acc === undefined) {
      acc = {
        item: impliedItem(type, event.item_id),
        final: false,
        parts: new Map(),
        summary: new Map(),
        args: undefined,
      };
      items.set(index, acc);
    }
    return acc;
  };
  const partOf = (acc: ItemAcc, event: Record<string, unknown>, empty: Record<string, unknown>) => {
    const index = indexOf(event.content_index);
    let part = acc.parts.get(index);
    if (part === undefined) {
      part = { ...empty };
      acc.parts.set(index, part);
    }
    return part;
  };
  const summaryOf = (acc: ItemAcc, event: Record<string, unknown>) => {
    const index = indexOf(event.summary_index);
    let part = acc.summary.get(index);
    if (part === undefined) {
      part = { type: 'summary_text', text: '' };
      acc.summary.set(index, part);
    }
    return part;
  };
  const appendTo = (part: Record<string, unknown>, field: string, value: unknown) => {
    if (typeof value === 'string') part[field] = (typeof part[field] === 'string' ? part[field] : '') + value;
  };

  for (const payload of payloads) {
    const event = parse(payload.data);
    if (event === undefined) continue;
    const type = typeof event.type === 'string' ? event.type : (payload.event ?? '');
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued': {
        const response = asRecord(event.response);
        if (response !== undefined) head = { ...response };
        break;
      }
      case 'response.output_item.added': {
        const item = asRecord(event.item);
        const index = indexOf(event.output_index);
        if (item !== undefined)
          items.set(index, {
            item: { ...item },
            final: false,
            parts: new Map(),
            summary: new Map(),
            args: undefined,
          });
        break;
      }
      case 'response.output_item.done': {
        const item = asRecord(event.item);
        if (item !== undefined) {
          const acc = itemAt(event, type);
          acc.item = item;
          acc.final = true;
        }
        break;
      }
      case 'response.content_part.added':
      case 'response.content_part.done': {
        const part = asRecord(event.part);
        if (part !== undefined) itemAt(event, type).parts.set(indexOf(event.content_index), { ...part });
        break;
      }
      case 'response.output_text.delta':
        appendTo(
          partOf(itemAt(event, type), event, { type: 'output_text', annotations: [], text: '' }),
          'text',
          event.delta,
        );
        break;
      case 'response.output_text.done':
        if (typeof event.text === 'string')
          partOf(itemAt(event, type), event, { type: 'output_text', annotations: [] }).text = event.text;
        break;
      case 'response.output_text.annotation.added': {
        const part = partOf(itemAt(event, type), event, { type: 'output_text', annotations: [], text: '' });
        part.annotations = [...(Array.isArray(part.annotations) ? part.annotations : []), event.annotation];
        break;
      }
      case 'response.refusal.delta':
        appendTo(
          partOf(itemAt(event, type), event, { type: 'refusal', refusal: '' }),
          'refusal',
          event.delta,
        );
        break;
      case 'response.refusal.done':
        if (typeof event.refusal === 'string')
          partOf(itemAt(event, type), event, { type: 'refusal' }).refusal = event.refusal;
        break;
      case 'response.reasoning_text.delta':
        appendTo(
          partOf(itemAt(event, type), event, { type: 'reasoning_text', text: '' }),
          'text',
          event.delta,
        );
        break;
      case 'response.reasoning_text.done':
        if (typeof event.text === 'string')
          partOf(itemAt(event, type), event, { type: 'reasoning_text' }).text = event.text;
        break;
      case 'response.reasoning_summary_part.added':
      case 'response.reasoning_summary_part.done': {
        const part = asRecord(event.part);
        if (part !== undefined) itemAt(event, type).summary.set(indexOf(event.summary_index), { ...part });
        break;
      }
      case 'response.reasoning_summary_text.delta':
        appendTo(summaryOf(itemAt(event, type), event), 'text', event.delta);
        break;
      case 'response.reasoning_summary_text.done':
        if (typeof event.text === 'string') summaryOf(itemAt(event, type), event).text = event.text;
        break;
      case 'response.function_call_arguments.delta': {
        const acc = itemAt(event, type);
        if (typeof event.delta === 'string') acc.args = (acc.args ?? '') + event.delta;
        break;
      }
      case 'response.function_call_arguments.done': {
        const acc = itemAt(event, type);
        if (typeof event.arguments === 'string') acc.args = event.arguments;
        break;
      }
      default:
        // error events are read by the caller; built-in tool progress events add nothing the
        // output_item events do not carry.
        break;
    }
  }
  if (head === undefined && items.size === 0) return undefined;
  // OpenAI's key order (id, object first), whatever the snapshot held.
  const response: Record<string, unknown> = { id: undefined, object: 'response', ...head };
  if (response.id === undefined) delete response.id;
  response.output = [...items.entries()].sort(([a], [b]) => a - b).map(([, acc]) => finishItem(acc));
  return response;
}

export function assembleResponsesStream(chunks: readonly Buffer[]): AssembledStream {
  const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const text = whole.toString('utf8');
  const payloads = payloadsOf(text);

  // From the end: the last terminal event with a Response in it, and any error event.
  let response: Record<string, unknown> | undefined;
  let error: unknown;
  let done = false;
  for (let i = payloads.length - 1; i >= 0; i--) {
    const payload = payloads[i]!;
    const type = typeOf(payload);
    if (type === 'error' || (type === undefined && payload.data.includes('"error"'))) {
      const event = parse(payload.data);
      if (event !== undefined && (type === 'error' || event.error !== undefined)) error ??= errorOf(event);
      continue;
    }
    if (response !== undefined || type === undefined || !TERMINAL.has(type)) continue;
    const terminal = asRecord(parse(payload.data)?.response);
    if (terminal === undefined) continue;
    response = terminal;
    done = true;
    if (type === 'response.failed') error ??= asRecord(terminal.error) ?? { message: 'response failed' };
  }

  if (response === undefined) response = rebuild(payloads);
  let usage = asRecord(response?.usage);
  if (usage === undefined && !done) {
    usage = lastUsage(text);
    if (usage !== undefined && response !== undefined) response.usage = usage;
  }
  return { completion: response, usage, error, done };
}
