// Rebuilds one Anthropic Message from the events of a Messages stream, for the request log: the
// content blocks in index order (text, tool_use with its input parsed from the joined
// input_json_delta fragments, thinking with its signature, and every other block as its
// content_block_start gave it), stop_reason, the usage (message_start's, then message_delta's
// cumulative counts over it) and an `error` event. Runs after the response, in the log writer.
import { type AssembledStream, closingQuote, decodeStringBody } from './assemble-chat.js';
import { SseParser } from './sse-parser.js';

interface BlockAcc {
  index: number;
  /** The block as content_block_start gave it. */
  start: Record<string, unknown>;
  text: string | undefined;
  thinking: string | undefined;
  signature: string | undefined;
  /** The input_json_delta fragments, joined. */
  json: string | undefined;
  citations: unknown[] | undefined;
}

type DeltaField = 'text' | 'thinking' | 'signature' | 'json';

/** The delta types that carry one string, and where it goes. */
const STRING_DELTAS: Record<string, { key: string; field: DeltaField }> = {
  text_delta: { key: 'text', field: 'text' },
  thinking_delta: { key: 'thinking', field: 'thinking' },
  signature_delta: { key: 'signature', field: 'signature' },
  input_json_delta: { key: 'partial_json', field: 'json' },
};

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A delta for a block whose start the log never saw (a truncated copy): its likely type. */
function impliedStart(deltaType: unknown): Record<string, unknown> {
  switch (deltaType) {
    case 'input_json_delta':
      return { type: 'tool_use', input: {} };
    case 'thinking_delta':
    case 'signature_delta':
      return { type: 'thinking', thinking: '', signature: '' };
    default:
      return { type: 'text', text: '' };
  }
}

function newBlock(index: number, start: Record<string, unknown>): BlockAcc {
  return {
    index,
    start,
    text: undefined,
    thinking: undefined,
    signature: undefined,
    json: undefined,
    citations: undefined,
  };
}

function append(block: BlockAcc, field: DeltaField, value: string): void {
  block[field] = (block[field] ?? '') + value;
}

/** The finished block: its start with the deltas applied. */
function finishBlock(acc: BlockAcc): Record<string, unknown> {
  const block = { ...acc.start };
  const text = acc.text;
  if (text !== undefined) block.text = (typeof block.text === 'string' ? block.text : '') + text;
  if (acc.thinking !== undefined)
    block.thinking = (typeof block.thinking === 'string' ? block.thinking : '') + acc.thinking;
  if (acc.signature !== undefined)
    block.signature = (typeof block.signature === 'string' ? block.signature : '') + acc.signature;
  if (acc.citations !== undefined)
    block.citations = [...(Array.isArray(block.citations) ? block.citations : []), ...acc.citations];
  if (acc.json !== undefined && acc.json !== '') {
    try {
      block.input = JSON.parse(acc.json);
    } catch {
      // Fragments that do not join into JSON (a cut stream): kept as the text they were.
      block.input = acc.json;
    }
  }
  return block;
}

/**
 * A string delta's text split around its string: `prefix` ends with the string's opening quote,
 * `suffix` starts with its closing one. A later payload with the same prefix and suffix is the
 * same event (same block, same delta type) with another string in that one place, so it is read
 * without a JSON.parse; most events of a stream are such deltas.
 */
interface DeltaTemplate {
  prefix: string;
  suffix: string;
  block: BlockAcc;
  field: DeltaField;
}

/** Templates of the last few blocks: text and thinking deltas alternate with a tool's input. */
const TEMPLATES_MAX = 4;

function templateOf(
  payload: string,
  event: Record<string, unknown>,
  delta: Record<string, unknown>,
  key: string,
  block: BlockAcc,
  field: DeltaField,
): DeltaTemplate | undefined {
  for (const name in event) if (name !== 'type' && name !== 'index' && name !== 'delta') return undefined;
  for (const name in delta) if (name !== 'type' && name !== key) return undefined;
  const marker = `"${key}":"`;
  const at = payload.indexOf(marker);
  if (at === -1) return undefined;
  const start = at + marker.length;
  const end = closingQuote(payload, start);
  if (end === -1 || decodeStringBody(payload.slice(start, end)) !== delta[key]) return undefined;
  return { prefix: payload.slice(0, start), suffix: payload.slice(end), block, field };
}

/** The string of a payload that fits the template, else undefined. */
function templateString(template: DeltaTemplate, payload: string): string | undefined {
  const { prefix, suffix } = template;
  if (payload.length < prefix.length + suffix.length) return undefined;
  const bodyEnd = payload.length - suffix.length;
  if (payload.slice(0, prefix.length) !== prefix || payload.slice(bodyEnd) !== suffix) return undefined;
  return decodeStringBody(payload.slice(prefix.length, bodyEnd));
}

export interface Payload {
  event: string | undefined;
  data: string;
}

/**
 * The events of a whole stream. Most are `event: name` + one `data: …` line, split by blank lines
 * (LF only, no comments or other fields): those are cut with indexOf; the general parser takes
 * anything else. The Responses assembler reads its named events with it too.
 */
