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
 * A content-only chunk's text split around its content string: `prefix` ends with the string's
 * opening quote, `suffix` starts with its closing one. A later payload with the same prefix and
 * suffix is the same JSON with another string in that one place, so its content is read with
 * string operations instead of a JSON.parse; most events of a stream are such chunks.
 */
interface ContentTemplate {
  prefix: string;
  suffix: string;
  acc: ChoiceAcc;
}

const DELTA_KEY = '"delta":{';
const CONTENT_KEY = '"content":"';

/** The closing quote of the string whose body starts at `from`, or -1. */
export function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i += 1;
    else if (c === 34 /* " */) return i;
  }
  return -1;
}

/** A JSON string body (between quotes), decoded; undefined when it is not one. */
export function decodeStringBody(body: string): string | undefined {
  if (body.indexOf('"') !== -1) return undefined;
  if (body.indexOf('\\') === -1) return body;
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return undefined;
  }
}

/** The template of a parsed chunk whose one choice's delta is only a role and content, if it is one. */
function templateOf(
  payload: string,
  chunk: Record<string, unknown>,
  acc: ChoiceAcc,
): ContentTemplate | undefined {
  if (chunk.usage !== undefined && chunk.usage !== null) return undefined;
  const choices = chunk.choices as unknown[];
  const choice = asRecord(choices[0]);
  const delta = asRecord(choice?.delta);
  if (choices.length !== 1 || delta === undefined || typeof delta.content !== 'string') return undefined;
  if (choice?.finish_reason !== null && choice?.finish_reason !== undefined) return undefined;
  for (const key in delta)
    if (key !== 'content' && !(key === 'role' && typeof delta.role === 'string')) return undefined;
  const deltaAt = payload.indexOf(DELTA_KEY);
  if (deltaAt === -1 || payload.indexOf(DELTA_KEY, deltaAt + 1) !== -1) return undefined;
  const keyAt = payload.indexOf(CONTENT_KEY, deltaAt);
  if (keyAt === -1) return undefined;
  const start = keyAt + CONTENT_KEY.length;
  const end = closingQuote(payload, start);
  if (end === -1 || decodeStringBody(payload.slice(start, end)) !== delta.content) return undefined;
  return { prefix: payload.slice(0, start), suffix: payload.slice(end), acc };
}

const CHOICES_KEY = '"choices":';

/**
 * The text of a chunk up to its top-level `"choices":` key, when other keys come first (OpenAI:
 * id, object, created, model, system_fingerprint). Later chunks repeat those keys as they are, so
 * a payload that starts with this text is parsed from `"choices":` on: only choices, usage and
 * error are read from chunks after the first. Not when the text names a usage or an error, which
 * must be read from every chunk.
 */
function sharedHeadOf(payload: string): string | undefined {
  const at = payload.indexOf(CHOICES_KEY);
  // Preceded by a comma: a key after others. Whether it is a top-level one is settled by the parse
  // of what follows it: `{` + the rest is one JSON object only if it closes one level, the top.
  if (at <= 1 || payload.charCodeAt(at - 1) !== 44 /* , */) return undefined;
  const head = payload.slice(0, at);
  return head.includes('"usage"') || head.includes('"error"') ? undefined : head;
}

/**
 * Parsed tails (from `"choices":` on) of chunks that carry no text, tool call or usage: a role
 * announcement, a finish reason. They are the same few texts in every stream of a provider, so
 * each is parsed once, here in the writer thread, for all streams. Read, never changed.
 */
const structuralTails: Array<{ text: string; parsed: Record<string, unknown> }> = [];
/** A few: a provider's streams have one role and one or two finish tails. */
const STRUCTURAL_TAILS_MAX = 8;
let nextTailSlot = 0;

function isStructural(tail: Record<string, unknown>): boolean {
  if ((tail.usage !== undefined && tail.usage !== null) || tail.error !== undefined) return false;
  if (!Array.isArray(tail.choices)) return false;
  for (const raw of tail.choices) {
    const delta = asRecord(asRecord(raw)?.delta);
    if (delta === undefined) continue;
    if (typeof delta.content === 'string' && delta.content !== '') return false;
    if (typeof delta.refusal === 'string' && delta.refusal !== '') return false;
    if (delta.tool_calls !== undefined) return false;
  }
  return true;
}

