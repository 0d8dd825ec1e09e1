// OpenAI chat.completion.chunk SSE → Anthropic Messages SSE (message_start, content blocks,
// message_delta, message_stop). Anthropic's blocks never interleave, but an OpenAI-compatible
// server may interleave the argument fragments of parallel tool calls, or start a call before
// the previous one's name arrived. So one block is live at a time and everything else waits in
// arrival order: text and thinking can close whenever something else needs the floor, a tool call
// only once its arguments form a whole JSON value (or the answer ends). No fragment is lost,
// merged with another call's or reordered, however the upstream splits or interleaves them.
import { isRecord } from '../../json-guards.js';
import { type SseEvent, SseParser } from '../../streaming/sse-parser.js';
import { sseEvent } from '../../streaming/sse-writer.js';
import type { BuildContext, StreamTranslator } from '../types.js';
import {
  clientModelOf,
  messageIdOf,
  messagesUsageOf,
  reasoningTextOf,
  stopReasonOf,
} from './chat-messages-response.js';
import type { Json } from './messages-types.js';
import { chatToolSignature, toolUseIdOf } from './tool-use-id.js';

interface TextSegment {
  kind: 'text' | 'thinking';
  /** Deltas received while the segment waited for the floor. */
  pending: string[];
}

interface ToolSegment {
  kind: 'tool';
  id: string | undefined;
  name: string | undefined;
  /** Gemini's thoughtSignature on the call, carried in the tool_use id (tool-use-id.ts). */
  signature: string | undefined;
  /** Every argument fragment so far, joined: whether it is a whole JSON value yet. */
  text: string;
  pending: string[];
  closed: boolean;
}

type Segment = TextSegment | ToolSegment;

/** Anthropic's error types; an upstream's other types become api_error. */
const ERROR_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
]);

function isWholeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export class ChatToMessagesStream implements StreamTranslator {
  private readonly parser = new SseParser();
  private readonly model: string;
  private messageId = '';
  private started = false;
  /** message_stop or an error event went out: nothing more is written. */
  private ended = false;
  private nextIndex = 0;
  private live: { segment: Segment; index: number } | undefined;
  private readonly queue: Segment[] = [];
  /** OpenAI tool-call index → the call now holding it. */
  private readonly calls = new Map<number, ToolSegment>();
  private sawToolCall = false;
  private refused = false;
  private finishReason: unknown = null;
  private usage: unknown;
  private out = '';

  constructor(ctx: BuildContext) {
    this.model = clientModelOf(ctx);
  }

  push(chunk: Buffer): Buffer | undefined {
    return this.render(this.parser.push(chunk), false);
  }

  end(): Buffer | undefined {
    return this.render(this.parser.end(), true);
  }

  private render(events: SseEvent[], last: boolean): Buffer | undefined {
    for (const event of events) this.handle(event);
    if (last) this.finish();
    if (this.out === '') return undefined;
    const out = Buffer.from(this.out);
    this.out = '';
    return out;
  }

  private emit(name: string, data: Json): void {
    this.out += sseEvent(name, data);
  }

  private handle(event: SseEvent): void {
    if (this.ended) return;
    if (event.data === '[DONE]') {
      this.finish();
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // Not JSON and not [DONE]: nothing a client could use.
    }
    if (!isRecord(data)) return;
    if (isRecord(data.error)) {
      this.fail(data.error);
      return;
    }
    if (isRecord(data.usage)) this.usage = data.usage;
    this.start(data.id);
    const choices = Array.isArray(data.choices) ? data.choices : [];
    for (const choice of choices) {
      if (!isRecord(choice) || (choice.index !== undefined && choice.index !== 0)) continue;
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const reasoning = reasoningTextOf(delta);
      if (reasoning !== undefined) this.text('thinking', reasoning);
      if (typeof delta.content === 'string' && delta.content !== '') this.text('text', delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        this.refused = true;
        this.text('text', delta.refusal);
      }
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) this.toolFragment(call);
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
        this.finishReason = choice.finish_reason;
        this.flushAll();
      }
    }
  }

  private start(chatId: unknown): void {
    if (this.started) return;
    this.started = true;
    this.messageId = messageIdOf(chatId);
    const message = {
      id: this.messageId,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: messagesUsageOf(this.usage),
    };
    this.emit('message_start', { type: 'message_start', message });
    this.emit('ping', { type: 'ping' });
  }

  private text(kind: TextSegment['kind'], text: string): void {
    const live = this.live;
    if (live !== undefined && live.segment.kind === kind && this.queue.length === 0) {
      this.delta(live.index, kind, text);
      return;
    }
    const tail = this.queue.at(-1);
    if (tail !== undefined && tail.kind === kind) tail.pending.push(text);
    else this.queue.push({ kind, pending: [text] });
    this.schedule();
  }

  private toolFragment(fragment: unknown): void {
    if (!isRecord(fragment)) return;
    const index = typeof fragment.index === 'number' ? fragment.index : 0;
    const fn = isRecord(fragment.function) ? fragment.function : {};
    const id = typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : undefined;
    let call = this.calls.get(index);
    // A new id at a known index is a new call: some servers number every parallel call 0.
    if (call === undefined || (id !== undefined && call.id !== undefined && id !== call.id)) {
      call = {
        kind: 'tool',
        id,
        name: undefined,
        signature: undefined,
        text: '',
        pending: [],
        closed: false,
      };
      this.calls.set(index, call);
      this.queue.push(call);
      this.sawToolCall = true;
    }
    call.id ??= id;
    call.signature ??= chatToolSignature(fragment);
    if (call.name === undefined && typeof fn.name === 'string' && fn.name !== '') call.name = fn.name;
    const args = fn.arguments;
    if (typeof args === 'string' && args !== '' && !call.closed) {
      call.text += args;
      if (this.live?.segment === call) this.delta(this.live.index, 'tool', args);
      else call.pending.push(args);
    }
    // A fragment for a call already closed can only follow a whole JSON value: the upstream's
    // arguments were not valid JSON, and there is no block left to put it in.
    this.schedule();
  }

  /** Gives the floor to the next waiting segment when the live one may end. */
  private schedule(): void {
    for (;;) {
      const head = this.queue[0];
      if (head === undefined) return;
      if (head.kind === 'tool' && head.name === undefined) return;
      const live = this.live;
      if (live !== undefined) {
        if (live.segment.kind === 'tool' && !isWholeJson(live.segment.text)) return;
        this.close();
      }
      this.queue.shift();
      this.open(head);
    }
  }

  /** The answer is over: every waiting segment goes out in order. */
  private flushAll(): void {
    for (;;) {
      const head = this.queue.shift();
      if (head === undefined) break;
      if (this.live !== undefined) this.close();
      this.open(head);
    }
    if (this.live !== undefined) this.close();
  }

  private open(segment: Segment): void {
    const index = this.nextIndex++;
    this.live = { segment, index };
    let block: Json;
    if (segment.kind === 'tool') {
      block = {
        type: 'tool_use',
        id: toolUseIdOf(segment.id ?? `toolu_${this.messageId.slice(4)}_${index}`, segment.signature),
        name: segment.name ?? '',
        input: {},
      };
    } else if (segment.kind === 'thinking') block = { type: 'thinking', thinking: '', signature: '' };
    else block = { type: 'text', text: '' };
    this.emit('content_block_start', { type: 'content_block_start', index, content_block: block });
    for (const piece of segment.pending) this.delta(index, segment.kind, piece);
    segment.pending = [];
  }

  private close(): void {
    const live = this.live;
    if (live === undefined) return;
    if (live.segment.kind === 'tool') live.segment.closed = true;
    this.emit('content_block_stop', { type: 'content_block_stop', index: live.index });
    this.live = undefined;
  }

  private delta(index: number, kind: Segment['kind'], text: string): void {
    const delta =
      kind === 'text'
        ? { type: 'text_delta', text }
        : kind === 'thinking'
          ? { type: 'thinking_delta', thinking: text }
          : { type: 'input_json_delta', partial_json: text };
    this.emit('content_block_delta', { type: 'content_block_delta', index, delta });
  }

  /** [DONE] or the end of the body: the blocks close, then stop reason, usage and message_stop. */
  private finish(): void {
    if (this.ended) return;
    this.start(undefined);
    this.flushAll();
    const stopReason = this.refused ? 'refusal' : stopReasonOf(this.finishReason, this.sawToolCall);
    this.emit('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: messagesUsageOf(this.usage),
    });
    this.emit('message_stop', { type: 'message_stop' });
    this.ended = true;
  }

  /** An OpenAI error event mid-stream: Anthropic's error event ends the stream, no message_stop. */
  private fail(error: Json): void {
    const type = typeof error.type === 'string' && ERROR_TYPES.has(error.type) ? error.type : 'api_error';
    const message = typeof error.message === 'string' ? error.message : 'The upstream stream failed.';
    this.emit('error', { type: 'error', error: { type, message } });
    this.ended = true;
  }
}

export function createChatToMessagesStream(ctx: BuildContext): StreamTranslator {
  return new ChatToMessagesStream(ctx);
}