export function payloadsOf(text: string): Payload[] {
  const payloads: Payload[] = [];
  if (text.indexOf('\r') === -1) {
    let start = 0;
    let plain = true;
    while (start < text.length) {
      let end = text.indexOf('\n\n', start);
      if (end === -1) end = text.length;
      let block = text.slice(start, end);
      let event: string | undefined;
      if (block.startsWith('event: ')) {
        const lineEnd = block.indexOf('\n');
        if (lineEnd === -1) {
          plain = false;
          break;
        }
        event = block.slice(7, lineEnd);
        block = block.slice(lineEnd + 1);
      }
      if (!block.startsWith('data: ') || block.indexOf('\n') !== -1) {
        plain = false;
        break;
      }
      payloads.push({ event, data: block.slice(6) });
      start = end + 2;
    }
    if (plain) return payloads;
    payloads.length = 0;
  }
  const parser = new SseParser();
  const events = parser.push(text);
  events.push(...parser.end());
  for (const event of events) payloads.push({ event: event.event, data: event.data });
  return payloads;
}

/** Counts of a later usage over earlier ones; a null never hides a count already known. */
function mergeUsage(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const key in from) {
    const value = from[key];
    if (value === null && into[key] !== undefined && into[key] !== null) continue;
    into[key] = value;
  }
}

export function assembleMessagesStream(chunks: readonly Buffer[]): AssembledStream {
  const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const blocks = new Map<number, BlockAcc>();
  let head: Record<string, unknown> | undefined;
  let usage: Record<string, unknown> | undefined;
  let error: unknown;
  let done = false;
  const templates: DeltaTemplate[] = [];

  const blockAt = (index: number, deltaType: unknown): BlockAcc => {
    let block = blocks.get(index);
    if (block === undefined) {
      block = newBlock(index, impliedStart(deltaType));
      blocks.set(index, block);
    }
    return block;
  };

  payloads: for (const { event: eventName, data } of payloadsOf(whole.toString('utf8'))) {
    for (const template of templates) {
      const value = templateString(template, data);
      if (value !== undefined) {
        append(template.block, template.field, value);
        continue payloads;
      }
    }
    let event: Record<string, unknown> | undefined;
    try {
      event = asRecord(JSON.parse(data));
    } catch {
      // a payload that is not JSON carries nothing to assemble
    }
    if (event === undefined) continue;
    const type = typeof event.type === 'string' ? event.type : eventName;
    switch (type) {
      case 'message_start': {
        const message = asRecord(event.message);
        if (message === undefined) break;
        head = { ...message };
        const startUsage = asRecord(message.usage);
        if (startUsage !== undefined) {
          usage ??= {};
          mergeUsage(usage, startUsage);
        }
        break;
      }
      case 'content_block_start': {
        const index = typeof event.index === 'number' ? event.index : blocks.size;
        const start = asRecord(event.content_block);
        blocks.set(index, newBlock(index, start === undefined ? {} : { ...start }));
        break;
      }
      case 'content_block_delta': {
        const delta = asRecord(event.delta);
        if (delta === undefined) break;
        const block = blockAt(typeof event.index === 'number' ? event.index : 0, delta.type);
        const kind = typeof delta.type === 'string' ? STRING_DELTAS[delta.type] : undefined;
        if (kind !== undefined) {
          const value = delta[kind.key];
          if (typeof value !== 'string') break;
          append(block, kind.field, value);
          const template = templateOf(data, event, delta, kind.key, block, kind.field);
          if (template !== undefined) {
            templates.unshift(template);
            if (templates.length > TEMPLATES_MAX) templates.pop();
          }
        } else if (delta.type === 'citations_delta' && delta.citation !== undefined) {
          if (block.citations === undefined) block.citations = [];
          block.citations.push(delta.citation);
        }
        break;
      }
      case 'message_delta': {
        const delta = asRecord(event.delta);
        head ??= {};
        if (delta !== undefined) for (const key in delta) head[key] = delta[key];
        const deltaUsage = asRecord(event.usage);
        if (deltaUsage !== undefined) {
          usage ??= {};
          mergeUsage(usage, deltaUsage);
        }
        break;
      }
      case 'message_stop':
        done = true;
        break;
      case 'error':
        error = event.error ?? event;
        break;
      default:
        // ping, content_block_stop and events yet to come: nothing to keep.
        if (type === undefined && event.error !== undefined) error = event.error;
        break;
    }
  }

  let message: Record<string, unknown> | undefined;
  if (head !== undefined || blocks.size > 0) {
    // Anthropic's key order (id, type, role, model first), whatever message_start held.
    message = { id: undefined, type: 'message', role: 'assistant', model: undefined, ...head };
    if (message.id === undefined) delete message.id;
    if (message.model === undefined) delete message.model;
    message.content = [...blocks.values()].sort((a, b) => a.index - b.index).map(finishBlock);
    if (message.stop_reason === undefined) message.stop_reason = null;
    if (message.stop_sequence === undefined) message.stop_sequence = null;
    if (usage !== undefined) message.usage = usage;
  }
  return { completion: message, usage, error, done };
}
