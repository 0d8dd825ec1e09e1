// Reads an OpenAI chat.completion.chunk stream for a dialect that writes one output at a time
// (Anthropic's content blocks, the Responses API's output items). An OpenAI-compatible server may
// interleave the argument fragments of parallel tool calls, or start a call before the previous
// one's name arrived, so one segment is live at a time and everything else waits in arrival order:
// text, refusal and reasoning can close whenever something else needs the floor, a tool call only
// once its arguments form a whole JSON value (or the answer ends). No fragment is lost, merged
// with another call's or reordered, however the upstream splits or interleaves them. The dialect's
// writer (a ChatStreamSink) turns open / delta / close into its own events.
import { isRecord } from '../json-guards.js';
import { type SseEvent, SseParser } from '../streaming/sse-parser.js';
import { reasoningTextOf } from './chat-hub.js';
import { chatToolSignature } from './tool-use-id.js';

type Json = Record<string, unknown>;

export interface TextSegment {
  kind: 'text' | 'reasoning' | 'refusal';
  /** Deltas received while the segment waited for the floor. */
  pending: string[];
}

export interface ToolSegment {
  kind: 'tool';
  id: string | undefined;
  name: string | undefined;
  /** Gemini's thoughtSignature on the call, carried in the client's call id (tool-use-id.ts). */
  signature: string | undefined;
  /** Every argument fragment so far, joined: whether it is a whole JSON value yet. */
  text: string;
  pending: string[];
  closed: boolean;
}

export type Segment = TextSegment | ToolSegment;

/** What the stream said besides its segments. */
export interface ChatStreamState {
  /** The last `usage` object seen (chunks before it hold none). */
  usage: unknown;
  finishReason: unknown;
  sawToolCall: boolean;
  /** The model refused (a `refusal` delta). */
  refused: boolean;
}

export interface ChatStreamSink {
  /** The first chunk arrived (its id), or the stream ended before any did (undefined). */
  start(chatId: unknown, state: ChatStreamState): void;
  open(segment: Segment): void;
  delta(segment: Segment, text: string): void;
  close(segment: Segment): void;
  /** [DONE] or the end of the body: every segment is closed. Called once, never after fail. */
  finish(state: ChatStreamState): void;
  /** An error event in the stream: nothing follows it. */
  fail(error: Json): void;
}

export interface ChatStreamReaderOptions {
  /** Refusal text joins the text segments (a dialect with no refusal part of its own). */
  refusalAsText?: boolean;
}

function isWholeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export class ChatStreamReader {
  private readonly parser = new SseParser();
  private started = false;
  /** The sink finished or failed: nothing more is read. */
  private ended = false;
  private live: Segment | undefined;
  private readonly queue: Segment[] = [];
  /** OpenAI tool-call index → the call now holding it. */
  private readonly calls = new Map<number, ToolSegment>();
  private readonly state: ChatStreamState = {
    usage: undefined,
    finishReason: null,
    sawToolCall: false,
    refused: false,
  };

  constructor(
    private readonly sink: ChatStreamSink,
    private readonly options: ChatStreamReaderOptions = {},
  ) {}

  push(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) this.handle(event);
  }

  end(): void {
    for (const event of this.parser.end()) this.handle(event);
    this.finish();
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
      this.ended = true;
      this.sink.fail(data.error);
      return;
    }
    if (isRecord(data.usage)) this.state.usage = data.usage;
    this.start(data.id);
    const choices = Array.isArray(data.choices) ? data.choices : [];
    for (const choice of choices) {
      if (!isRecord(choice) || (choice.index !== undefined && choice.index !== 0)) continue;
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const reasoning = reasoningTextOf(delta);
      if (reasoning !== undefined) this.text('reasoning', reasoning);
      if (typeof delta.content === 'string' && delta.content !== '') this.text('text', delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        this.state.refused = true;
        this.text(this.options.refusalAsText ? 'text' : 'refusal', delta.refusal);
      }
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) this.toolFragment(call);
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
        this.state.finishReason = choice.finish_reason;
        this.flushAll();
      }
    }
  }

  private start(chatId: unknown): void {
    if (this.started) return;
    this.started = true;
    this.sink.start(chatId, this.state);
  }

  private text(kind: TextSegment['kind'], text: string): void {
    const live = this.live;
    if (live !== undefined && live.kind === kind && this.queue.length === 0) {
      this.sink.delta(live, text);
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
      this.state.sawToolCall = true;
    }
    call.id ??= id;
    call.signature ??= chatToolSignature(fragment);
    if (call.name === undefined && typeof fn.name === 'string' && fn.name !== '') call.name = fn.name;
    const args = fn.arguments;
    if (typeof args === 'string' && args !== '' && !call.closed) {
      call.text += args;
      if (this.live === call) this.sink.delta(call, args);
      else call.pending.push(args);
    }
    // A fragment for a call already closed can only follow a whole JSON value: the upstream's
    // arguments were not valid JSON, and there is no output left to put it in.
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
        if (live.kind === 'tool' && !isWholeJson(live.text)) return;
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
    this.live = segment;
    this.sink.open(segment);
    const pending = segment.pending;
    segment.pending = [];
    for (const piece of pending) this.sink.delta(segment, piece);
  }

  private close(): void {
    const live = this.live;
    if (live === undefined) return;
    if (live.kind === 'tool') live.closed = true;
    this.live = undefined;
    this.sink.close(live);
  }

  private finish(): void {
    if (this.ended) return;
    this.start(undefined);
    this.flushAll();
    this.ended = true;
    this.sink.finish(this.state);
  }
}
