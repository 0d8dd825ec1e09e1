// OpenAI chat.completion.chunk SSE → Anthropic Messages SSE (message_start, content blocks,
// message_delta, message_stop). Anthropic's blocks never interleave: the shared chat stream reader
// (chat-stream-reader.ts) hands over one segment at a time, holding interleaved tool-call
// fragments until their call may end, and each segment becomes one content block.
import { sseEvent } from '../../streaming/sse-writer.js';
import {
  ChatStreamReader,
  type ChatStreamSink,
  type ChatStreamState,
  type Segment,
} from '../chat-stream-reader.js';
import { toolUseIdOf } from '../tool-use-id.js';
import type { BuildContext, StreamTranslator } from '../types.js';
import { clientModelOf, messageIdOf, messagesUsageOf, stopReasonOf } from './chat-messages-response.js';
import type { Json } from './messages-types.js';

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

export class ChatToMessagesStream implements StreamTranslator, ChatStreamSink {
  private readonly reader = new ChatStreamReader(this, { refusalAsText: true });
  private readonly model: string;
  private messageId = '';
  private nextIndex = 0;
  /** The open block's index. */
  private index = 0;
  private out = '';

  constructor(ctx: BuildContext) {
    this.model = clientModelOf(ctx);
  }

  push(chunk: Buffer): Buffer | undefined {
    this.reader.push(chunk);
    return this.take();
  }

  end(): Buffer | undefined {
    this.reader.end();
    return this.take();
  }

  private take(): Buffer | undefined {
    if (this.out === '') return undefined;
    const out = Buffer.from(this.out);
    this.out = '';
    return out;
  }

  private emit(name: string, data: Json): void {
    this.out += sseEvent(name, data);
  }

  start(chatId: unknown, state: ChatStreamState): void {
    this.messageId = messageIdOf(chatId);
    const message = {
      id: this.messageId,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: messagesUsageOf(state.usage),
    };
    this.emit('message_start', { type: 'message_start', message });
    this.emit('ping', { type: 'ping' });
  }

  open(segment: Segment): void {
    const index = this.nextIndex++;
    this.index = index;
    let block: Json;
    if (segment.kind === 'tool') {
      block = {
        type: 'tool_use',
        id: toolUseIdOf(segment.id ?? `toolu_${this.messageId.slice(4)}_${index}`, segment.signature),
        name: segment.name ?? '',
        input: {},
      };
    } else if (segment.kind === 'reasoning') block = { type: 'thinking', thinking: '', signature: '' };
    else block = { type: 'text', text: '' };
    this.emit('content_block_start', { type: 'content_block_start', index, content_block: block });
  }

  delta(segment: Segment, text: string): void {
    const delta =
      segment.kind === 'tool'
        ? { type: 'input_json_delta', partial_json: text }
        : segment.kind === 'reasoning'
          ? { type: 'thinking_delta', thinking: text }
          : { type: 'text_delta', text };
    this.emit('content_block_delta', { type: 'content_block_delta', index: this.index, delta });
  }

  close(): void {
    this.emit('content_block_stop', { type: 'content_block_stop', index: this.index });
  }

  /** [DONE] or the end of the body: stop reason, usage and message_stop. */
  finish(state: ChatStreamState): void {
    const stopReason = state.refused ? 'refusal' : stopReasonOf(state.finishReason, state.sawToolCall);
    this.emit('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: messagesUsageOf(state.usage),
    });
    this.emit('message_stop', { type: 'message_stop' });
  }

  /** An OpenAI error event mid-stream: Anthropic's error event ends the stream, no message_stop. */
  fail(error: Json): void {
    const type = typeof error.type === 'string' && ERROR_TYPES.has(error.type) ? error.type : 'api_error';
    const message = typeof error.message === 'string' ? error.message : 'The upstream stream failed.';
    this.emit('error', { type: 'error', error: { type, message } });
  }
}

export function createChatToMessagesStream(ctx: BuildContext): StreamTranslator {
  return new ChatToMessagesStream(ctx);
}
