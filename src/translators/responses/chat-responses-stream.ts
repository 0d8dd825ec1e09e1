// OpenAI chat.completion.chunk SSE → the Responses API's event stream: response.created and
// response.in_progress, then one output item at a time (reasoning: summary part and text deltas;
// message: content part, output_text or refusal deltas; function_call: argument deltas), each
// added, filled and done, then response.completed (or response.incomplete when the answer was cut
// short, response.failed when the upstream's stream failed). Every event carries a
// sequence_number from 0. The shared chat stream reader (chat-stream-reader.ts) hands over one
// segment at a time, holding interleaved tool-call fragments until their call may end.
import { sseEvent } from '../../streaming/sse-writer.js';
import {
  ChatStreamReader,
  type ChatStreamSink,
  type ChatStreamState,
  type Segment,
} from '../chat-stream-reader.js';
import type { BuildContext } from '../types.js';
import type { ResultStreamTranslator } from '../via-chat.js';
import { callIdOf } from './chat-responses-response.js';
import {
  functionCallItem,
  incompleteReasonOf,
  messageItem,
  outputTextPart,
  reasoningItem,
  refusalPart,
  responseIdentityOf,
  responseObject,
  responsesUsageOf,
} from './response-object.js';
import type { Json } from './responses-types.js';

/** The output item being written. */
interface OpenItem {
  segment: Segment;
  id: string;
  index: number;
  text: string;
  /** function_call only. */
  callId: string;
  name: string;
}

export class ChatToResponsesStream implements ResultStreamTranslator, ChatStreamSink {
  private readonly reader = new ChatStreamReader(this);
  private readonly hex: string;
  private sequence = 0;
  private started = false;
  /** The reader's state, read when an item closes (a cut-short answer's message is incomplete). */
  private state: ChatStreamState | undefined;
  private readonly output: Json[] = [];
  private current: OpenItem | undefined;
  private calls = 0;
  private final: Json | undefined;
  private out = '';

  constructor(private readonly ctx: BuildContext) {
    this.hex = responseIdentityOf(ctx).hex;
  }

  push(chunk: Buffer): Buffer | undefined {
    this.reader.push(chunk);
    return this.take();
  }

  end(): Buffer | undefined {
    this.reader.end();
    return this.take();
  }

  /** The Response object the last event carried (completed, incomplete or failed). */
  result(): unknown {
    return this.final;
  }

  private take(): Buffer | undefined {
    if (this.out === '') return undefined;
    const out = Buffer.from(this.out);
    this.out = '';
    return out;
  }

  private emit(type: string, data: Json): void {
    this.out += sseEvent(type, { type, ...data, sequence_number: this.sequence++ });
  }

  start(_chatId?: unknown, state?: ChatStreamState): void {
    this.started = true;
    this.state ??= state;
    const response = responseObject(this.ctx, { status: 'in_progress', output: [], usage: null });
    this.emit('response.created', { response });
    this.emit('response.in_progress', { response });
  }

  /** An item id: the response's hex, and the output index past the first item of a kind. */
  private itemId(prefix: string, index: number): string {
    const first = !this.output.some((item) => String(item.id).startsWith(`${prefix}_`));
    return first ? `${prefix}_${this.hex}` : `${prefix}_${this.hex}_${index}`;
  }