/** `{` + a chunk's tail, parsed (once, for a structural one); throws when it is not one object. */
function parseTail(tail: string): Record<string, unknown> | undefined {
  // Compared in place, lengths first: hashing a fresh string for a Map lookup cost about as much
  // as the parse it saved.
  for (const known of structuralTails) {
    if (known.text.length === tail.length && known.text === tail) return known.parsed;
  }
  const parsed = asRecord(JSON.parse(`{${tail}`));
  if (parsed !== undefined && isStructural(parsed)) {
    structuralTails[nextTailSlot] = { text: tail, parsed };
    nextTailSlot = (nextTailSlot + 1) % STRUCTURAL_TAILS_MAX;
  }
  return parsed;
}

/** A chunk parsed whole, or from its choices on when it repeats the first chunk's head. */
function parseChunk(payload: string, sharedHead: string | undefined): Record<string, unknown> | undefined {
  if (sharedHead !== undefined && payload.slice(0, sharedHead.length) === sharedHead) {
    try {
      return parseTail(payload.slice(sharedHead.length));
    } catch {
      // not one object from there: parsed whole below
    }
  }
  return asRecord(JSON.parse(payload));
}

/**
 * The first chunk as its head (the fields before `"choices":`) and its tail, parsed apart so that a
 * structural tail is parsed once for all streams; undefined when it does not split cleanly (then
 * it is parsed whole).
 */
function splitFirst(
  payload: string,
  sharedHead: string,
): { head: Record<string, unknown>; tail: Record<string, unknown> } | undefined {
  try {
    const head = asRecord(JSON.parse(`${sharedHead.slice(0, -1)}}`));
    const tail = parseTail(payload.slice(sharedHead.length));
    if (head === undefined || tail === undefined) return undefined;
    // A key in both parts: which value stands is the whole text's business.
    for (const key in tail) if (key in head) return undefined;
    return { head, tail };
  } catch {
    return undefined;
  }
}

/** The content of a payload that fits the template, else undefined. */
function templateContent(template: ContentTemplate, payload: string): string | undefined {
  const { prefix, suffix } = template;
  if (payload.length < prefix.length + suffix.length) return undefined;
  // Slices compared with === rather than startsWith: on a freshly decoded string V8's startsWith
  // measured ~15 times slower than a slice and a compare.
  const bodyEnd = payload.length - suffix.length;
  if (payload.slice(0, prefix.length) !== prefix || payload.slice(bodyEnd) !== suffix) return undefined;
  return decodeStringBody(payload.slice(prefix.length, bodyEnd));
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
  let template: ContentTemplate | undefined;
  let sharedHead: string | undefined;

  for (const data of dataPayloads(whole.toString('utf8'))) {
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    if (template !== undefined) {
      const content = templateContent(template, data);
      if (content !== undefined) {
        template.acc.content = (template.acc.content ?? '') + content;
        continue;
      }
    }
    let chunk: Record<string, unknown> | undefined;
    let firstHead: Record<string, unknown> | undefined;
    let firstShared: string | undefined;
    try {
      if (head === undefined) {
        firstShared = sharedHeadOf(data);
        const split = firstShared === undefined ? undefined : splitFirst(data, firstShared);
        firstHead = split?.head;
        chunk = split === undefined ? asRecord(JSON.parse(data)) : split.tail;
      } else {
        chunk = parseChunk(data, sharedHead);
      }
    } catch {
      // a payload that is not JSON carries nothing to assemble
    }
    if (chunk === undefined) continue;
    if (chunk.error !== undefined) {
      error = chunk.error;
      continue;
    }
    if (head === undefined) {
      head = firstHead ?? chunk;
      sharedHead = firstShared;
    }
    if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) continue;
    let last: ChoiceAcc | undefined;
    for (const rawChoice of chunk.choices) {
      const choice = asRecord(rawChoice);
      if (choice === undefined) continue;
      last = choiceAcc(choices, typeof choice.index === 'number' ? choice.index : 0);
      const delta = asRecord(choice.delta);
      if (delta !== undefined) applyDelta(last, delta);
      if (typeof choice.finish_reason === 'string') last.finishReason = choice.finish_reason;
    }
    if (last !== undefined) template = templateOf(data, chunk, last) ?? template;
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