  open(segment: Segment): void {
    const index = this.output.length;
    const base = { segment, index, text: '', callId: '', name: '' };
    if (segment.kind === 'tool') {
      const position = this.calls++;
      const item: OpenItem = {
        ...base,
        id: `fc_${this.hex}_${position}`,
        callId: callIdOf(segment.id, segment.signature, this.hex, position),
        name: segment.name ?? '',
      };
      this.current = item;
      const added = functionCallItem(item.id, 'in_progress', item.callId, item.name, '');
      this.emit('response.output_item.added', { output_index: index, item: added });
      return;
    }
    if (segment.kind === 'reasoning') {
      const item: OpenItem = { ...base, id: this.itemId('rs', index) };
      this.current = item;
      this.emit('response.output_item.added', {
        output_index: index,
        item: reasoningItem(item.id, undefined),
      });
      this.emit('response.reasoning_summary_part.added', {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
      return;
    }
    const item: OpenItem = { ...base, id: this.itemId('msg', index) };
    this.current = item;
    this.emit('response.output_item.added', {
      output_index: index,
      item: messageItem(item.id, 'in_progress', []),
    });
    this.emit('response.content_part.added', {
      item_id: item.id,
      output_index: index,
      content_index: 0,
      part: segment.kind === 'refusal' ? refusalPart('') : outputTextPart(''),
    });
  }

  delta(_segment: Segment, text: string): void {
    const item = this.current;
    if (item === undefined) return;
    item.text += text;
    const where = { item_id: item.id, output_index: item.index };
    switch (item.segment.kind) {
      case 'tool':
        this.emit('response.function_call_arguments.delta', { ...where, delta: text });
        return;
      case 'reasoning':
        this.emit('response.reasoning_summary_text.delta', { ...where, summary_index: 0, delta: text });
        return;
      case 'refusal':
        this.emit('response.refusal.delta', { ...where, content_index: 0, delta: text });
        return;
      default:
        this.emit('response.output_text.delta', { ...where, content_index: 0, delta: text, logprobs: [] });
    }
  }

  close(): void {
    const item = this.current;
    if (item === undefined) return;
    this.current = undefined;
    const where = { item_id: item.id, output_index: item.index };
    let done: Json;
    switch (item.segment.kind) {
      case 'tool':
        this.emit('response.function_call_arguments.done', { ...where, arguments: item.text });
        done = functionCallItem(item.id, 'completed', item.callId, item.name, item.text);
        break;
      case 'reasoning': {
        const part = { type: 'summary_text', text: item.text };
        this.emit('response.reasoning_summary_text.done', { ...where, summary_index: 0, text: item.text });
        this.emit('response.reasoning_summary_part.done', { ...where, summary_index: 0, part });
        done = reasoningItem(item.id, item.text);
        break;
      }
      case 'refusal': {
        const part = refusalPart(item.text);
        this.emit('response.refusal.done', { ...where, content_index: 0, refusal: item.text });
        this.emit('response.content_part.done', { ...where, content_index: 0, part });
        done = messageItem(item.id, this.messageStatus(), [part]);
        break;
      }
      default: {
        const part = outputTextPart(item.text);
        this.emit('response.output_text.done', { ...where, content_index: 0, text: item.text, logprobs: [] });
        this.emit('response.content_part.done', { ...where, content_index: 0, part });
        done = messageItem(item.id, this.messageStatus(), [part]);
      }
    }
    this.output.push(done);
    this.emit('response.output_item.done', { output_index: item.index, item: done });
  }

  /** A message item ends `incomplete` when the answer was cut short (the reason is known by now). */
  private messageStatus(): string {
    return incompleteReasonOf(this.state?.finishReason) === undefined ? 'completed' : 'incomplete';
  }

  finish(state: ChatStreamState): void {
    const incompleteReason = incompleteReasonOf(state.finishReason);
    const response = responseObject(this.ctx, {
      status: incompleteReason === undefined ? 'completed' : 'incomplete',
      output: this.output,
      usage: responsesUsageOf(state.usage),
      ...(incompleteReason === undefined ? {} : { incompleteReason }),
    });
    this.final = response;
    this.emit(incompleteReason === undefined ? 'response.completed' : 'response.incomplete', { response });
  }

  /** The upstream's stream failed: response.failed with the error; no completed follows. */
  fail(error: Json): void {
    const code =
      typeof error.code === 'string' && error.code !== ''
        ? error.code
        : typeof error.type === 'string' && error.type !== ''
          ? error.type
          : 'server_error';
    const message = typeof error.message === 'string' ? error.message : 'The upstream stream failed.';
    // A stream that fails before its first chunk still opens with response.created: clients build
    // their snapshot from it.
    if (!this.started) this.start();
    const response = responseObject(this.ctx, {
      status: 'failed',
      output: this.output,
      usage: null,
      error: { code, message },
    });
    this.final = response;
    this.emit('response.failed', { response });
  }
}
